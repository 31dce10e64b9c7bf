// The receive buffers of a NIC are mapped in the IOMMU writable for the device, as receiving
// requires; the buffer is coherent DMA memory, so the device's write is ordered before the CPU's
// read by the status register read (an MMIO read). No UB.
import { u32, u8 } from "kmiri/rt";
import { PAGE_SIZE, alloc_pages, attach_device, dealloc_pages, iommu, io_mem_claim, memory_regions, phys_ptr, type DeviceModel } from "kmiri/mirch";

const REG_ADDR = 0x00, REG_DOORBELL = 0x08, REG_STATUS = 0x10;
const IOVA = 0x8000_0000;
const PKT_LEN = 42;

/** The device: on the doorbell, writes one received ARP frame by DMA and reports its length. */
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
      const frame = new Uint8Array(PKT_LEN).fill(0xff, 0, 6); // broadcast
      frame[12] = 0x08;
      frame[13] = 0x06; // ARP
      dev.dma_write(addr, frame);
      received = PKT_LEN;
    },
  };
}

function map_for_device(daddr: number, pa: number): void {
  unsafe: {
    iommu.map(daddr, pa, true);
  }
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
  }
  map_for_device(IOVA, buf);
  unsafe: {
    reg(REG_ADDR).write_volatile(IOVA);
    reg(REG_DOORBELL).write_volatile(1);
    const len = reg(REG_STATUS).read_volatile();
    console.log(len, "bytes, ethertype", phys_ptr(buf + 12, u8).read_volatile(), phys_ptr(buf + 13, u8).read_volatile());
    iommu.unmap(IOVA);
    dealloc_pages(buf, 1);
  }
}
