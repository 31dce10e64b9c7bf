// The hardened twin of hostile-used-id-indexes-cookies: the used id is checked against the queue
// size before it indexes the driver's table (seeds/003), so every lie of a hostile device is safe.
import {
  PAGE_SIZE, alloc_pages, attach_device, io_mem_claim, iommu, memory_regions, memset_volatile, paddr_to_vaddr, phys_ptr, virtio_device,
} from "kmiri/mirch";
import { alloc, array, dealloc, struct, yield_now, u16, u32, u64 } from "kmiri/rt";

const QSIZE = 8;
const DADDR = 0x4000_0000;
const QUEUE_NUM = 0x038, QUEUE_READY = 0x044, QUEUE_NOTIFY = 0x050, STATUS = 0x070;
const QUEUE_DESC = 0x080, QUEUE_DRIVER = 0x090, QUEUE_DEVICE = 0x0a0, DRIVER_FEATURES = 0x020, DRIVER_FEATURES_SEL = 0x024;
const DESC_OFF = 0x000, AVAIL_OFF = 0x100, USED_OFF = 0x200, HEADER_OFF = 0x300, STATUS_OFF = 0x310, DATA_OFF = 0x400;
const VirtqDesc = struct("VirtqDesc", { addr: u64, len: u32, flags: u16, next: u16 });
const BlkReqHeader = struct("VirtioBlkReqHeader", { type: u32, reserved: u32, sector: u64 });

function wr(regs: number, off: number, value: number): void {
  unsafe: { phys_ptr(regs + off, u32).write_volatile(value); }
}

/** Sets the device up and submits one read of sector 1 as chain 0 -> 1 -> 2; returns the page. */
function submit(regs: number): number {
  const page = memory_regions().find((r) => r.kind === "ram")!.start;
  unsafe: {
    alloc_pages(page, 1);
    memset_volatile(paddr_to_vaddr(page), 0, PAGE_SIZE);
    iommu.map(DADDR, page);
    wr(regs, STATUS, 1 | 2);
    wr(regs, DRIVER_FEATURES_SEL, 1);
    wr(regs, DRIVER_FEATURES, 1);
    wr(regs, STATUS, 1 | 2 | 8);
    wr(regs, QUEUE_NUM, QSIZE);
    wr(regs, QUEUE_DESC, DADDR + DESC_OFF);
    wr(regs, QUEUE_DRIVER, DADDR + AVAIL_OFF);
    wr(regs, QUEUE_DEVICE, DADDR + USED_OFF);
    wr(regs, QUEUE_READY, 1);
    wr(regs, STATUS, 1 | 2 | 4 | 8);
    phys_ptr(page + AVAIL_OFF, u16).write_volatile(1); // no interrupts: we poll
    phys_ptr(page + HEADER_OFF, BlkReqHeader).write_volatile({ type: 0, reserved: 0, sector: 1n });
    phys_ptr(page + DESC_OFF, VirtqDesc).write_volatile({ addr: BigInt(DADDR + HEADER_OFF), len: 16, flags: 1, next: 1 });
    phys_ptr(page + DESC_OFF + 16, VirtqDesc).write_volatile({ addr: BigInt(DADDR + DATA_OFF), len: 512, flags: 3, next: 2 });
    phys_ptr(page + DESC_OFF + 32, VirtqDesc).write_volatile({ addr: BigInt(DADDR + STATUS_OFF), len: 1, flags: 2, next: 0 });
    phys_ptr(page + AVAIL_OFF + 4, u16).write_volatile(0);
    phys_ptr(page + AVAIL_OFF + 2, u16).write_volatile(1);
    wr(regs, QUEUE_NOTIFY, 0);
    // A device that never completes (or lies about it) is waited for a bounded time only.
    for (let n = 0; n < 100 && phys_ptr(page + USED_OFF + 2, u16).read_volatile() === 0; n++) yield_now();
  }
  return page;
}

export function main(): void {
  const dev = attach_device(virtio_device({ queue_size: QSIZE }), { hostile: true });
  const regs = dev.mmio!.paddr;
  io_mem_claim(regs, dev.mmio!.len);
  // What each chain in flight belongs to, by head descriptor (Linux's `vq->desc_state`).
  let cookies = null as unknown as ReturnType<typeof alloc<(bigint)[]>>;
  unsafe: {
    cookies = alloc(array(u64, QSIZE));
    for (let i = 0; i < QSIZE; i++) cookies.cast(u64).add(i).write(BigInt(100 + i));
  }
  const page = submit(regs);
  unsafe: {
    const id = phys_ptr(page + USED_OFF + 4, u32).read_volatile();
    // The device's word is checked before it indexes anything: an id out of range is dropped.
    if (id < QSIZE) cookies.cast(u64).add(id).read();
    console.log("request completed or rejected");
    dealloc(cookies, array(u64, QSIZE));
  }
}
