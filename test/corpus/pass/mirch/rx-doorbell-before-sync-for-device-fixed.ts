// A block driver reads a sector into a streaming DMA buffer (from-device): it hands the buffer to
// the device with `dma_sync_for_device` before it rings the controller's doorbell, and takes it
// back with `dma_sync_for_cpu` once the status register says the sector is in. No UB.
import { spin_loop, u32, u8 } from "kmiri/rt";
import {
  PAGE_SIZE, alloc_pages, attach_device, dealloc_pages, dma_stream_begin, dma_stream_end, dma_sync_for_cpu, dma_sync_for_device, iommu, io_mem_claim,
  memory_regions, phys_ptr, type DeviceModel,
} from "kmiri/mirch";

const REG_LBA = 0x00, REG_BUF = 0x04, REG_GO = 0x08, REG_STATUS = 0x0c;
const SECTOR = 512;
const IOVA = 0x8000_0000;

/** The device: a disk whose sector n holds the byte n & 0xff in every position. */
function disk(): DeviceModel {
  let lba = 0, buf = 0, go = false, status = 0;
  return {
    name: "toy-disk",
    mmio_write(off, _size, value) {
      if (off === REG_LBA) lba = Number(value);
      else if (off === REG_BUF) buf = Number(value);
      else if (off === REG_GO) go = true;
    },
    mmio_read: (off) => (off === REG_STATUS ? status : 0),
    run(dev) {
      if (!go) return;
      go = false;
      dev.dma_write(buf, new Uint8Array(SECTOR).fill(lba & 0xff));
      status = 1;
    },
  };
}

export function main(): void {
  const d = attach_device(disk());
  const mmio = d.mmio!;
  io_mem_claim(mmio.paddr, mmio.len);
  const reg = (off: number) => phys_ptr(mmio.paddr + off, u32);
  const ram = memory_regions().find((r) => r.kind === "ram")!;
  const buf = Math.ceil(ram.start / PAGE_SIZE) * PAGE_SIZE;
  unsafe: {
    alloc_pages(buf, 1);
    iommu.map(IOVA, buf);
    dma_stream_begin(buf, SECTOR, "from-device");
    reg(REG_LBA).write_volatile(42);
    reg(REG_BUF).write_volatile(IOVA);
    dma_sync_for_device(buf, SECTOR);
    reg(REG_GO).write_volatile(1);
    while (reg(REG_STATUS).read_volatile() === 0) spin_loop();
    dma_sync_for_cpu(buf, SECTOR);
    console.log("sector 42 byte", phys_ptr(buf + 100, u8).read_volatile());
    dma_stream_end(buf, SECTOR);
    iommu.unmap(IOVA);
    dealloc_pages(buf, 1);
  }
}
