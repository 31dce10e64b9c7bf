// OSTD's `mm/page_table/mod.rs` (asterinas/asterinas, ostd/src/mm/page_table/mod.rs), re-written
// for kmiri: the generic page table over a `PageTableConfig`, the architecture-neutral PTE scalar,
// the atomic PTE accesses (PR #1822: every PTE is read and written with atomics, since the MMU
// and lock-free walkers read them concurrently), and the software page walk.
//
// Rust's generics become values: a `PageTableConfig` is an object carrying the constants, the
// `PteTrait` implementation `E`, the paging constants `C` and the item conversions; a `PageTable`
// keeps its config. PTEs are `usize`s, numbers here (Mirch entries stay below 2^53).
import { AtomicUsize, assert, assert_eq, panic, ptr_from_exposed, unreachable, type Ref } from "kmiri/rt";
import { activate_page_table, current_page_table_paddr, paddr_to_vaddr, type Paddr, type Vaddr } from "../../arch/mm.js";
import type { PagingLevel } from "../../arch/page_table.js";
import { disable_preempt } from "../../sync/preempt.js";
import type { PageProperty } from "./page_prop.js";
import { PageTableNode, PageTableNodeRef, type PteStateRef } from "./node/index.js";
import { Cursor, CursorMut } from "./cursor/index.js";
import { rcu_read_side_fence } from "./rcu_drop.js";

export type { Paddr, Vaddr, PagingLevel };

/** A half-open range `start..end` (Rust's `Range<usize>`). */
export interface Range {
  readonly start: number;
  readonly end: number;
}

/** `start..end`. */
export function range(start: number, end: number): Range {
  return { start, end };
}

/** Rust's `Range::len`. */
export function range_len(r: Range): number {
  return r.end - r.start;
}

/** Errors of the page-table API. */
export type PageTableError =
  | { kind: "InvalidVaddrRange"; start: Vaddr; end: Vaddr }
  | { kind: "InvalidVaddr"; va: Vaddr }
  | { kind: "UnalignedVaddr" };

/** `Result<T, PageTableError>`. */
export type PtResult<T> = { ok: true; value: T } | { ok: false; error: PageTableError };

/** `Result::expect`. */
export function expect<T>(r: PtResult<T>, msg: string): T {
  if (!r.ok) panic(`${msg}: ${JSON.stringify(r.error)}`);
  return r.value;
}

/** `Result::unwrap`. */
export function unwrap<T>(r: PtResult<T>): T {
  return expect(r, "called `Result::unwrap()` on an `Err` value");
}

/** OSTD's `PagingConstsTrait`. */
export interface PagingConstsTrait {
  readonly BASE_PAGE_SIZE: number;
  readonly NR_LEVELS: PagingLevel;
  readonly HIGHEST_TRANSLATION_LEVEL: PagingLevel;
  readonly PTE_SIZE: number;
  readonly ADDRESS_WIDTH: number;
  readonly VA_SIGN_EXT: boolean;
}

/**
 * The scalar representation of a PTE: architecture-neutral, a plain value that owns nothing.
 */
export type PteScalar =
  | { readonly kind: "Absent" }
  | { readonly kind: "PageTable"; readonly paddr: Paddr; readonly flags: number }
  | { readonly kind: "Mapped"; readonly paddr: Paddr; readonly prop: PageProperty };

/** `PteScalar` equality (`#[derive(PartialEq)]`). */
export function pte_scalar_eq(a: PteScalar, b: PteScalar): boolean {
  if (a.kind === "Absent" || b.kind === "Absent") return a.kind === b.kind;
  if (a.kind === "PageTable") return b.kind === "PageTable" && a.paddr === b.paddr && a.flags === b.flags;
  return (
    b.kind === "Mapped" &&
    a.paddr === b.paddr &&
    a.prop.flags === b.prop.flags &&
    a.prop.cache === b.prop.cache &&
    a.prop.priv_flags === b.prop.priv_flags
  );
}

/**
 * OSTD's `PteTrait`: an architecture's PTE, a `usize` that encodes a `PteScalar`.
 *
 * # Safety (of an implementation): `to_repr(from_repr(r, l), l)` is `r`, and 0 is absent.
 */
export interface PteTrait {
  from_repr(repr: PteScalar, level: PagingLevel): number;
  /** The level must be the entry's; otherwise the result means nothing. */
  to_repr(pte: number, level: PagingLevel): PteScalar;
  /** `FromZeros::new_zeroed`. */
  new_zeroed(): number;
}

/**
 * OSTD's `PageTableConfig`: what a page table manages (its top-level index range), the PTE format
 * and paging constants, and the item it maps with the item's raw conversions.
 *
 * # Safety (of an implementation): `item_raw_info` returns what `item_into_raw` would;
 * `item_from_raw` of what `item_into_raw` gave (or a split or coalesced part of it, AVAIL1 kept)
 * restores the item's ownership exactly; `item_ref_from_raw` is a pure function of its arguments.
 */
export interface PageTableConfig<Item = any, ItemRef = any> {
  /** The config's name (the Rust type's). */
  readonly name: string;
  /** The index range this table manages in the top-level node. */
  readonly TOP_LEVEL_INDEX_RANGE: Range;
  /** Whether top-level entries may be removed (not for the kernel's shared second-level nodes). */
  readonly TOP_LEVEL_CAN_UNMAP: boolean;
  /** The PTE type. */
  readonly E: PteTrait;
  /** The paging constants. */
  readonly C: PagingConstsTrait;
  /** The item's physical address, level and property. */
  item_raw_info(item: Item): [Paddr, PagingLevel, PageProperty];
  /** Consumes the item (it is forgotten) into its raw form. */
  item_into_raw(item: Item): [Paddr, PagingLevel, PageProperty];
  /** UNSAFE. Restores an item from its raw form (see the safety contract above). */
  item_from_raw(paddr: Paddr, level: PagingLevel, prop: PageProperty): Item;
  /** UNSAFE. A reference to the item of a raw form, not outliving the item. */
  item_ref_from_raw(paddr: Paddr, level: PagingLevel, prop: PageProperty): ItemRef;
  /** Rust's drop of an `Item`. */
  drop_item(item: Item): void;
}

/** The item type of a config. */
export type ItemOf<C> = C extends PageTableConfig<infer I, any> ? I : never;
/** The item reference type of a config. */
export type ItemRefOf<C> = C extends PageTableConfig<any, infer R> ? R : never;

// ───────────── constants derived from the paging constants ─────────────

/** `nr_subpage_per_huge::<C>()`: entries per node. */
export function nr_subpage_per_huge(C: PagingConstsTrait): number {
  return C.BASE_PAGE_SIZE / C.PTE_SIZE;
}

/** `page_size::<C>(level)`: the size a level-`level` entry covers. */
export function page_size(C: PagingConstsTrait, level: PagingLevel): number {
  return C.BASE_PAGE_SIZE * nr_subpage_per_huge(C) ** (level - 1);
}

/** `nr_pte_index_bits::<C>()`. */
function nr_pte_index_bits(C: PagingConstsTrait): number {
  return Math.log2(nr_subpage_per_huge(C));
}

/** `pte_index_bit_offset::<C>(level)`: where a level's index starts in a virtual address. */
export function pte_index_bit_offset(C: PagingConstsTrait, level: PagingLevel): number {
  return Math.log2(C.BASE_PAGE_SIZE) + nr_pte_index_bits(C) * (level - 1);
}

/** `pte_index::<C>(va, level)`: the index of `va`'s entry in a level-`level` node. */
export function pte_index(C: PagingConstsTrait, va: Vaddr, level: PagingLevel): number {
  // JavaScript's shifts are 32-bit: divide instead.
  return Math.floor(va / 2 ** pte_index_bit_offset(C, level)) % nr_subpage_per_huge(C);
}

/** `align_down`. */
export function align_down(x: number, align: number): number {
  return x - (x % align);
}

/**
 * `vaddr_range::<C>()`: the managed virtual addresses, inclusive at both ends. Mirch addresses are
 * not sign-extended; a sign-extending config whose range has the sign bit set cannot be expressed
 * in JavaScript numbers and is refused.
 */
export function vaddr_range(cfg: PageTableConfig): { start: Vaddr; end: Vaddr } {
  const C = cfg.C;
  const shift = pte_index_bit_offset(C, C.NR_LEVELS);
  const top_width = C.ADDRESS_WIDTH - shift;
  const r = cfg.TOP_LEVEL_INDEX_RANGE;
  assert(r.start < r.end);
  assert(top_width <= nr_pte_index_bits(C));
  assert(r.end <= 2 ** top_width);
  const start = r.start * 2 ** shift;
  const end = r.end * 2 ** shift - 1;
  if (C.VA_SIGN_EXT && Math.floor(start / 2 ** (C.ADDRESS_WIDTH - 1)) % 2 === 1) {
    panic("sign-extended kernel addresses are not expressible on Mirch");
  }
  return { start, end };
}

/** `is_valid_range::<C>(r)`. */
export function is_valid_range(cfg: PageTableConfig, r: Range): boolean {
  const v = vaddr_range(cfg);
  return r.start < r.end && v.start <= r.start && r.end - 1 <= v.end;
}

/**
 * `largest_pages::<C>(va, pa, len)`: splits a range into the largest items, as
 * `(paddr, level)` pairs.
 */
export function largest_pages(cfg: PageTableConfig, va: Vaddr, pa: Paddr, len: number): [Paddr, PagingLevel][] {
  const C = cfg.C;
  assert_eq(va % C.BASE_PAGE_SIZE, 0);
  assert_eq(pa % C.BASE_PAGE_SIZE, 0);
  assert_eq(len % C.BASE_PAGE_SIZE, 0);
  assert(is_valid_range(cfg, range(va, va + len)));
  const out: [Paddr, PagingLevel][] = [];
  while (len !== 0) {
    let level = C.HIGHEST_TRANSLATION_LEVEL;
    while (page_size(C, level) > len || va % page_size(C, level) !== 0 || pa % page_size(C, level) !== 0) level -= 1;
    out.push([pa, level]);
    va += page_size(C, level);
    pa += page_size(C, level);
    len -= page_size(C, level);
  }
  return out;
}

// ───────────── atomic PTE accesses ─────────────

/** The PTE at a kernel virtual address, as an atomic (`AtomicUsize::from_ptr`). */
function pte_atomic(ptr_vaddr: Vaddr): Ref<number> {
  "unsafe";
  return ptr_from_exposed(ptr_vaddr, AtomicUsize).as_ref();
}

/**
 * UNSAFE. `load_pte`: loads the PTE at `ptr_vaddr` (a kernel virtual address) atomically.
 *
 * # Safety: as `AtomicUsize::from_ptr`: the address is a live, aligned PTE that is only ever
 * accessed atomically.
 */
export function load_pte(ptr_vaddr: Vaddr, ordering: "Relaxed" | "Acquire" | "SeqCst"): number {
  "unsafe";
  return pte_atomic(ptr_vaddr).load(ordering);
}

/** UNSAFE. `store_pte`: stores a PTE atomically (the same conditions as {@link load_pte}). */
export function store_pte(ptr_vaddr: Vaddr, new_val: number, ordering: "Relaxed" | "Release" | "SeqCst"): void {
  "unsafe";
  pte_atomic(ptr_vaddr).store(new_val, ordering);
}

// ───────────── the page table ─────────────

/** A page table: its root node, which owns the tree (and, through it, the mapped items). */
export class PageTable<C extends PageTableConfig> {
  private constructor(
    readonly config: C,
    /** @internal the root node (`root: PageTableNode<C>`). */
    readonly root: PageTableNode,
  ) {}

  /** `PageTable::empty()`: a new empty table (useful for the IOMMU). */
  static empty<C extends PageTableConfig>(config: C): PageTable<C> {
    return new PageTable(config, PageTableNode.alloc(config, config.C.NR_LEVELS));
  }

  /** @internal a table around a root (the kernel and user table constructors). */
  static from_root<C extends PageTableConfig>(config: C, root: PageTableNode): PageTable<C> {
    return new PageTable(config, root);
  }

  /**
   * `activate`: makes this the current CPU's table (OSTD offers it safely for user tables, whose
   * kernel half is shared). The CPU keeps a reference to the root until another table replaces it.
   *
   * UNSAFE for other configs: the table must map the kernel as every kernel table does.
   */
  activate(): void {
    "unsafe";
    unsafe: {
      // SAFETY: the caller's promise (for a user table: the kernel mappings are shared).
      this.root.activate();
    }
  }

  /** UNSAFE. `first_activate_unchecked`: the first activation on a CPU (no previous table to drop). */
  first_activate_unchecked(): void {
    "unsafe";
    // SAFETY: upheld by the caller.
    this.root.first_activate();
  }

  /** The physical address of the root (giving it to the hardware is what is unsafe). */
  root_paddr(): Paddr {
    return this.root.paddr();
  }

  /**
   * `page_walk`: queries the mapping of one byte, as the MMU would. With cursors changing the
   * range at the same time the answer may be stale, as the MMU's would.
   */
  page_walk(vaddr: Vaddr): [Paddr, PageProperty] | null {
    unsafe: {
      // SAFETY: the root is a live page-table node.
      return page_walk(this.config, this.root_paddr(), vaddr);
    }
  }

  /** `cursor_mut(guard, va)`: a cursor that may change the mappings of `va`, which it locks. */
  cursor_mut(guard: AtomicModeGuard, va: Range): PtResult<CursorMut<C>> {
    return CursorMut.new(this, guard, va);
  }

  /** `cursor(guard, va)`: a cursor that queries `va`, which it locks. */
  cursor(guard: AtomicModeGuard, va: Range): PtResult<Cursor<C>> {
    return Cursor.new(this, guard, va);
  }

  /**
   * UNSAFE. `shallow_copy`: another handle to the same table (for IOMMU tables; never the kernel
   * table).
   */
  shallow_copy(): PageTable<C> {
    "unsafe";
    return new PageTable(this.config, this.root.clone());
  }

  /** The drop: the root's reference goes; the last one frees the tree and its items. */
  drop(): void {
    this.root.drop();
  }
}

/**
 * What a cursor needs of its guard: that the CPU is in atomic mode (an RCU read-side section),
 * so that nodes it reaches are not freed under it. OSTD's `&dyn InAtomicMode`.
 */
export interface AtomicModeGuard {
  release(): unknown;
}

/**
 * UNSAFE. `page_walk::<C>(root_paddr, vaddr)`: a software MMU walk.
 *
 * # Safety: `root_paddr` is a live root node.
 *
 * Neither the MMU nor this walk takes node locks: a node being recycled could be read after it is
 * freed. For the MMU, nodes are freed only after TLB flushes on every CPU using the table; for
 * this walk, preemption is disabled (an RCU read-side section), in which no node is freed.
 */
export function page_walk(cfg: PageTableConfig, root_paddr: Paddr, vaddr: Vaddr): [Paddr, PageProperty] | null {
  "unsafe";
  const C = cfg.C;
  const rcu_guard = disable_preempt();
  rcu_read_side_fence();
  try {
    let pt_addr = paddr_to_vaddr(root_paddr);
    for (let cur_level = C.NR_LEVELS; cur_level >= 1; cur_level--) {
      const offset = pte_index(C, vaddr, cur_level);
      // SAFETY: the node is alive (the root is, and children are not recycled inside the RCU
      // section); the index is in bounds; PTEs are aligned and only accessed atomically.
      const cur_pte = load_pte(pt_addr + offset * C.PTE_SIZE, "Acquire");
      const repr = cfg.E.to_repr(cur_pte, cur_level);
      switch (repr.kind) {
        case "Absent":
          return null;
        case "PageTable":
          pt_addr = paddr_to_vaddr(repr.paddr);
          continue;
        case "Mapped":
          assert(cur_level <= C.HIGHEST_TRANSLATION_LEVEL);
          return [repr.paddr + (vaddr % page_size(C, cur_level)), repr.prop];
      }
    }
    return unreachable("All present PTEs at the level 1 must be last-level PTEs");
  } finally {
    rcu_guard.release();
  }
}

export { activate_page_table, current_page_table_paddr };
export type { PteStateRef, PageTableNodeRef };
