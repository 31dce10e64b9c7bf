// OSTD's `mm/dma/mod.rs` (asterinas/asterinas `ostd/src/mm/dma/mod.rs`, MPL-2.0), re-written for
// kmiri: Direct Memory Access. `DmaCoherent` and `DmaStream` are DMA memory with different
// remapping, caching and synchronisation needs:
//   dma_coherent.ts  `DmaCoherent` (no syncs; uncacheable for a device that is not coherent)
//   dma_stream.ts    `DmaStream<D>` and the directions `ToDevice`, `FromDevice`, `FromAndToDevice`
//   util.ts          `DmaBufferMeta`, `alloc_kva`, `prepare_dma` / `unprepare_dma` (IOMMU mappings)
//
// In interrupt handlers: making a DMA object (`alloc`, `alloc_uninit`, `map`) needs local
// interrupts enabled, because it may wait for other CPUs to flush their TLBs, which they do only
// with interrupts enabled; so no DMA object is made in (hard) interrupt context. Everything else
// works in any context with interrupts on or off: a `DmaStream` may be dropped in an interrupt
// handler once the device is done with it.
export { DmaCoherent } from "./dma_coherent.js";
export {
  DmaStream, FromAndToDevice, FromDevice, ToDevice, type CanRead, type CanWrite, type DmaDirection,
} from "./dma_stream.js";
