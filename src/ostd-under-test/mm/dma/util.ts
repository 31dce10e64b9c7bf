// OSTD's `mm/dma/util.rs` (asterinas/asterinas `ostd/src/mm/dma/util.rs`, MPL-2.0), re-written for
// kmiri: what `DmaCoherent` and `DmaStream` share — the typed metadata of buffers behind a
// `KVirtArea`, allocating such a buffer (`alloc_kva`), and preparing a physical range for DMA
// (`prepare_dma` / `unprepare_dma`): counting which pages are DMA-mapped (OSTD does it in debug
// builds, where ktests run, to catch a page mapped twice) and mapping them into the IOMMU at
// device addresses from a range allocator (`dma_remap`; Mirch always remaps).
import { AtomicUsize, Box, assert, assert_eq, panic, spin_loop, struct, type Ptr } from "kmiri/rt";
import {
  IOMMU_DADDR_END, has_dma_remapping, iommu_map, iommu_unmap, tdx_enabled, type Daddr,
} from "../../arch/dma.js";
import { current_cpu, inter_processor_call, num_cpus } from "../../arch/cpu.js";
import { PAGE_SIZE, tlb_flush_addr_range, type Paddr } from "../../arch/mm.js";
import { RangeAllocError, RangeAllocator } from "../../io/io_mem/range_alloc.js";
import { DisabledLocalIrqGuard } from "../../sync/guard.js";
import { SpinLock } from "../../sync/spin.js";
import { disable_preempt } from "../../sync/preempt.js";
import { FrameAllocOptions, impl_frame_meta_for, type DynMeta, type Range, type Segment } from "../frame/index.js";
import { Ok, type Error, type Result } from "../io.js";
import { KVirtArea } from "../kspace/kvirt_area.js";
import { CachePolicy, PageFlags, type PageProperty } from "../page_table/page_prop.js";

/**
 * `DmaBufferMeta`: the metadata of frames that sit behind a `KVirtArea` with other page flags than
 * the linear map's (uncacheable for a device that is not cache-coherent, shared in a confidential
 * VM). Reaching them through the linear map could misbehave (mixed cache attributes, a fault in a
 * CVM), so they are *typed* frames: no one outside OSTD can make a reader or writer of a
 * `Segment<DmaBufferMeta>`. (Mirch keeps their pages untyped: the device and the kernel read and
 * write them as plain bytes, through the `KVirtArea`.)
 */
export const DmaBufferMeta = impl_frame_meta_for("DmaBufferMeta", struct("DmaBufferMeta", {}));

// ───────────────────────────── the device address allocator (x86) ─────────────────────────────

/**
 * `DADDR_ALLOCATOR`: device addresses over the IOMMU page table's range, the last page left out so
 * that no range ends at the top (OSTD avoids the overflow that way).
 */
const DADDR_ALLOCATOR = RangeAllocator.new_static(
  { start: 0, end: Math.floor((IOMMU_DADDR_END - 1) / PAGE_SIZE) * PAGE_SIZE },
  "DADDR_ALLOCATOR",
);

/**
 * `daddr_allocator`: the allocator, for a caller with local interrupts disabled (DMA objects may
 * be dropped in interrupt handlers, so taking its lock with interrupts on could deadlock).
 */
function daddr_allocator(_guard: DisabledLocalIrqGuard): RangeAllocator {
  return DADDR_ALLOCATOR;
}

// ───────────────────────────── util/range_counter.rs ─────────────────────────────

/** OSTD's `RangeCounter`: a counter per index, zero by default, updated by ranges. */
export class RangeCounter {
  private readonly counters = new Map<number, number>();

  /** The counter at `index`. */
  get(index: number): number {
    return this.counters.get(index) ?? 0;
  }

  /** Adds one to each counter of `range`; the sub-ranges whose counters went from 0 to 1. */
  add(range: Range): Range[] {
    assert(range.start <= range.end);
    const updated: Range[] = [];
    let reported_end = range.start;
    for (let i = range.start; i < range.end; i++) {
      const counter = this.counters.get(i) ?? 0;
      if (counter !== 0) {
        if (reported_end < i) updated.push({ start: reported_end, end: i });
        reported_end = i + 1;
      }
      this.counters.set(i, counter + 1);
    }
    if (reported_end < range.end) updated.push({ start: reported_end, end: range.end });
    return updated;
  }

  /** Takes one from each counter of `range` (none may be 0); the sub-ranges that went from 1 to 0. */
  remove(range: Range): Range[] {
    assert(range.start <= range.end);
    const updated: Range[] = [];
    let reported_end = range.start;
    for (let i = range.start; i < range.end; i++) {
      const counter = this.counters.get(i);
      if (counter === undefined) panic("Removing a zero counter");
      if (counter > 1) {
        if (reported_end < i) updated.push({ start: reported_end, end: i });
        reported_end = i + 1;
      }
      if (counter === 1) this.counters.delete(i);
      else this.counters.set(i, counter - 1);
    }
    if (reported_end < range.end) updated.push({ start: reported_end, end: range.end });
    return updated;
  }
}

/**
 * `PADDR_REF_CNTS`: how many DMA objects map each page frame — to catch a page DMA-mapped twice
 * (debug builds) and to know when a CVM must share or unshare pages. Its guard disables local
 * interrupts, because DMA objects may be dropped in interrupt handlers.
 */
const PADDR_REF_CNTS = SpinLock.static_(new RangeCounter(), "PADDR_REF_CNTS");

/** The number of DMA objects that map the page frame `pfn` (test support, as OSTD's `get`). */
export function dma_mapped_count(pfn: number): number {
  const guard = PADDR_REF_CNTS.disable_irq().lock();
  const count = guard.value.get(pfn);
  guard.release();
  return count;
}

// ───────────────────────────── util.rs ─────────────────────────────

/** `cvm_need_private_protection`: whether DMA memory must be shared with the host (a TDX guest). */
export function cvm_need_private_protection(): boolean {
  return tdx_enabled();
}

/** `split_daddr`: the device addresses of the two parts of a mapping split at `offset`. */
export function split_daddr(daddr: Daddr | null, offset: number): [Daddr | null, Daddr | null] {
  if (daddr === null) return [null, null];
  return [daddr, daddr + offset];
}

/**
 * `alloc_kva`: `nframes` frames with `DmaBufferMeta`, mapped in a new `KVirtArea` (write-back for a
 * cache-coherent device, uncacheable otherwise); the area, and the frames' physical address. The
 * area owns the frames. Its range is flushed from every CPU's TLB before it is handed out, as
 * `KVirtArea`'s contract asks (a CPU may still hold translations of an earlier area there).
 */
export function alloc_kva(nframes: number, is_cache_coherent: boolean): Result<[KVirtArea, Paddr], Error> {
  const typed = FrameAllocOptions.new().zeroed(false).alloc_segment_with(nframes, () => DmaBufferMeta.of({}));
  if (!typed.ok) return typed;
  const segment: Segment<DynMeta> = typed.value.into_dyn();

  // `PrivilegedPageFlags::SHARED` in a TDX guest; empty on Mirch, which is never one.
  const priv_flags = 0;
  const cache = is_cache_coherent ? CachePolicy.Writeback : CachePolicy.Uncacheable;

  const paddr = segment.paddr();
  const prop: PageProperty = { flags: PageFlags.RW, cache, priv_flags };
  const kva = KVirtArea.map_frames(segment.size(), 0, segment, prop);

  flush_tlb_on_all_cpus(kva.range());
  return Ok([kva, paddr]);
}

/**
 * OSTD's `TlbFlusher` over all CPUs for one range (`issue_tlb_flush`, `dispatch_tlb_flush`,
 * `sync_tlb_flush`; `mm/tlb` is not ported): flushes the range here, has every other CPU flush it
 * by an inter-processor call, and waits until they all did. Needs local interrupts enabled (a CPU
 * waiting for us with interrupts off would never take the call: the reason DMA objects may not be
 * made in interrupt context).
 */
function flush_tlb_on_all_cpus(r: Range): void {
  const preempt = disable_preempt();
  tlb_flush_addr_range(r.start, r.end);
  const me = current_cpu();
  const others: number[] = [];
  for (let cpu = 0; cpu < num_cpus(); cpu++) if (cpu !== me) others.push(cpu);
  if (others.length > 0) {
    const pending: Ptr<number> = Box.into_raw(Box.new(AtomicUsize, others.length));
    const start = r.start;
    const end = r.end;
    inter_processor_call(() => {
      tlb_flush_addr_range(start, end);
      unsafe: {
        // SAFETY: the box lives until every CPU has counted down (the caller waits below).
        pending.as_ref().fetch_sub(1, "Release");
      }
    }, others);
    unsafe: {
      // SAFETY: ours until freed below; the calls only count it down.
      const count = pending.as_ref();
      while (count.load("Acquire") !== 0) spin_loop();
      Box.from_raw(pending).drop();
    }
  }
  preempt.release();
}

/**
 * `prepare_dma`: counts the pages of `pa_range` as DMA-mapped, and maps them into the IOMMU when
 * it remaps: the first device address, or `null` when devices use physical addresses.
 *
 * # Safety: `pa_range` (page-aligned) is untyped DMA memory that outlives the matching
 * `unprepare_dma`.
 */
export function prepare_dma(pa_range: Range): Daddr | null {
  "unsafe";
  // The caller's promise is the one both steps need.
  alloc_unprotect_physical_range(pa_range);
  return dma_remap(pa_range);
}

/**
 * `unprepare_dma`: undoes `prepare_dma` — removes the IOMMU mappings, then the pages' counts.
 *
 * # Safety: `pa_range` was prepared by `prepare_dma`, which returned `daddr`.
 */
export function unprepare_dma(pa_range: Range, daddr: Daddr | null): void {
  "unsafe";
  unmap_dma_remap(daddr === null ? null : { start: daddr, end: daddr + (pa_range.end - pa_range.start) });
  dealloc_protect_physical_range(pa_range);
}

/**
 * `alloc_unprotect_physical_range`: counts the page frames of `pa_range` as DMA-mapped. In a TDX
 * guest the ones that become mapped are shared with the host; elsewhere none may be mapped already.
 *
 * # Safety: `pa_range` is untyped DMA memory that outlives the matching
 * `dealloc_protect_physical_range`.
 */
function alloc_unprotect_physical_range(pa_range: Range): void {
  "unsafe";
  assert(pa_range.start % PAGE_SIZE === 0);
  assert(pa_range.end % PAGE_SIZE === 0);
  const pfn_range = { start: pa_range.start / PAGE_SIZE, end: pa_range.end / PAGE_SIZE };

  const refcnts = PADDR_REF_CNTS.disable_irq().lock();
  const ranges = refcnts.value.add(pfn_range);
  refcnts.release();
  if (tdx_enabled()) {
    // No TDX on Mirch: there would be `unprotect_gpa_tdvm_call` on each new range.
    panic("TDX guests are not supported on Mirch");
  }
  // `debug_assert_eq!(ranges, [pfn_range])`: the pages were not DMA-mapped by anyone else.
  assert_eq(
    JSON.stringify(ranges),
    JSON.stringify(pfn_range.start < pfn_range.end ? [pfn_range] : []),
    "a physical page is DMA-mapped twice",
  );
}

/**
 * `dealloc_protect_physical_range`: takes the page frames of `pa_range` off the count (in a TDX
 * guest, the ones no longer mapped go back to private memory).
 *
 * # Safety: `pa_range` was counted by `alloc_unprotect_physical_range`.
 */
function dealloc_protect_physical_range(pa_range: Range): void {
  "unsafe";
  assert(pa_range.start % PAGE_SIZE === 0);
  assert(pa_range.end % PAGE_SIZE === 0);
  const pfn_range = { start: pa_range.start / PAGE_SIZE, end: pa_range.end / PAGE_SIZE };

  const refcnts = PADDR_REF_CNTS.disable_irq().lock();
  refcnts.value.remove(pfn_range);
  refcnts.release();
}

/**
 * `dma_remap`: device addresses for `pa_range`, each page of it mapped there in the IOMMU; the
 * first, or `null` when the platform does not remap.
 *
 * # Safety: `pa_range` is untyped DMA memory that outlives the matching `unmap_dma_remap`.
 */
function dma_remap(pa_range: Range): Daddr | null {
  "unsafe";
  if (!has_dma_remapping()) return null;

  const irq_guard = DisabledLocalIrqGuard.disable_local();
  const daddr = daddr_allocator(irq_guard).alloc(pa_range.end - pa_range.start);
  if (daddr instanceof RangeAllocError) {
    irq_guard.release();
    panic("failed to allocate DMA address range");
  }

  for (let map_paddr = pa_range.start; map_paddr < pa_range.end; map_paddr += PAGE_SIZE) {
    const map_daddr = map_paddr - pa_range.start + daddr.start;
    // The caller's promise: the frame at `map_paddr` is untyped and outlives the `iommu_unmap`
    // of `unmap_dma_remap`.
    iommu_map(map_daddr, map_paddr);
  }

  irq_guard.release();
  return daddr.start;
}

/**
 * `unmap_dma_remap`: removes the IOMMU mappings of `daddr_range`. As in OSTD, the device addresses
 * are not given back to the allocator (that needs IOTLB flushes, which OSTD does not do yet: a
 * reused address could reach the new buffer through a stale IOTLB entry).
 */
function unmap_dma_remap(daddr_range: Range | null): void {
  if (daddr_range === null) return;
  const irq_guard = DisabledLocalIrqGuard.disable_local();
  for (let da = daddr_range.start; da < daddr_range.end; da += PAGE_SIZE) {
    iommu_unmap(da);
  }
  irq_guard.release();
}
