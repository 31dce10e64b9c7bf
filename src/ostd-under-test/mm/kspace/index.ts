// OSTD's `mm/kspace/mod.rs` (asterinas/asterinas, ostd/src/mm/kspace/mod.rs, MPL-2.0), re-written
// for kmiri: the layout of the kernel address space, `paddr_to_vaddr`, the kernel page table
// (`KERNEL_PAGE_TABLE`, `init_kernel_page_table`, `activate_kernel_page_table`) and `KVirtArea`
// (`kvirt_area.ts`).
//
// The layout. OSTD writes its constants for a 39-bit address space and shifts them left by
// `ADDRESS_WIDTH - 39`; on x86-64 (48 bits) that gives
//
//   0xffff_ffff_ffff_0000  end of the kernel's addresses
//   0xffff_ffff_8000_0000  kernel code (1 GiB)
//   0xffff_e100_0000_0000  (a hole up to the kernel code)
//   0xffff_e000_0000_0000  frame metadata (1 TiB)
//   0xffff_c000_0000_0000  `KVirtArea`s (vmalloc, 32 TiB)
//   0xffff_8000_0000_0000  the linear map of physical memory (64 TiB, untracked)
//
// Mirch has OSTD's 48-bit layout without the sign extension (every address is a JavaScript number
// below 2^53): the same constants with the bits above bit 47 cleared. They are computed here as
// OSTD computes them and checked against the architecture's (`arch/mm.ts`) when this module loads.
//
// The kernel page table, and what differs from OSTD. OSTD builds it at boot, after the frame
// allocator (`init_kernel_page_table`), activates it on the boot CPU at once, and on every other
// CPU in that CPU's early entry (`activate_kernel_page_table`, once per CPU). On kmiri every test
// boots a fresh Machine, most tests never use the table, some check that the boot CPU still runs
// the boot page table, and a page-table node is costly to check (~15 ms: its page holds 512
// checked PTE allocations). So:
//  - the boot step (`kernel_page_table_boot_step`, in `./boot.ts`; listed in `BOOT_STEPS`) only
//    records what the table will be built from (the metadata pages, the kernel image's region);
//  - the table is built LAZILY, by the first CPU that asks for it (others wait: a `spin::Once`),
//    with the nodes its mappings need (a few, ~0.2 s checked); the other shared second-level
//    nodes that OSTD's `new_kernel_page_table` makes up front (~4 s checked for 256) are made only
//    by `KERNEL_PAGE_TABLE.get()`. `KVirtArea`s use `KERNEL_PAGE_TABLE.get_for_kernel()`, and
//    `KERNEL_PAGE_TABLE.create_user_page_table()` makes user tables cheaply (see
//    `KernelPageTableHolder` for why that is sound);
//  - the accessors make the table take over on the calling CPU if that CPU still runs the boot
//    page table (what OSTD does at boot on every CPU). A CPU that reaches `KVirtArea` addresses
//    without calling one (a spawned thread that only reads an area another CPU made) calls
//    `activate_kernel_page_table()` first, as OSTD's `ap_early_entry` does.
// On Mirch the linear map and the kernel image are resolved without page tables, so their leaves
// in the kernel table matter for its form, `page_walk` and `query`; vmalloc and metadata addresses
// are translated through the current CPU's table and TLB.
import { AtomicU8, assert, panic, spin_loop, static_, type Value } from "kmiri/rt";
import {
  FRAME_METADATA_BASE_VADDR as ARCH_FRAME_METADATA_BASE_VADDR, FRAME_METADATA_CAP_VADDR as ARCH_FRAME_METADATA_CAP_VADDR,
  KERNEL_BASE_VADDR as ARCH_KERNEL_BASE_VADDR, KERNEL_CODE_BASE_VADDR as ARCH_KERNEL_CODE_BASE_VADDR,
  LINEAR_MAPPING_BASE_VADDR as ARCH_LINEAR_MAPPING_BASE_VADDR, MAX_USERSPACE_VADDR as ARCH_MAX_USERSPACE_VADDR,
  PAGE_SIZE, VMALLOC_BASE_VADDR as ARCH_VMALLOC_BASE_VADDR, boot_page_table_paddr, current_page_table_paddr,
  tlb_flush_all_including_global, type Paddr, type Vaddr,
} from "../../arch/mm.js";
import { KERNEL_END_VADDR as ARCH_KERNEL_END_VADDR } from "../../arch/io.js";
import { PageTableEntry, PagingConsts, type PagingLevel } from "../../arch/page_table.js";
import { kernel_page_table_boot_step, kernel_pt_boot_info, type KernelPtBootInfo } from "./boot.js";
import { disable_preempt, type DisabledPreemptGuard } from "../../sync/preempt.js";
import { Segment } from "../frame/segment.js";
import { MetaPageMeta, frame_to_meta, max_paddr } from "../frame/meta.js";
import { KernelPtConfig, MappedItem, UserPtConfig, share_kernel_top_level, type MappedItemRef } from "../page_table/configs.js";
import { PageTable, largest_pages, page_size, pte_index, pte_index_bit_offset, range, type Range } from "../page_table/index.js";
import type { PageTableGuard } from "../page_table/node/index.js";
import { CachePolicy, PageFlags, PrivilegedPageFlags, type PageProperty } from "../page_table/page_prop.js";

export { KernelPtConfig, MappedItem, kernel_page_table_boot_step, type MappedItemRef };
export type { Range };

// ───────────────────────────── the layout ─────────────────────────────

/** The shortest address width OSTD supports is 39 bits; its constants are written for it. */
assert(PagingConsts.ADDRESS_WIDTH >= 39);
const ADDR_WIDTH_SHIFT = PagingConsts.ADDRESS_WIDTH - 39;

/**
 * An OSTD layout constant: its value for 39 bits (without the sign-extension bits, which Mirch
 * does not have), shifted left by `ADDR_WIDTH_SHIFT` (a multiplication: JavaScript's shifts are
 * 32-bit).
 */
function shifted(value_39: number): Vaddr {
  return value_39 * 2 ** ADDR_WIDTH_SHIFT;
}

/** The start of the kernel address space (OSTD: `0xffff_ffc0_0000_0000 << shift`). */
export const KERNEL_BASE_VADDR: Vaddr = shifted(0x40_0000_0000);
/** The end of the kernel address space, exclusive (OSTD: `0xffff_ffff_ffff_0000`). */
export const KERNEL_END_VADDR: Vaddr = 2 ** PagingConsts.ADDRESS_WIDTH - 0x1_0000;
/** The end of user space, exclusive; the top page is left out, as on x86 (a CPU erratum). */
export const MAX_USERSPACE_VADDR: Vaddr = shifted(0x40_0000_0000) - PAGE_SIZE;
/** The kernel's addresses. */
export const KERNEL_VADDR_RANGE: Range = range(KERNEL_BASE_VADDR, KERNEL_END_VADDR);
/** Where the kernel code is mapped, 2 GiB below the top (x86's `0xffff_ffff_8000_0000`). */
export const KERNEL_CODE_BASE_VADDR: Vaddr = 2 ** PagingConsts.ADDRESS_WIDTH - 0x8000_0000;
/** The frame-metadata area (OSTD: `0xffff_fff0_0000_0000 << shift` up to `0xffff_fff0_8000_0000 << shift`). */
export const FRAME_METADATA_BASE_VADDR: Vaddr = shifted(0x70_0000_0000);
export const FRAME_METADATA_CAP_VADDR: Vaddr = shifted(0x70_8000_0000);
export const FRAME_METADATA_RANGE: Range = range(FRAME_METADATA_BASE_VADDR, FRAME_METADATA_CAP_VADDR);
/** The `KVirtArea`s' addresses (OSTD: from `0xffff_ffe0_0000_0000 << shift` up to the metadata). */
export const VMALLOC_BASE_VADDR: Vaddr = shifted(0x60_0000_0000);
export const VMALLOC_VADDR_RANGE: Range = range(VMALLOC_BASE_VADDR, FRAME_METADATA_BASE_VADDR);
/** The linear map of all physical memory (OSTD: `0xffff_ffc0_0000_0000 << shift`). */
export const LINEAR_MAPPING_BASE_VADDR: Vaddr = shifted(0x40_0000_0000);
export const LINEAR_MAPPING_VADDR_RANGE: Range = range(LINEAR_MAPPING_BASE_VADDR, VMALLOC_BASE_VADDR);

// Mirch's layout is OSTD's (its `arch` constants must agree with the ones computed above).
assert(
  KERNEL_BASE_VADDR === ARCH_KERNEL_BASE_VADDR &&
    KERNEL_END_VADDR === ARCH_KERNEL_END_VADDR &&
    MAX_USERSPACE_VADDR === ARCH_MAX_USERSPACE_VADDR &&
    KERNEL_CODE_BASE_VADDR === ARCH_KERNEL_CODE_BASE_VADDR &&
    FRAME_METADATA_BASE_VADDR === ARCH_FRAME_METADATA_BASE_VADDR &&
    FRAME_METADATA_CAP_VADDR === ARCH_FRAME_METADATA_CAP_VADDR &&
    VMALLOC_BASE_VADDR === ARCH_VMALLOC_BASE_VADDR &&
    LINEAR_MAPPING_BASE_VADDR === ARCH_LINEAR_MAPPING_BASE_VADDR,
  "Mirch's address-space layout differs from OSTD's",
);

/**
 * `paddr_to_vaddr`: the linear-map address of a physical address (OSTD asserts, in debug builds,
 * that it lies in the linear map).
 */
export function paddr_to_vaddr(pa: Paddr): Vaddr {
  assert(pa < VMALLOC_BASE_VADDR - LINEAR_MAPPING_BASE_VADDR, "the physical address is beyond the linear map");
  return pa + LINEAR_MAPPING_BASE_VADDR;
}

/**
 * `kernel_loaded_offset`: what is added to a physical address of the kernel image to get its
 * virtual address. OSTD's x86 kernel is linked at `KERNEL_CODE_BASE_VADDR + paddr`; Mirch's
 * firmware maps the image's first byte at `KERNEL_CODE_BASE_VADDR` (the boot page table says so),
 * so the offset there is the base minus the image's physical start.
 */
export function kernel_loaded_offset(kernel_region_base: Paddr): number {
  return KERNEL_CODE_BASE_VADDR - kernel_region_base;
}

// ───────────────────────────── the kernel page table ─────────────────────────────

// The states of a `spin::Once`.
const INCOMPLETE = 0;
const RUNNING = 1;
const COMPLETE = 2;

/**
 * `spin::Once<T>`: a value initialised once. The state is an atomic in memory (so the race detector
 * orders the value's initialisation before every use through its Acquire load); the value itself is
 * a JavaScript handle, as Rust keeps a `PageTable` (a root pointer) in the `Once`'s cell.
 */
class Once<T> {
  private readonly state;
  private value: T | null = null;

  constructor(name: string) {
    this.state = static_(AtomicU8, INCOMPLETE, { name });
  }

  /** `call_once(f)`: runs `f` unless another call did (or does: then waits for it). */
  call_once(f: () => T): T {
    const state = this.state.as_ref();
    for (;;) {
      const r = state.compare_exchange(INCOMPLETE, RUNNING, "Acquire", "Acquire");
      if (r.ok) {
        this.value = f();
        state.store(COMPLETE, "Release");
        return this.value;
      }
      if (r.value === COMPLETE) return this.value!;
      // Another CPU runs `f`: wait for it.
      while (state.load("Acquire") === RUNNING) spin_loop();
    }
  }

  /** `get()`: the value, if initialised. */
  get(): T | null {
    return this.state.as_ref().load("Acquire") === COMPLETE ? this.value : null;
  }
}

/**
 * The part of the vmalloc area `KVirtArea`s are made in: its last top-level entry (512 GiB), whose
 * second-level node the kernel table makes when it is built. With it, the kernel half's top-level
 * entries are fixed once the table is built (the linear map, the metadata and the kernel image
 * never change), which is what lets user tables share only the present ones (below). The range
 * allocator hands out areas from the top of `VMALLOC_VADDR_RANGE` (first fit, from the end of the
 * free block), so this holds until 512 GiB of areas live at once: `KVirtArea` checks it.
 */
export const KVIRT_AREA_TOP_ENTRY: Range = range(
  FRAME_METADATA_BASE_VADDR - 2 ** pte_index_bit_offset(PagingConsts, PagingConsts.NR_LEVELS),
  FRAME_METADATA_BASE_VADDR,
);

/**
 * The kernel page table: it holds the kernel half that every address space shares and is never
 * dropped. Rarely active by itself: user tables made from it share its kernel half.
 *
 * OSTD makes all 256 second-level nodes of the kernel half up front (`new_kernel_page_table`), so
 * that a user table, which copies the 256 top-level entries, sees every kernel mapping made later.
 * On kmiri a node costs ~15 ms checked (its page becomes 512 checked PTE allocations): all 256
 * would cost ~4 s in every test that touches kernel space. So the table is built with the nodes
 * its own mappings need and the one `KVirtArea`s use (`KVIRT_AREA_TOP_ENTRY`), and:
 *  - `get()` is OSTD's table: it makes the other shared nodes first (once, ~4 s checked), so that
 *    `page_table/configs.ts`'s `create_user_page_table(kpt)` (which wants all 256) works;
 *  - `create_user_page_table()` makes a user table sharing the top-level entries present — all
 *    the kernel will ever map, since the kernel half's entries are fixed from the build on (see
 *    `KVIRT_AREA_TOP_ENTRY`): the invariant OSTD gets from making all 256 — a user table sees every
 *    kernel mapping, made before or after it — holds without them, at the cost of one node;
 *  - `get_for_kernel()` is the table for the kernel's own mappings (`KVirtArea`, queries).
 */
class KernelPageTableHolder {
  private readonly table = new Once<PageTable<typeof KernelPtConfig>>("KERNEL_PAGE_TABLE");
  private readonly shared = new Once<boolean>("KERNEL_PAGE_TABLE_SHARED_NODES");

  /**
   * `KERNEL_PAGE_TABLE.get().unwrap()`: the kernel page table with all 256 shared second-level
   * nodes, built on first use, and active on the calling CPU unless that CPU runs another table
   * than the boot one (a user table, say). Panics before boot. Costly the first time (see above):
   * prefer `create_user_page_table()` and `get_for_kernel()`.
   */
  get(): PageTable<typeof KernelPtConfig> {
    const kpt = this.build();
    if (this.shared.get() === null) this.shared.call_once(() => make_shared_nodes(kpt));
    activate_if_on_boot_page_table();
    return kpt;
  }

  /**
   * The kernel page table for the kernel's own mappings (`KVirtArea`, queries), as `get()` but
   * without the shared nodes the kernel never maps into.
   */
  get_for_kernel(): PageTable<typeof KernelPtConfig> {
    const kpt = this.build();
    activate_if_on_boot_page_table();
    return kpt;
  }

  /**
   * `KERNEL_PAGE_TABLE.get().unwrap().create_user_page_table()`: a new user page table whose kernel
   * half is the kernel table's (its second-level nodes, shared). The kernel table outlives it.
   */
  create_user_page_table(): PageTable<typeof UserPtConfig> {
    // OSTD's `create_user_page_table`, sharing the present top-level entries only (see above).
    return share_kernel_top_level(this.get_for_kernel(), "present");
  }

  /** The table, built if it was not (by this CPU, or by another that this one waits for). */
  build(): PageTable<typeof KernelPtConfig> {
    const kpt = this.table.get();
    if (kpt !== null) return kpt;
    const info = kernel_pt_boot_info();
    if (info === null) panic("The kernel page table is not initialized yet");
    return this.table.call_once(() => build_kernel_page_table(info));
  }

  /** Whether the table has been built (OSTD's `Once::is_completed`). */
  is_completed(): boolean {
    return this.table.get() !== null;
  }
}

/** Lets the kernel table take over on this CPU if it still runs the boot page table. */
function activate_if_on_boot_page_table(): void {
  if (current_page_table_paddr() !== boot_page_table_paddr()) return;
  unsafe: {
    // SAFETY: the CPU runs the boot page table, so the kernel table has not been activated on it
    // (the once-per-CPU rule); the kernel table maps the kernel half as the boot one does.
    activate_kernel_page_table();
  }
}

/**
 * The rest of OSTD's `new_kernel_page_table`: a second-level node in every top-level entry of the
 * kernel half that has none yet. Returns `true` (the `Once`'s value).
 */
function make_shared_nodes(kpt: PageTable<typeof KernelPtConfig>): boolean {
  const preempt_guard = disable_preempt();
  const root_node = kpt.root.borrow().lock(preempt_guard);
  for (let i = KernelPtConfig.TOP_LEVEL_INDEX_RANGE.start; i < KernelPtConfig.TOP_LEVEL_INDEX_RANGE.end; i++) {
    // `null` when present already (made for a kernel mapping).
    root_node.entry(i).alloc_if_none(preempt_guard)?.drop();
  }
  root_node.drop();
  preempt_guard.release();
  return true;
}

/** `KERNEL_PAGE_TABLE`: see {@link KernelPageTableHolder.get}. */
export const KERNEL_PAGE_TABLE = new KernelPageTableHolder();

/** The build the boot step defers: `init_kernel_page_table` with the metadata pages boot kept. */
function build_kernel_page_table(info: KernelPtBootInfo): PageTable<typeof KernelPtConfig> {
  let meta_pages: Segment<Value<typeof MetaPageMeta.layout>>;
  unsafe: {
    // SAFETY: boot forgot one `Frame<MetaPageMeta>` for each metadata page (their slots hold count
    // 1 and that type); this takes them back once, as OSTD's `meta::init` hands them over.
    meta_pages = Segment.from_raw(info.meta_pages, MetaPageMeta);
  }
  return init_kernel_page_table(meta_pages, info.kernel_region);
}

/** The property of the kernel's own mappings: global, write-back, with `flags`. */
function kernel_prop(flags: number): PageProperty {
  return { flags, cache: CachePolicy.Writeback, priv_flags: PrivilegedPageFlags.GLOBAL };
}

/**
 * `init_kernel_page_table(meta_pages)`: a new kernel page table mapping all physical memory
 * linearly (the largest pages), the frame metadata (untracked, so that huge pages may be used; it
 * is never unmapped) and the kernel image (RWX). Returns it (OSTD stores it in `KERNEL_PAGE_TABLE`,
 * which is what `get()` does with the result).
 *
 * Call it after the frame allocator is initialised and before anything changes the kernel table.
 */
export function init_kernel_page_table<M>(meta_pages: Segment<M>, kernel_region: Range): PageTable<typeof KernelPtConfig> {
  // OSTD starts from `new_kernel_page_table()`; the shared nodes are made later here (see
  // `KernelPageTableHolder`), the ones these mappings need by the cursors.
  const kpt = PageTable.empty(KernelPtConfig);
  const preempt_guard = disable_preempt();

  // The linear map.
  {
    const max = max_paddr();
    const prop = kernel_prop(PageFlags.RW);
    unsafe: {
      // SAFETY: the kernel's linear map of physical memory, untracked: what lies under it is
      // reached only through `paddr_to_vaddr`, under the rules of each page's owner.
      map_untracked_pages(kpt, preempt_guard, LINEAR_MAPPING_BASE_VADDR, largest_pages(KernelPtConfig, LINEAR_MAPPING_BASE_VADDR, 0, max), prop);
    }
  }

  // The metadata pages. Untracked, for huge pages; they are never unmapped, so no reference is lost.
  {
    const start_va = frame_to_meta(0);
    const prop = kernel_prop(PageFlags.RW);
    const len = meta_pages.size();
    const pa_range = meta_pages.into_raw();
    unsafe: {
      // SAFETY: the metadata pages, where every frame's slot is; they live as long as the kernel.
      map_untracked_pages(kpt, preempt_guard, start_va, largest_pages(KernelPtConfig, start_va, pa_range.start, len), prop);
    }
  }

  // The kernel image (one set of permissions for all its segments, as OSTD for now).
  {
    const va = kernel_region.start + kernel_loaded_offset(kernel_region.start);
    const prop = kernel_prop(PageFlags.RWX);
    const len = kernel_region.end - kernel_region.start;
    unsafe: {
      // SAFETY: the kernel code and data, where the boot page table maps them.
      map_untracked_pages(kpt, preempt_guard, va, largest_pages(KernelPtConfig, va, kernel_region.start, len), prop);
    }
  }

  // The second-level node `KVirtArea`s map under (see `KVIRT_AREA_TOP_ENTRY`).
  {
    const root_node = kpt.root.borrow().lock(preempt_guard);
    const idx = pte_index(PagingConsts, KVIRT_AREA_TOP_ENTRY.start, PagingConsts.NR_LEVELS);
    root_node.entry(idx).alloc_if_none(preempt_guard)?.drop();
    root_node.drop();
  }

  preempt_guard.release();
  return kpt;
}

/**
 * UNSAFE. Maps `pages` (`largest_pages` of a range starting at `va`) as untracked items: what
 * OSTD's loop of `cursor.map(MappedItem::Untracked(pa, level, prop))` over the range does, for a
 * table no one else uses yet (the build). kmiri: the loop costs ~1.5 ms checked per page (a
 * cursor walk and an entry replacement each), 0.8 s for the kernel image's 512 4 KiB pages alone;
 * here each node on the way is locked once, and its leaves are written in a row, as the cursor
 * writes them (the item's raw form as a PTE, the node's child count raised).
 *
 * # Safety: as `CursorMut::map`'s: the mappings do not break the kernel's memory safety. Panics
 * if a page is mapped already.
 */
function map_untracked_pages(
  kpt: PageTable<typeof KernelPtConfig>,
  guard: DisabledPreemptGuard,
  va: Vaddr,
  pages: readonly (readonly [Paddr, PagingLevel])[],
  prop: PageProperty,
): void {
  "unsafe";
  const C = KernelPtConfig.C;
  let i = 0;
  while (i < pages.length) {
    // The nodes down to the one holding this page's entry: made when absent, locked top-down as
    // a cursor locks them.
    const level = pages[i]![1];
    const path: PageTableGuard[] = [kpt.root.borrow().lock(guard)];
    for (let l = C.NR_LEVELS; l > level; l--) {
      const entry = path[path.length - 1]!.entry(pte_index(C, va, l));
      const child = entry.to_ref();
      if (child.kind === "Mapped") panic("mapping over an already mapped huge page");
      path.push(child.kind === "PageTable" ? child.node.lock(guard) : entry.alloc_if_none(guard)!);
    }
    const node = path[path.length - 1]!;
    const node_end = va - (va % page_size(C, level + 1)) + page_size(C, level + 1);
    let added = 0;
    // This page and the next ones of the same level in the same node.
    while (i < pages.length && pages[i]![1] === level && va < node_end) {
      const idx = pte_index(C, va, level);
      if (node.entry(idx).to_ref().kind !== "Absent") panic("mapping over an already mapped page");
      const [paddr, , item_prop] = KernelPtConfig.item_into_raw(MappedItem.Untracked(pages[i]![0], level, prop));
      // The index is in the node, and the PTE is an item of this config at the node's level,
      // owned by the node from now on (an untracked item owns nothing).
      node.write_pte(idx, PageTableEntry.from_repr({ kind: "Mapped", paddr, prop: item_prop }, level));
      added += 1;
      i += 1;
      va += page_size(C, level);
    }
    node.add_nr_children(added);
    for (let g = path.length - 1; g >= 0; g--) path[g]!.drop();
  }
}

/**
 * UNSAFE. `activate_kernel_page_table`: the kernel page table takes over from the boot page table
 * on this CPU, then the whole TLB is flushed, global entries included (the boot table's global
 * leaves must not survive the switch).
 *
 * # Safety: once per CPU (the CPU keeps a reference to the root; activating the table again
 * would leak one). `KERNEL_PAGE_TABLE.get()` does it for a CPU still on the boot page table.
 */
export function activate_kernel_page_table(): void {
  "unsafe";
  const kpt = KERNEL_PAGE_TABLE.build();
  // SAFETY: the kernel table maps the kernel half as it must be (linear map, metadata, kernel
  // image), and the caller activates it once on this CPU, so no previous node reference is dropped.
  kpt.first_activate_unchecked();
  tlb_flush_all_including_global();
}
