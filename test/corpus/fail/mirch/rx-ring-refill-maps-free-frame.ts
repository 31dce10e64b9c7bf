// Refilling a 4-entry RX ring maps one receive buffer per slot in the IOMMU, taking the buffers
// from a pool that was sized for 3 (an off-by-one in the pool's setup); the fourth buffer's frame
// was never allocated. Mapping a free page for the device is `dma`, at `iommu.map`.
import { PAGE_SIZE, alloc_pages, iommu, memory_regions } from "kmiri/mirch";

const RING_SIZE = 4;
const IOVA_BASE = 0x8000_0000;

function pool_create(frames: number): number {
  const ram = memory_regions().find((r) => r.kind === "ram")!;
  const base = Math.ceil(ram.start / PAGE_SIZE) * PAGE_SIZE;
  unsafe: {
    alloc_pages(base, frames);
  }
  return base;
}

function ring_refill(pool: number): number[] {
  const daddrs: number[] = [];
  for (let slot = 0; slot < RING_SIZE; slot++) {
    const buf = pool + slot * PAGE_SIZE;
    const daddr = IOVA_BASE + slot * PAGE_SIZE;
    unsafe: {
      iommu.map(daddr, buf); //~ ERROR: dma
    }
    daddrs.push(daddr);
  }
  return daddrs;
}

export function main(): void {
  const pool = pool_create(RING_SIZE - 1); // bug: one buffer per slot is needed
  const ring = ring_refill(pool);
  console.log(ring.length, "rx buffers posted");
}
