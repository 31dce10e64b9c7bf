// A NIC's transmit path with checksum offload, on a streaming DMA mapping (`DmaStream`,
// to-device). The driver fills the packet and rings the doorbell without `dma_sync_for_device`, so
// the device reads bytes the CPU still owns: `dma`, reported at the doorbell (the device reads there).
import { u32 } from "kmiri/rt";
import {
  PAGE_SIZE, alloc_pages, attach_device, dma_stream_begin, iommu, io_mem_claim, memory_regions, memset_volatile,
  paddr_to_vaddr, phys_ptr, type DeviceModel,
} from "kmiri/mirch";

const REG_ADDR = 0x00, REG_LEN = 0x04, REG_DOORBELL = 0x08, REG_CSUM = 0x0c;
const IOVA = 0x8000_0000;
const PKT_LEN = 64;

/** The device: on the doorbell, reads the packet by DMA and sums its bytes. */
function checksum_engine(): DeviceModel {
  let addr = 0, len = 0, kicked = false, csum = 0;
  return {
    name: "csum-nic",
    mmio_write(off, _size, value) {
      if (off === REG_ADDR) addr = Number(value);
      else if (off === REG_LEN) len = Number(value);
      else if (off === REG_DOORBELL) kicked = true;
    },
    mmio_read: (off) => (off === REG_CSUM ? csum : 0),
    run(dev) {
      if (!kicked) return;
      kicked = false;
      csum = dev.dma_read(addr, len).reduce((s, b) => (s + b) & 0xffff, 0);
    },
  };
}

export function main(): void {
  const nic = attach_device(checksum_engine());
  const mmio = nic.mmio!;
  io_mem_claim(mmio.paddr, mmio.len);
  const reg = (off: number) => phys_ptr(mmio.paddr + off, u32);
  const ram = memory_regions().find((r) => r.kind === "ram")!;
  const buf = Math.ceil(ram.start / PAGE_SIZE) * PAGE_SIZE;
  unsafe: {
    alloc_pages(buf, 1);
    iommu.map(IOVA, buf, false);
    dma_stream_begin(buf, PAGE_SIZE, "to-device");
    memset_volatile(paddr_to_vaddr(buf), 0x45, PKT_LEN); // the packet
    reg(REG_ADDR).write_volatile(IOVA);
    reg(REG_LEN).write_volatile(PKT_LEN);
    reg(REG_DOORBELL).write_volatile(1); //~ ERROR: dma
    console.log("csum", reg(REG_CSUM).read_volatile());
  }
}
