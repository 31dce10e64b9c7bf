// OSTD's `mm/page_table/node/mod.rs`: page-table nodes and their lock guards.
//
// A page-table node (a "page table" in architecture manuals) is a page of PTEs pointing to child
// nodes or mapped pages. It is a frame with `PageTablePageMeta` metadata, which gives:
//  - a node is not freed while a parent node, a handle or a CPU (CR3) uses it: the frame's
//    reference count; the last reference frees the node and, through `on_drop`, its children;
//  - exclusive access to a node from its physical address alone: the lock in the metadata. It
//    excludes other kernel code only; the MMU reads PTEs while the lock is held, so a PTE is
//    written only after what it points to is initialised.
//
// On Mirch a node's page is typed `page-table` with one 8-byte allocation per PTE, and every PTE
// access is an atomic `usize` through the linear map. The metadata lives in the frame's slot at
// FRAME_METADATA_BASE: `nr_children` and `stray` are `UnsafeCell`s guarded by `lock` (an
// `AtomicU8`), so the race detector checks the lock protocol.
import { AtomicU8, assert, assert_eq, bool, cell, panic, spin_loop, struct, u16, u8, type Layout, type Ref } from "kmiri/rt";
import {
  activate_page_table, current_page_table_paddr, page_state, paddr_to_vaddr, retype_phys_pages, type Paddr, type Vaddr,
} from "../../../arch/mm.js";
import type { PagingLevel } from "../../../arch/page_table.js";
import { impl_frame_meta_for, type FrameMetaType } from "../../frame/meta.js";
import { Frame } from "../../frame/frame.js";
import { FrameAllocOptions } from "../../frame/index.js";
import { load_pte, nr_subpage_per_huge, store_pte, type AtomicModeGuard, type PageTableConfig } from "../index.js";
import { Entry } from "./entry.js";

export { Entry };
export { PteState, PteStateRef } from "./pte_state.js";

/** The value of `PageTablePageMeta` in a slot. */
export interface PageTablePageMetaV {
  /** The number of valid PTEs; changed only with the lock held. */
  nr_children: number;
  /**
   * Whether the node was detached from its parent. Nodes are recycled with RCU, so a detached
   * node may still be reached by walkers; this says its parent is recycling it.
   */
  stray: boolean;
  /** The node's level; a node is never referenced from tables of different levels. */
  level: number;
  /** The node's lock. */
  lock: number;
}

/** `PageTablePageMeta<C>`'s layout: the same for every `C`. */
export const PageTablePageMetaLayout: Layout<PageTablePageMetaV> = struct(
  "PageTablePageMeta",
  { nr_children: cell(u16), stray: cell(bool), level: u8, lock: AtomicU8 },
  { repr: "C" },
);

/** The registered metadata type of each config's nodes (Rust monomorphises one per `C`). */
const META_TYPES = new Map<PageTableConfig, FrameMetaType<PageTablePageMetaV>>();

/** `PageTablePageMeta<C>` as a frame metadata type (`AnyFrameMeta`, with its `on_drop`). */
export function PageTablePageMeta(cfg: PageTableConfig): FrameMetaType<PageTablePageMetaV> {
  let t = META_TYPES.get(cfg);
  if (t === undefined) {
    t = impl_frame_meta_for(`PageTablePageMeta<${cfg.name}>`, PageTablePageMetaLayout, {
      on_drop: (meta, reader) => page_table_meta_on_drop(cfg, meta, meta.field("level").read(), reader.cursor()),
    });
    META_TYPES.set(cfg, t);
  }
  return t;
}

// FIXME (as OSTD's): the safe node APIs let any PTE be stored in a node, so what `on_drop` finds
// need not be a valid `C::Item`; its soundness rests on the cursor's implementation.
/**
 * `<PageTablePageMeta<C> as AnyFrameMeta>::on_drop`: the last reference to a node went, so drop
 * what it owns: its child nodes and mapped items. (OSTD reads the PTEs with the frame's reader;
 * here they are read as what they are, atomics in `page-table` memory, at the reader's address:
 * the node's page in the linear map.)
 */
function page_table_meta_on_drop(cfg: PageTableConfig, meta: Ref<PageTablePageMetaV>, level: PagingLevel, node_vaddr: Vaddr): void {
  unsafe: {
    // SAFETY: we are the node's only owner (its count is 0): nothing else accesses the cell.
    if (meta.field("nr_children").get().read() === 0) return;
  }
  const r = level === cfg.C.NR_LEVELS ? cfg.TOP_LEVEL_INDEX_RANGE : { start: 0, end: nr_subpage_per_huge(cfg.C) };
  for (let i = r.start; i < r.end; i++) {
    let pte: number;
    unsafe: {
      // SAFETY: the node is alive until `on_drop` returns; the index is in bounds; PTEs are only
      // accessed atomically. (A Relaxed load suffices: we own the node exclusively.)
      pte = load_pte(node_vaddr + i * cfg.C.PTE_SIZE, "Relaxed");
    }
    const repr = cfg.E.to_repr(pte, level);
    switch (repr.kind) {
      case "PageTable":
        unsafe: {
          // SAFETY: the PTE owns a child node: the ownership comes back here and is dropped.
          PageTableNode.from_raw(cfg, repr.paddr).drop();
        }
        break;
      case "Mapped":
        unsafe: {
          // SAFETY: the PTE owns a mapped item: the ownership comes back here and is dropped.
          cfg.drop_item(cfg.item_from_raw(repr.paddr, level, repr.prop));
        }
        break;
      case "Absent":
        break;
    }
  }
}


/**
 * `PageTableNode<C>` (= `Frame<PageTablePageMeta<C>>`): an owning handle to a node. Creating and
 * dropping it changes the node's count; the last drop frees the node and its children. It is
 * read-only: lock it (`borrow().lock(guard)`) to change it.
 */
export class PageTableNode {
  private constructor(
    readonly cfg: PageTableConfig,
    private readonly frame: Frame<PageTablePageMetaV>,
  ) {}

  /** `PageTableNode::alloc(level)`: a new empty node. */
  static alloc(cfg: PageTableConfig, level: PagingLevel): PageTableNode {
    const meta = PageTablePageMeta(cfg).of({ nr_children: 0, stray: false, level, lock: 0 });
    const r = FrameAllocOptions.new().zeroed(true).alloc_frame_with(meta);
    if (!r.ok) panic(`Failed to allocate a page table node: ${String(r.error)}`);
    const frame = r.value;
    // The frame comes zeroed (every PTE absent) and untyped; it holds PTEs from now on.
    if (page_state(frame.paddr()).state === "untyped") {
      unsafe: {
        // SAFETY: the frame is ours alone, untyped, and nothing was made from it yet.
        retype_phys_pages(frame.paddr(), 1, "page-table");
      }
    }
    return new PageTableNode(cfg, frame);
  }

  /**
   * UNSAFE. `PageTableNode::from_raw`: takes back a reference forgotten with `into_raw`.
   */
  static from_raw(cfg: PageTableConfig, paddr: Paddr): PageTableNode {
    "unsafe";
    return new PageTableNode(cfg, Frame.from_raw(paddr, PageTablePageMeta(cfg)));
  }

  /** `into_raw`: forgets this reference (kept by a PTE or a CPU); its address. */
  into_raw(): Paddr {
    return this.frame.into_raw();
  }

  paddr(): Paddr {
    return this.frame.paddr();
  }

  level(): PagingLevel {
    return this.frame.meta().field("level").read();
  }

  /** `Clone`: one more reference. */
  clone(): PageTableNode {
    return new PageTableNode(this.cfg, this.frame.clone());
  }

  /** `Drop`: one reference less; the last one frees the node and its children. */
  drop(): void {
    this.frame.drop();
  }

  /** `borrow()`: a `PageTableNodeRef` (no count change). */
  borrow(): PageTableNodeRef {
    unsafe: {
      // SAFETY: the reference does not outlive this handle.
      return PageTableNodeRef.borrow_paddr(this.cfg, this.paddr());
    }
  }

  /**
   * UNSAFE. `activate`: makes this root node the current CPU's table. The CPU owns a reference to
   * the node it uses, so an active table is never freed: the new root's is taken, the previous
   * root's dropped.
   *
   * # Safety: the table maps the kernel as it must be, for the paging constants of this CPU.
   *
   * Panics if this is not a top-level node.
   */
  activate(): void {
    "unsafe";
    assert_eq(this.level(), this.cfg.C.NR_LEVELS);
    const last_activated_paddr = current_page_table_paddr();
    if (last_activated_paddr === this.paddr()) return;
    // SAFETY: upheld by the caller; Mirch checks the tree at the CR3 write.
    activate_page_table(this.clone().into_raw());
    // SAFETY: the previous root is a node whose reference the CPU held (forgotten at its own
    // activation).
    PageTableNode.from_raw(this.cfg, last_activated_paddr).drop();
  }

  /** UNSAFE. `first_activate`: as `activate`, but the previous table is not a node to drop. */
  first_activate(): void {
    "unsafe";
    // SAFETY: upheld by the caller.
    activate_page_table(this.clone().into_raw());
  }
}

/** `PageTableNodeRef<'a, C>` (= `FrameRef<PageTablePageMeta<C>>`): a borrowed node. */
export class PageTableNodeRef {
  private constructor(
    readonly cfg: PageTableConfig,
    private readonly pa: Paddr,
    private readonly meta_ref: Ref<PageTablePageMetaV>,
  ) {}

  /**
   * UNSAFE. `borrow_paddr`: a reference to the node at `paddr`.
   *
   * # Safety: the node outlives the reference (it is reached from a live node inside an RCU
   * read-side section, or borrowed from a handle).
   */
  static borrow_paddr(cfg: PageTableConfig, paddr: Paddr): PageTableNodeRef {
    "unsafe";
    const frame = Frame.from_raw(paddr, PageTablePageMeta(cfg));
    const meta = frame.meta();
    frame.forget(); // a `FrameRef`: never dropped
    return new PageTableNodeRef(cfg, paddr, meta);
  }

  paddr(): Paddr {
    return this.pa;
  }

  /** The node's metadata. */
  meta(): Ref<PageTablePageMetaV> {
    return this.meta_ref;
  }

  level(): PagingLevel {
    return this.meta_ref.field("level").read();
  }

  /**
   * `lock(guard)`: takes the node's lock. The atomic-mode guard prevents deadlocks (no sleeping
   * with the lock) and keeps the node alive (RCU) while the guard lives.
   */
  lock(_guard: AtomicModeGuard): PageTableGuard {
    const lock = this.meta_ref.field("lock");
    while (!lock.compare_exchange(0, 1, "Acquire", "Relaxed").ok) spin_loop();
    return new PageTableGuard(this);
  }

  /**
   * UNSAFE. `make_guard_unchecked`: a guard without taking the lock.
   *
   * # Safety: the caller logically holds the lock, and no other live guard of it exists (one
   * that was forgotten is fine).
   */
  make_guard_unchecked(_guard: AtomicModeGuard): PageTableGuard {
    "unsafe";
    return new PageTableGuard(this);
  }
}

/** `PageTableGuard`: a locked node. `drop()` releases the lock; `forget()` keeps it held. */
export class PageTableGuard {
  private live = true;

  constructor(readonly inner: PageTableNodeRef) {}

  get cfg(): PageTableConfig {
    return this.inner.cfg;
  }

  paddr(): Paddr {
    return this.inner.paddr();
  }

  level(): PagingLevel {
    return this.inner.level();
  }

  meta(): Ref<PageTablePageMetaV> {
    return this.inner.meta();
  }

  /** `entry(idx)`: a view of entry `idx`. Panics when `idx` is out of bounds. */
  entry(idx: number): Entry {
    assert(idx < nr_subpage_per_huge(this.cfg.C));
    unsafe: {
      // SAFETY: the index is in bounds.
      return Entry.new_at(this, idx);
    }
  }

  /** The number of valid PTEs. */
  nr_children(): number {
    unsafe: {
      // SAFETY: the lock is held: we have exclusive access to the cell.
      return this.meta().field("nr_children").get().read();
    }
  }

  /** `*nr_children_mut() += delta`. */
  add_nr_children(delta: number): void {
    unsafe: {
      // SAFETY: the lock is held: we have exclusive access to the cell.
      const p = this.meta().field("nr_children").get();
      p.write(p.read() + delta);
    }
  }

  /** `*stray_mut()`: whether the node is detached from its parent. */
  stray(): boolean {
    unsafe: {
      // SAFETY: the lock is held: we have exclusive access to the cell.
      return this.meta().field("stray").get().read();
    }
  }

  /** `*stray_mut() = v`. */
  set_stray(v: boolean): void {
    unsafe: {
      // SAFETY: the lock is held: we have exclusive access to the cell.
      this.meta().field("stray").get().write(v);
    }
  }

  /**
   * UNSAFE. `read_pte(idx)`: a non-owning copy of the PTE (the node still owns the child).
   *
   * # Safety: `idx` is in bounds.
   */
  read_pte(idx: number): number {
    "unsafe";
    assert(idx < nr_subpage_per_huge(this.cfg.C));
    // SAFETY: the node is alive and the index in bounds, so this is a PTE; PTEs are aligned and
    // only accessed atomically.
    return load_pte(paddr_to_vaddr(this.paddr()) + idx * this.cfg.C.PTE_SIZE, "Relaxed");
  }

  /**
   * UNSAFE. `write_pte(idx, pte)`: writes a PTE (leaking the old child if there was one).
   *
   * # Safety: `idx` is in bounds; `pte` is a `PteState` of this config at the node's level; the
   * node owns what it points to from now on.
   */
  write_pte(idx: number, pte: number): void {
    "unsafe";
    assert(idx < nr_subpage_per_huge(this.cfg.C));
    // SAFETY: as in `read_pte`. Release: what the PTE points to is initialised before the MMU or
    // a lock-free walker can reach it through the PTE.
    store_pte(paddr_to_vaddr(this.paddr()) + idx * this.cfg.C.PTE_SIZE, pte, "Release");
  }

  /** `Drop`: releases the lock. */
  drop(): void {
    if (!this.live) panic("a page-table guard dropped twice");
    this.live = false;
    this.meta().field("lock").store(0, "Release");
  }

  /** `ManuallyDrop::new(guard)`: the lock stays held, logically owned by the caller. */
  forget(): void {
    this.live = false;
  }
}
