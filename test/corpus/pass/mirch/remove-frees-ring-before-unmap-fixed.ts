// A driver's `remove()` tears down its descriptor ring in the right order: it removes the IOMMU
// mapping first, so the device can no longer reach the ring, and only then frees the ring's frame.
// No UB.
import { u32 } from "kmiri/rt";
import {
  PAGE_SIZE, alloc_pages, attach_device, dealloc_pages, iommu, io_mem_claim, io_mem_release, memory_regions,
  memset_volatile, paddr_to_vaddr, phys_ptr, type DeviceModel,
} from "kmiri/mirch";

const REG_RING = 0x00, REG_KICK = 0x08, REG_DONE = 0x0c;
const IOVA = 0x8000_0000;

/** The device: on a kick, reads the ring's producer index (the ring's first word) and acknowledges it. */
function ring_device(): DeviceModel {
  let ring = 0, kicked = false, done = 0;
  return {
    name: "ring-dev",
    mmio_write(off, _size, value) {
      if (off === REG_RING) ring = Number(value);
      else if (off === REG_KICK) kicked = true;
    },
    mmio_read: (off) => (off === REG_DONE ? done : 0),
    run(dev) {
      if (!kicked) return;
      kicked = false;
      done = dev.dma_read_u32(ring);
    },
  };
}

export function main(): void {
  const dev = attach_device(ring_device());
  const mmio = dev.mmio!;
  io_mem_claim(mmio.paddr, mmio.len);
  const reg = (off: number) => phys_ptr(mmio.paddr + off, u32);
  const ram = memory_regions().find((r) => r.kind === "ram")!;
  const ring = Math.ceil(ram.start / PAGE_SIZE) * PAGE_SIZE;
  unsafe: {
    // probe
    alloc_pages(ring, 1);
    memset_volatile(paddr_to_vaddr(ring), 0, PAGE_SIZE);
    iommu.map(IOVA, ring);
    reg(REG_RING).write_volatile(IOVA);
    phys_ptr(ring, u32).write_volatile(3); // three descriptors posted
    reg(REG_KICK).write_volatile(1);
    console.log("device consumed", reg(REG_DONE).read_volatile());
    // remove
    iommu.unmap(IOVA);
    dealloc_pages(ring, 1);
  }
  io_mem_release(mmio.paddr, mmio.len);
  console.log("removed");
}
