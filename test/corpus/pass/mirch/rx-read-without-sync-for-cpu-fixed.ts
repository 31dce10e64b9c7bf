// A NIC's receive path on a streaming DMA mapping (from-device). The driver hands the buffer to
// the device, rings the doorbell, reads the received length from the status register, takes the
// received bytes back with `dma_sync_for_cpu`, and only then parses the packet. No UB.
import { u32, u8 } from "kmiri/rt";
import {
  PAGE_SIZE, alloc_pages, attach_device, dealloc_pages, dma_stream_begin, dma_stream_end, dma_sync_for_cpu,
  dma_sync_for_device, iommu, io_mem_claim, memory_regions, phys_ptr, type DeviceModel,
} from "kmiri/mirch";

const REG_ADDR = 0x00, REG_DOORBELL = 0x08, REG_STATUS = 0x10;
const IOVA = 0x8000_0000;
const PKT_LEN = 60;

/** The device: on the doorbell, writes one received frame by DMA and reports its length. */
function rx_engine(): DeviceModel {
  let addr = 0, kicked = false, received = 0;
  return {
    name: "rx-nic",
    mmio_write(off, _size, value) {
      if (off === REG_ADDR) addr = Number(value);
      else if (off === REG_DOORBELL) kicked = true;
    },
    mmio_read: (off) => (off === REG_STATUS ? received : 0),
    run(dev) {
      if (!kicked) return;
      kicked = false;
      dev.dma_write(addr, new Uint8Array(PKT_LEN).map((_, i) => (i * 7) & 0xff));
      received = PKT_LEN;
    },
  };
}

export function main(): void {
  const nic = attach_device(rx_engine());
  const mmio = nic.mmio!;
  io_mem_claim(mmio.paddr, mmio.len);
  const reg = (off: number) => phys_ptr(mmio.paddr + off, u32);
  const ram = memory_regions().find((r) => r.kind === "ram")!;
  const buf = Math.ceil(ram.start / PAGE_SIZE) * PAGE_SIZE;
  unsafe: {
    alloc_pages(buf, 1);
    iommu.map(IOVA, buf);
    dma_stream_begin(buf, PAGE_SIZE, "from-device");
    dma_sync_for_device(buf, PAGE_SIZE); // the buffer is the device's
    reg(REG_ADDR).write_volatile(IOVA);
    reg(REG_DOORBELL).write_volatile(1);
    const len = reg(REG_STATUS).read_volatile();
    dma_sync_for_cpu(buf, len);
    const ethertype = (phys_ptr(buf + 12, u8).read_volatile() << 8) | phys_ptr(buf + 13, u8).read_volatile();
    console.log(len, "bytes, ethertype", ethertype.toString(16));
    dma_stream_end(buf, PAGE_SIZE);
    iommu.unmap(IOVA);
    dealloc_pages(buf, 1);
  }
}
