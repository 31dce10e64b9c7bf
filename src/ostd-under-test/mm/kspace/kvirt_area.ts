// OSTD's `mm/kspace/kvirt_area.rs` (asterinas/asterinas, ostd/src/mm/kspace/kvirt_area.rs, MPL-2.0),
// re-written for kmiri: kernel virtual areas, ranges of the vmalloc part of the kernel address
// space (`VMALLOC_VADDR_RANGE`) that map frames (tracked: the kernel page table holds a reference
// to each) or physical ranges (untracked: device memory, say) in the kernel page table.
//
// TLB coherence is the caller's business, as in OSTD: after making an area, flush its range on
// every CPU that will use it (that CPU may hold translations of a previous area of the same range);
// dropping an area unmaps it without flushing. Mirch reports a use of a stale translation whose
// page was freed (`stale-tlb`). A CPU reaches an area only if it runs the kernel page table (or a
// user table sharing its kernel half): making or querying an area makes the kernel table take
// over on a CPU still on the boot page table (`KERNEL_PAGE_TABLE.get_for_kernel()`); another CPU
// calls `activate_kernel_page_table()` first (see `index.ts`).
//
// Differences from OSTD:
//  - the page-table cursors get a preemption guard besides OSTD's IRQ-disabled one: the page
//    table's RCU stand-in (`page_table/rcu_drop.ts`) counts only preemption guards as read-side
//    sections, while OSTD counts an IRQ-disabled CPU too;
//  - `query` takes no guard argument (it makes its own preemption guard for the walk);
//  - areas must lie in the last top-level entry of the vmalloc area (`KVIRT_AREA_TOP_ENTRY`, 512
//    GiB), so that the kernel half's top-level entries stay fixed (see `index.ts`).
import { assert, panic } from "kmiri/rt";
import { PAGE_SIZE, type Paddr, type Vaddr } from "../../arch/mm.js";
import { RangeAllocError, RangeAllocator } from "../../io/io_mem/range_alloc.js";
import { DisabledLocalIrqGuard } from "../../sync/guard.js";
import { disable_preempt } from "../../sync/preempt.js";
import { Frame } from "../frame/frame.js";
import { PageTableFrag } from "../page_table/cursor/index.js";
import { largest_pages, range, unwrap, type Range } from "../page_table/index.js";
import type { PageProperty } from "../page_table/page_prop.js";
import { KERNEL_PAGE_TABLE, KVIRT_AREA_TOP_ENTRY, KernelPtConfig, MappedItem, VMALLOC_VADDR_RANGE, type MappedItemRef } from "./index.js";

/** `KVIRT_AREA_ALLOCATOR`: the free ranges of the vmalloc area (its lock word is a static). */
const KVIRT_AREA_ALLOCATOR = RangeAllocator.new_static(VMALLOC_VADDR_RANGE, "KVIRT_AREA_ALLOCATOR");

/**
 * `kvirt_area_allocator(&irq_guard)`: the allocator, only for a CPU with local interrupts disabled
 * (DMA objects, which own areas, may be dropped in interrupt handlers).
 */
function kvirt_area_allocator(_guard: DisabledLocalIrqGuard): RangeAllocator {
  return KVIRT_AREA_ALLOCATOR;
}

/** `RangeAllocator::alloc(..).unwrap()`. */
function alloc_range(guard: DisabledLocalIrqGuard, size: number): Range {
  const r = kvirt_area_allocator(guard).alloc(size);
  if (r instanceof RangeAllocError) return panic("called `Result::unwrap()` on an `Err` value: RangeAllocError");
  // The kernel half's top-level entries stay those of the build (see `KVIRT_AREA_TOP_ENTRY`).
  assert(KVIRT_AREA_TOP_ENTRY.start <= r.start, "the kernel virtual areas outgrew their top-level entry");
  return r;
}

/**
 * `KVirtArea`: a range of kernel virtual addresses in `VMALLOC_VADDR_RANGE`, some or all of whose
 * pages map frames (tracked) or physical ranges (untracked). `drop()` unmaps them and frees the
 * range (Rust's `Drop`).
 */
export class KVirtArea {
  #range: Range;
  #live = true;

  private constructor(r: Range) {
    this.#range = { start: r.start, end: r.end };
  }

  private live_range(): Range {
    if (!this.#live) panic("use of a `KVirtArea` after it was dropped or split");
    return this.#range;
  }

  start(): Vaddr {
    return this.live_range().start;
  }

  end(): Vaddr {
    return this.live_range().end;
  }

  range(): Range {
    const r = this.live_range();
    return range(r.start, r.end);
  }

  /** `HasSize::size`. */
  size(): number {
    const r = this.live_range();
    return r.end - r.start;
  }

  /**
   * `Split::split`: two areas, `[start, start + offset)` and the rest (the mappings stay; each
   * half unmaps its own when dropped).
   */
  split(offset: number): [KVirtArea, KVirtArea] {
    assert(offset % PAGE_SIZE === 0);
    assert(0 < offset && offset < this.size());
    const old = this.live_range();
    this.#live = false;
    return [new KVirtArea(range(old.start, old.start + offset)), new KVirtArea(range(old.start + offset, old.end))];
  }

  /**
   * `query(addr)` (a ktest helper in OSTD): what the page holding `addr` maps, if anything.
   * Panics if `addr` is outside the area.
   */
  query(addr: Vaddr): MappedItemRef | null {
    assert(this.start() <= addr && this.end() >= addr);
    const start = addr - (addr % PAGE_SIZE);
    const vaddr = range(start, start + PAGE_SIZE);
    const page_table = KERNEL_PAGE_TABLE.get_for_kernel();
    const guard = disable_preempt();
    const cursor = unwrap(page_table.cursor(guard, vaddr));
    const [, item] = unwrap(cursor.query());
    cursor.drop();
    guard.release();
    return item;
  }

  /**
   * `map_frames(area_size, map_offset, frames, prop)`: a new area of `area_size` bytes whose pages
   * from `map_offset` on map `frames` (tracked: the table owns each frame's handle until the area
   * is dropped).
   *
   * Panics if the size or the offset is not page-aligned, or the frames do not fit in the area.
   */
  static map_frames<M>(area_size: number, map_offset: number, frames: Iterable<Frame<M>>, prop: PageProperty): KVirtArea {
    assert(area_size % PAGE_SIZE === 0);
    assert(map_offset % PAGE_SIZE === 0);

    const irq_guard = DisabledLocalIrqGuard.disable_local();
    const r = alloc_range(irq_guard, area_size);
    const cursor_range = range(r.start + map_offset, r.end);

    const page_table = KERNEL_PAGE_TABLE.get_for_kernel();
    const preempt_guard = disable_preempt();
    const cursor = unwrap(page_table.cursor_mut(preempt_guard, cursor_range));
    for (const frame of frames) {
      unsafe: {
        // SAFETY: the range is this new area's alone, so the mapping changes nothing the kernel
        // relies on; the table takes the frame's handle.
        cursor.map(MappedItem.Tracked(Frame.from_unsized(frame), prop));
      }
    }
    cursor.drop();
    preempt_guard.release();
    irq_guard.release();
    return new KVirtArea(r);
  }

  /**
   * UNSAFE. `map_untracked_frames(area_size, map_offset, pa_range, prop)`: a new area of
   * `area_size` bytes whose pages from `map_offset` on map the physical range `pa_range` (which
   * may be empty: an area with nothing mapped), with the largest pages that fit.
   *
   * # Safety: the physical range must be safe to map with `prop` for as long as the area lives:
   * not tracked memory (frames with metadata whose owners do not expect this mapping), and
   * memory whose accesses through the area break nothing (device memory, say).
   *
   * Panics if the size, the offset or the range is not page-aligned, or the range does not fit
   * in the area.
   */
  static map_untracked_frames(area_size: number, map_offset: number, pa_range: Range, prop: PageProperty): KVirtArea {
    "unsafe";
    assert(pa_range.start % PAGE_SIZE === 0);
    assert(pa_range.end % PAGE_SIZE === 0);
    assert(area_size % PAGE_SIZE === 0);
    assert(map_offset % PAGE_SIZE === 0);
    assert(map_offset + (pa_range.end - pa_range.start) <= area_size);

    const irq_guard = DisabledLocalIrqGuard.disable_local();
    const r = alloc_range(irq_guard, area_size);

    if (pa_range.start < pa_range.end) {
      const len = pa_range.end - pa_range.start;
      const va_range = range(r.start + map_offset, r.start + map_offset + len);
      const page_table = KERNEL_PAGE_TABLE.get_for_kernel();
      const preempt_guard = disable_preempt();
      const cursor = unwrap(page_table.cursor_mut(preempt_guard, va_range));
      for (const [pa, level] of largest_pages(KernelPtConfig, va_range.start, pa_range.start, len)) {
        // SAFETY: the caller's promise about the physical range; the virtual range is the new
        // area's alone.
        cursor.map(MappedItem.Untracked(pa, level, prop));
      }
      cursor.drop();
      preempt_guard.release();
    }
    irq_guard.release();
    return new KVirtArea(r);
  }

  /** `Drop`: unmaps every page of the area (tracked frames lose the table's handle) and frees it. */
  drop(): void {
    const area = this.live_range();
    this.#live = false;
    const irq_guard = DisabledLocalIrqGuard.disable_local();

    // 1. Unmap what is mapped.
    const page_table = KERNEL_PAGE_TABLE.get_for_kernel();
    const r = range(area.start, area.end);
    const preempt_guard = disable_preempt();
    const cursor = unwrap(page_table.cursor_mut(preempt_guard, r));
    for (;;) {
      let frag: PageTableFrag<MappedItem> | null;
      unsafe: {
        // SAFETY: the range is this area's, which nothing else maps; whoever uses the area's
        // addresses again flushes the TLBs first (the area's contract), so the unmapped items may
        // go (after the page table's RCU grace period).
        frag = cursor.take_next(r.end - cursor.virt_addr());
      }
      if (frag === null) break;
      PageTableFrag.drop(frag);
    }

    // 2. Give the range back (the cursor still holds the range, as OSTD's does until its scope ends).
    kvirt_area_allocator(irq_guard).free(r);
    cursor.drop();
    preempt_guard.release();
    irq_guard.release();
  }
}

export type { Paddr };
