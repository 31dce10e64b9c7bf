//@ flags: --many-seeds 0..32
// Linux `drivers/char/virtio_console.c` before d00d8da5869a (CVE-2021-38160, v5.14): `get_inbuf`
// stores the used length the device reports as the port buffer's length, `buf->len = len`, and
// `fill_readbuf` copies `min(count, buf->len - buf->offset)` bytes out of the buffer. A device that
// reports more than the buffer holds makes a read copy past the end of the port buffer.
import {
  PAGE_SIZE, alloc_pages, attach_device, dealloc_pages, io_mem_claim, io_mem_release, iommu, memory_regions,
  memset_volatile, paddr_to_vaddr, phys_ptr,
} from "kmiri/mirch";
import type { DeviceContext } from "kmiri/mirch";
import { alloc, array, dealloc, u16, u32, u64, u8, type Ptr } from "kmiri/rt";

const NUM = 4; // queue size
const RING_DADDR = 0x4000_0000, BUF_DADDR = 0x4000_1000; // device addresses of the ring page and the port buffer
const DESC = 0x000, AVAIL = 0x100, USED = 0x200; // in the ring page
const QUEUE_NOTIFY = 0x050, VRING_DESC_F_WRITE = 2;
const MESSAGE = "hello, world\n";

/** The host side of port 0's input queue: on a notify it fills the offered buffer and completes it. */
const console_device = {
  name: "virtio-console",
  mmio_write(off: number, _size: number, _value: number | bigint, dev: DeviceContext): void {
    if (off !== QUEUE_NOTIFY) return;
    const head = dev.dma_read_u16(RING_DADDR + AVAIL + 4);
    const addr = dev.dma_read_u32(RING_DADDR + DESC + 16 * head); // the buffer's device address
    dev.dma_write(addr, Uint8Array.from(MESSAGE, (c) => c.charCodeAt(0)));
    dev.dma_write_u32(RING_DADDR + USED + 4, head);
    dev.dma_write_u32(RING_DADDR + USED + 8, dev.hostile ? dev.choose(MESSAGE.length, 32, [PAGE_SIZE + 1]) : MESSAGE.length);
    dev.dma_write_u16(RING_DADDR + USED + 2, 1);
  },
};

/** `struct port_buffer`: a DMA page the device writes, its size, the used length and the read offset. */
interface PortBuffer { pa: number; size: number; len: number; offset: number }

/** `add_inbuf` + `virtqueue_kick`: offers `buf` as descriptor 0 of the input queue. */
function add_inbuf(ring: number, regs: number, buf: PortBuffer): void {
  "unsafe";
  phys_ptr(ring + DESC, u64).write_volatile(BigInt(BUF_DADDR));
  phys_ptr(ring + DESC + 8, u32).write_volatile(buf.size);
  phys_ptr(ring + DESC + 12, u16).write_volatile(VRING_DESC_F_WRITE);
  phys_ptr(ring + AVAIL + 4, u16).write_volatile(0);
  phys_ptr(ring + AVAIL + 2, u16).write_volatile(1);
  phys_ptr(regs + QUEUE_NOTIFY, u32).write_volatile(0);
}

/** `get_inbuf`: the completed buffer, with the length the device reported. */
function get_inbuf(ring: number, buf: PortBuffer): PortBuffer | null {
  "unsafe";
  if (phys_ptr(ring + USED + 2, u16).read_volatile() === 0) return null;
  const id = phys_ptr(ring + USED + 4, u32).read_volatile();
  const len = phys_ptr(ring + USED + 8, u32).read_volatile();
  if (id >= NUM || id !== 0) return null; // virtqueue_get_buf checks the id
  buf.len = len;
  buf.offset = 0;
  return buf;
}

/** `fill_readbuf`: copies what the buffer holds, at most `count` bytes, to `out`. */
function fill_readbuf(buf: PortBuffer, out: Ptr<number>, count: number): number {
  "unsafe";
  const out_count = Math.min(count, buf.len - buf.offset);
  const src = phys_ptr(buf.pa, u8);
  for (let k = 0; k < out_count; k++) {
    out.add(k).write(src.add(buf.offset + k).read_volatile()); //~ ERROR: out-of-bounds
  }
  buf.offset += out_count;
  return out_count;
}

export function main(): void {
  const dev = attach_device(console_device, { hostile: true });
  const regs = dev.mmio!.paddr;
  io_mem_claim(regs, dev.mmio!.len);
  const ring = Math.ceil(memory_regions().find((r) => r.kind === "ram")!.start / PAGE_SIZE) * PAGE_SIZE;
  const buf: PortBuffer = { pa: ring + PAGE_SIZE, size: PAGE_SIZE, len: 0, offset: 0 }; // alloc_buf(PAGE_SIZE)
  const COUNT = 2 * PAGE_SIZE; // a reader's read(2) of 8 KiB
  unsafe: {
    alloc_pages(ring, 1);
    alloc_pages(buf.pa, 1);
    memset_volatile(paddr_to_vaddr(ring), 0, 2 * PAGE_SIZE);
    iommu.map(RING_DADDR, ring);
    iommu.map(BUF_DADDR, buf.pa);
    add_inbuf(ring, regs, buf);
    const out = alloc(array(u8, COUNT)).cast(u8);
    const got = get_inbuf(ring, buf);
    if (got !== null) {
      const n = fill_readbuf(got, out, COUNT);
      let text = "";
      for (let k = 0; k < Math.min(n, MESSAGE.length); k++) text += String.fromCharCode(out.add(k).read());
      console.log(`read ${n} bytes: ${JSON.stringify(text)}${n > MESSAGE.length ? " and more" : ""}`);
    }
    dealloc(out.cast(array(u8, COUNT)), array(u8, COUNT));
    iommu.unmap(RING_DADDR);
    iommu.unmap(BUF_DADDR);
    dealloc_pages(ring, 1);
    dealloc_pages(buf.pa, 1);
  }
  io_mem_release(regs, dev.mmio!.len);
}
