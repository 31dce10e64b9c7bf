// The DMA part of OSTD's `arch` layer on Mirch: what `arch/x86/iommu` (`map`, `unmap`,
// `has_dma_remapping`, the IOMMU page table's address range), `arch/x86/mm` (`can_sync_dma`,
// `sync_dma_range`) and `arch/x86/tdx_guest` (`if_tdx_enabled!`) give `mm/dma` in
// asterinas/asterinas `ostd/src/arch/x86`. Only this file imports `kmiri/mirch` for DMA.
//
// Streaming DMA on Mirch is checked: the ownership annotations below (`dma_stream_begin` when a
// `DmaStream` is made, `dma_sync_for_device` / `dma_sync_for_cpu` where OSTD's `sync_impl` runs,
// `dma_stream_end` when it drops) are what Mirch checks devices' and CPUs' accesses against (kind
// `dma`). x86's `sync_dma_range` has no cache work to do; the annotations stand for it, and are
// made for cache-coherent devices too (the contract asks for them: the protocol is the same).
import { panic } from "kmiri/rt";
import {
  IOMMU_DADDR_END as MIRCH_IOMMU_DADDR_END,
  can_sync_dma as mirch_can_sync_dma,
  dma_stream_begin as mirch_dma_stream_begin,
  dma_stream_end as mirch_dma_stream_end,
  dma_sync_for_cpu as mirch_dma_sync_for_cpu,
  dma_sync_for_device as mirch_dma_sync_for_device,
  iommu,
} from "kmiri/mirch";

/** A device address (OSTD's `Daddr`). */
export type Daddr = number;

/** The direction of a streaming mapping, as Mirch's annotations name it. */
export type DmaStreamDirection = "to-device" | "from-device" | "bidirectional";

// ───────────────────────────── arch/x86/iommu ─────────────────────────────

/**
 * The end of the device addresses the IOMMU page table translates (OSTD's
 * `vaddr_range::<IommuPtConfig>()`, exclusive): a 3-level, 39-bit table.
 */
export const IOMMU_DADDR_END: Daddr = MIRCH_IOMMU_DADDR_END;

/** `iommu::has_dma_remapping`: always true on Mirch (every device address goes through the IOMMU). */
export function has_dma_remapping(): boolean {
  return iommu.has_dma_remapping();
}

/**
 * `iommu::map`: makes the page at `paddr` reachable by devices at `daddr` (both page-aligned).
 * OSTD's returns a `Result` that `dma_remap` unwraps; Mirch reports a failure itself (`dma`).
 *
 * # Safety: the page is untyped memory that stays allocated until `iommu_unmap(daddr)`.
 */
export function iommu_map(daddr: Daddr, paddr: number): void {
  "unsafe";
  iommu.map(daddr, paddr);
}

/**
 * `iommu::unmap`. OSTD calls it without `unsafe` (unmapping only takes access away); Mirch's shim
 * is marked unsafe, so the wrapper holds the block.
 */
export function iommu_unmap(daddr: Daddr): void {
  unsafe: {
    // SAFETY: removing a device mapping cannot make the CPU's memory unsound; a device access to
    // it afterwards is the device's fault (Mirch reports it).
    iommu.unmap(daddr);
  }
}

// ───────────────────────────── arch/x86/mm: streaming DMA ─────────────────────────────

/**
 * Whether the CPU has cache-maintenance instructions for streaming DMA. Mirch has (as x86 has):
 * `can_sync_dma()` is what Mirch says. A test may turn them off to run the code paths of a
 * platform without them (RISC-V without Zicbom), where OSTD maps non-coherent streaming buffers
 * uncacheable (`Inner::Kva`) or bounces them (`Inner::Both`). Restore it before the test ends.
 */
let cache_maintenance = true;

/** Test support: pretend the platform has no DMA cache maintenance (see `can_sync_dma`). */
export function set_dma_cache_maintenance_for_test(enabled: boolean): void {
  cache_maintenance = enabled;
}

/** `arch::mm::can_sync_dma`: whether `sync_dma_range` can sync caches for non-coherent devices. */
export function can_sync_dma(): boolean {
  return cache_maintenance && mirch_can_sync_dma();
}

/**
 * `arch::mm::sync_dma_range::<D>`: on x86 a no-op (streaming DMA is cache-coherent there), and so
 * on Mirch; the ownership change is the annotations' business (`dma_sync_for_*`).
 *
 * # Safety: `[start, end)` with `direction` is part of a DMA region, and `can_sync_dma()` holds.
 */
export function sync_dma_range(_start: number, _end: number, _direction: DmaStreamDirection): void {
  "unsafe";
  if (!can_sync_dma()) panic("sync_dma_range on a platform that cannot sync DMA");
}

/** Annotation: `[paddr, paddr + len)` enters a streaming mapping of `direction`, owned by the CPU. */
export function dma_stream_begin(paddr: number, len: number, direction: DmaStreamDirection): void {
  mirch_dma_stream_begin(paddr, len, direction);
}

/** Annotation: `[paddr, paddr + len)` (all or part of a stream) leaves its streaming mapping. */
export function dma_stream_end(paddr: number, len: number): void {
  mirch_dma_stream_end(paddr, len);
}

/** Annotation: the device owns the bytes and sees the CPU's writes (`sync_to_device`). */
export function dma_sync_for_device(paddr: number, len: number): void {
  mirch_dma_sync_for_device(paddr, len);
}

/** Annotation: the CPU owns the bytes and sees the device's writes (`sync_from_device`). */
export function dma_sync_for_cpu(paddr: number, len: number): void {
  mirch_dma_sync_for_cpu(paddr, len);
}

// ───────────────────────────── arch/x86/tdx_guest ─────────────────────────────

/** `if_tdx_enabled!`: Mirch is never a confidential-VM guest (no `SHARED` pages, no TDVMCALLs). */
export function tdx_enabled(): boolean {
  return false;
}
