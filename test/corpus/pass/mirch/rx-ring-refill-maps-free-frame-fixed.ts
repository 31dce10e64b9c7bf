// Refilling a 4-entry RX ring maps one receive buffer per slot in the IOMMU, from a pool of
// exactly one allocated frame per slot; tearing the ring down unmaps every buffer before the pool
// is freed. No UB.
import { PAGE_SIZE, alloc_pages, dealloc_pages, iommu, memory_regions } from "kmiri/mirch";

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
      iommu.map(daddr, buf);
    }
    daddrs.push(daddr);
  }
  return daddrs;
}

export function main(): void {
  const pool = pool_create(RING_SIZE);
  const ring = ring_refill(pool);
  console.log(ring.length, "rx buffers posted, last at", ring[RING_SIZE - 1].toString(16));
  unsafe: {
    for (const daddr of ring) iommu.unmap(daddr);
    dealloc_pages(pool, RING_SIZE);
  }
}
