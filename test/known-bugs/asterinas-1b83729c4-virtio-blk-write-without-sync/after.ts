// The fix, Asterinas 1b83729c4 ("Fix virtio-blk DMA sync for writes"): `DeviceInner::write` calls
// `sync_to_device()` on each of the bio's data slices before pushing it, as it already did for the
// request header and the response. The device reads what the file system wrote.
import {
  PAGE_SIZE, alloc_pages, attach_device, dealloc_pages, dma_stream_begin, dma_stream_end, dma_sync_for_cpu,
  dma_sync_for_device, io_mem_claim, io_mem_release, iommu, memory_regions, memset_volatile, paddr_to_vaddr,
  phys_ptr, virtio_device,
} from "kmiri/mirch";
import { panic, struct, u16, u32, u64, u8, yield_now } from "kmiri/rt";

const QUEUE_SIZE = 8, DADDR = 0x4000_0000; // the four pages below are mapped from DADDR on
const STATUS = 0x070, DRIVER_FEATURES = 0x020, DRIVER_FEATURES_SEL = 0x024, QUEUE_NUM = 0x038;
const QUEUE_READY = 0x044, QUEUE_NOTIFY = 0x050, QUEUE_DESC = 0x080, QUEUE_DRIVER = 0x090, QUEUE_DEVICE = 0x0a0;
const AVAIL = 0x100, USED = 0x200; // in the queue page (coherent DMA: no syncs)
const REQ_SIZE = 16, RESP_SIZE = 1, SECTOR = 512, T_OUT = 1, S_OK = 0;
const BlockReq = struct("BlockReq", { type_: u32, reserved: u32, sector: u64 });
const VirtqDesc = struct("VirtqDesc", { addr: u64, len: u32, flags: u16, next: u16 });

/** A `DmaStream` slice: a physical range, seen by the device at `daddr`. */
interface Slice { pa: number; daddr: number; len: number }
const sync_to_device = (s: Slice) => { unsafe: { dma_sync_for_device(s.pa, s.len); } };
const sync_from_device = (s: Slice) => { unsafe: { dma_sync_for_cpu(s.pa, s.len); } };

function wr(regs: number, off: number, v: number): void {
  unsafe: { phys_ptr(regs + off, u32).write_volatile(v); }
}

/** `DeviceInner::write`: one write request for `data`, the bio's only segment. */
function write(regs: number, queue: number, req_slice: Slice, resp_slice: Slice, data: Slice, sector: number): void {
  "unsafe";
  phys_ptr(req_slice.pa, BlockReq).write_volatile({ type_: T_OUT, reserved: 0, sector: BigInt(sector) });
  sync_to_device(req_slice);
  phys_ptr(resp_slice.pa, u8).write_volatile(0xff);
  sync_to_device(resp_slice);
  const inputs = [req_slice];
  for (const dma_slice of [data]) { // the bio's DMA slices
    sync_to_device(dma_slice);
    inputs.push(dma_slice);
  }
  // add_dma_bufs(inputs, [resp_slice]): a chain of the inputs, then the response.
  const chain = [...inputs.map((s) => ({ s, flags: 0 })), { s: resp_slice, flags: 2 }];
  chain.forEach(({ s, flags }, i) => {
    const next = i + 1 < chain.length;
    phys_ptr(queue + 16 * i, VirtqDesc).write_volatile({ addr: BigInt(s.daddr), len: s.len, flags: flags | (next ? 1 : 0), next: next ? i + 1 : 0 });
  });
  phys_ptr(queue + AVAIL, u16).write_volatile(1); // no interrupts: we poll
  phys_ptr(queue + AVAIL + 4, u16).write_volatile(0);
  phys_ptr(queue + AVAIL + 2, u16).write_volatile(1);
  phys_ptr(regs + QUEUE_NOTIFY, u32).write_volatile(0);
}

export function main(): void {
  const dev = attach_device(virtio_device({ queue_size: QUEUE_SIZE }));
  const regs = dev.mmio!.paddr;
  io_mem_claim(regs, dev.mmio!.len);
  const base = Math.ceil(memory_regions().find((r) => r.kind === "ram")!.start / PAGE_SIZE) * PAGE_SIZE;
  const queue = base; // DmaCoherent: descriptors, avail and used rings
  const slice = (k: number, len: number): Slice => ({ pa: base + k * PAGE_SIZE, daddr: DADDR + k * PAGE_SIZE, len });
  const req_slice = slice(1, REQ_SIZE), resp_slice = slice(2, RESP_SIZE), data = slice(3, SECTOR);
  unsafe: {
    alloc_pages(base, 4);
    memset_volatile(paddr_to_vaddr(base), 0, 4 * PAGE_SIZE);
    for (let k = 0; k < 4; k++) iommu.map(DADDR + k * PAGE_SIZE, base + k * PAGE_SIZE);
    dma_stream_begin(req_slice.pa, REQ_SIZE, "to-device"); // DmaStream::map
    dma_stream_begin(resp_slice.pa, RESP_SIZE, "from-device");
    dma_stream_begin(data.pa, SECTOR, "to-device");
    wr(regs, STATUS, 1 | 2);
    wr(regs, DRIVER_FEATURES_SEL, 1);
    wr(regs, DRIVER_FEATURES, 1); // VIRTIO_F_VERSION_1
    wr(regs, STATUS, 1 | 2 | 8);
    wr(regs, QUEUE_NUM, QUEUE_SIZE);
    wr(regs, QUEUE_DESC, DADDR);
    wr(regs, QUEUE_DRIVER, DADDR + AVAIL);
    wr(regs, QUEUE_DEVICE, DADDR + USED);
    wr(regs, QUEUE_READY, 1);
    wr(regs, STATUS, 1 | 2 | 4 | 8);
    // The file system fills the bio's page, then submits it.
    memset_volatile(paddr_to_vaddr(data.pa), 0x5a, SECTOR);
    write(regs, queue, req_slice, resp_slice, data, 3);
    for (let n = 0; phys_ptr(queue + USED + 2, u16).read_volatile() === 0; n++) {
      if (n === 100) panic("the device did not complete the write");
      yield_now();
    }
    sync_from_device(resp_slice); // handle_irq
    console.log("write of sector 3:", phys_ptr(resp_slice.pa, u8).read_volatile() === S_OK ? "ok" : "error");
    wr(regs, STATUS, 0);
    for (const s of [req_slice, resp_slice, data]) dma_stream_end(s.pa, s.len);
    for (let k = 0; k < 4; k++) iommu.unmap(DADDR + k * PAGE_SIZE);
    dealloc_pages(base, 4);
  }
  io_mem_release(regs, dev.mmio!.len);
}
