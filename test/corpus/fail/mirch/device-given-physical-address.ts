// A crypto engine hashes a buffer mapped in the IOMMU at an I/O virtual address, but the driver
// programs it with the buffer's *physical* address (the habit of IOMMU-less drivers). The device's
// read of that unmapped device address is `dma`, reported at the doorbell, where the device runs.
import { u32 } from "kmiri/rt";
import {
  PAGE_SIZE, alloc_pages, attach_device, iommu, io_mem_claim, memory_regions, memset_volatile, paddr_to_vaddr,
  phys_ptr, type DeviceModel,
} from "kmiri/mirch";

const REG_SRC = 0x00, REG_LEN = 0x04, REG_GO = 0x08, REG_DIGEST = 0x0c;
const IOVA_BASE = 0x8000_0000;
const MSG_LEN = 256;

/** The device: an FNV-1a hash of a DMA buffer. */
function hash_engine(): DeviceModel {
  let src = 0, len = 0, go = false, digest = 0;
  return {
    name: "hash-engine",
    mmio_write(off, _size, value) {
      if (off === REG_SRC) src = Number(value);
      else if (off === REG_LEN) len = Number(value);
      else if (off === REG_GO) go = true;
    },
    mmio_read: (off) => (off === REG_DIGEST ? digest : 0),
    run(dev) {
      if (!go) return;
      go = false;
      digest = dev.dma_read(src, len).reduce((h, b) => Math.imul(h ^ b, 0x0100_0193) >>> 0, 0x811c_9dc5);
    },
  };
}

export function main(): void {
  const dev = attach_device(hash_engine());
  const mmio = dev.mmio!;
  io_mem_claim(mmio.paddr, mmio.len);
  const reg = (off: number) => phys_ptr(mmio.paddr + off, u32);
  const ram = memory_regions().find((r) => r.kind === "ram")!;
  const buf = Math.ceil(ram.start / PAGE_SIZE) * PAGE_SIZE;
  unsafe: {
    alloc_pages(buf, 1);
    iommu.map(IOVA_BASE, buf, false); // the buffer's device address is IOVA_BASE
    memset_volatile(paddr_to_vaddr(buf), 0x61, MSG_LEN);
    reg(REG_SRC).write_volatile(buf); // bug: the physical address, not the device address
    reg(REG_LEN).write_volatile(MSG_LEN);
    reg(REG_GO).write_volatile(1); //~ ERROR: dma
    console.log("digest", reg(REG_DIGEST).read_volatile().toString(16));
  }
}
