//@ flags: --many-seeds 0..32
// The fix, 72b5e8958738 ("virtio-ring: store DMA metadata in desc_extra for split virtqueue",
// v5.14): the driver keeps each descriptor's `next` (and addr, len, flags) in `desc_extra`, its own
// memory, writes `desc[i].next` from it and never reads it back. The same hostile device rewrites
// the same `next`; the driver never looks at it.
import {
  PAGE_SIZE, alloc_pages, attach_device, dealloc_pages, io_mem_claim, io_mem_release, iommu, memory_regions,
  memset_volatile, paddr_to_vaddr, phys_ptr,
} from "kmiri/mirch";
import type { DeviceContext } from "kmiri/mirch";
import { alloc_zeroed, array, dealloc, panic, struct, u16, u32, u64, type Ptr } from "kmiri/rt";

const NUM = 256; // the queue size: the descriptor table fills its page exactly
const DESC_DADDR = 0x4000_0000, RING_DADDR = 0x4000_1000; // where the device sees the two areas
const AVAIL = 0x000, USED = 0x800; // offsets in the ring page (virtio 1.x lets the areas lie apart)
const QUEUE_NOTIFY = 0x050;
const VRING_DESC_F_NEXT = 1, VRING_DESC_F_WRITE = 2;
const VirtqDesc = struct("VirtqDesc", { addr: u64, len: u32, flags: u16, next: u16 });
const VringDescExtra = struct("VringDescExtra", { addr: u64, len: u32, flags: u16, next: u16 });
type Desc = { addr: bigint; len: number; flags: number; next: number };

/** The device: completes each new chain; a hostile one then rewrites the `next` of the free-list head. */
function ring_device() {
  let last_avail = 0, used_idx = 0;
  return {
    name: "virtio-ring",
    mmio_write(off: number, _size: number, _value: number | bigint, dev: DeviceContext): void {
      if (off !== QUEUE_NOTIFY) return;
      const avail_idx = dev.dma_read_u16(RING_DADDR + AVAIL + 2);
      for (; last_avail !== avail_idx; last_avail = (last_avail + 1) & 0xffff) {
        const head = dev.dma_read_u16(RING_DADDR + AVAIL + 4 + 2 * (last_avail % NUM));
        let i = head;
        for (let n = 0; n < NUM && (dev.dma_read_u16(DESC_DADDR + 16 * i + 12) & VRING_DESC_F_NEXT) !== 0; n++) {
          i = dev.dma_read_u16(DESC_DADDR + 16 * i + 14) % NUM;
        }
        dev.dma_write_u32(RING_DADDR + USED + 4 + 8 * (used_idx % NUM), head);
        dev.dma_write_u32(RING_DADDR + USED + 8 + 8 * (used_idx % NUM), 0);
        used_idx = (used_idx + 1) & 0xffff;
        dev.dma_write_u16(RING_DADDR + USED + 2, used_idx);
        // Iago: the descriptor after the chain heads the driver's free list.
        if (dev.hostile && i + 1 < NUM) dev.dma_write_u16(DESC_DADDR + 16 * (i + 1) + 14, dev.choose(i + 2, 16, [NUM + 1, 2 * NUM]));
      }
    },
  };
}

/** The driver's side of one split virtqueue (`struct vring_virtqueue`). */
interface Vq {
  desc: Ptr<Desc>; // the descriptor table, shared with the device
  ring: number; // physical address of the page holding the avail and used rings
  desc_state: Ptr<number[]>; // per head: the token handed to add (0: none)
  desc_extra: Ptr<Desc>; // per descriptor: what the driver wrote, in driver memory
  free_head: number;
  num_free: number;
  avail_idx: number;
  last_used_idx: number;
}

function virtqueue_add_split(vq: Vq, sgs: { addr: number; len: number; write: boolean }[], data: number): void {
  "unsafe";
  if (vq.num_free < sgs.length) panic("no room in the queue");
  const head = vq.free_head;
  let i = head, prev = head;
  for (const sg of sgs) {
    const flags = VRING_DESC_F_NEXT | (sg.write ? VRING_DESC_F_WRITE : 0);
    const extra = vq.desc_extra.add(i);
    const next = extra.field("next").read(); // the driver's own word
    vq.desc.add(i).write_volatile({ addr: BigInt(sg.addr), len: sg.len, flags, next }); // write-only for the driver
    extra.write({ addr: BigInt(sg.addr), len: sg.len, flags, next });
    prev = i;
    i = next;
  }
  const last = vq.desc.add(prev).field("flags"); // last one doesn't continue
  last.write_volatile(last.read_volatile() & ~VRING_DESC_F_NEXT);
  const last_extra = vq.desc_extra.add(prev).field("flags");
  last_extra.write(last_extra.read() & ~VRING_DESC_F_NEXT);
  vq.num_free -= sgs.length;
  vq.free_head = i;
  vq.desc_state.cast(u32).add(head).write(data);
  phys_ptr(vq.ring + AVAIL + 4 + 2 * (vq.avail_idx % NUM), u16).write_volatile(head);
  vq.avail_idx = (vq.avail_idx + 1) & 0xffff;
  phys_ptr(vq.ring + AVAIL + 2, u16).write_volatile(vq.avail_idx);
}

/** Puts the chain at `head` back on the free list (`detach_buf_split`). */
function detach_buf_split(vq: Vq, head: number): void {
  "unsafe";
  vq.desc_state.cast(u32).add(head).write(0);
  let i = head;
  while ((vq.desc.add(i).field("flags").read_volatile() & VRING_DESC_F_NEXT) !== 0) {
    i = vq.desc_extra.add(i).field("next").read();
    vq.num_free++;
  }
  vq.desc_extra.add(i).field("next").write(vq.free_head);
  vq.free_head = head;
  vq.num_free++;
}

/** The token of the next completed chain, or 0 (`virtqueue_get_buf`); the used id is checked. */
function virtqueue_get_buf(vq: Vq): number {
  "unsafe";
  if (phys_ptr(vq.ring + USED + 2, u16).read_volatile() === vq.last_used_idx) return 0;
  const id = phys_ptr(vq.ring + USED + 4 + 8 * (vq.last_used_idx % NUM), u32).read_volatile();
  vq.last_used_idx = (vq.last_used_idx + 1) & 0xffff;
  if (id >= NUM) return 0; // "id %u out of range"
  const data = vq.desc_state.cast(u32).add(id).read();
  if (data === 0) return 0; // "id %u is not a head!"
  detach_buf_split(vq, id);
  return data;
}

export function main(): void {
  const dev = attach_device(ring_device(), { hostile: true });
  const regs = dev.mmio!.paddr;
  io_mem_claim(regs, dev.mmio!.len);
  const desc_pa = Math.ceil(memory_regions().find((r) => r.kind === "ram")!.start / PAGE_SIZE) * PAGE_SIZE;
  const ring_pa = desc_pa + PAGE_SIZE;
  unsafe: {
    alloc_pages(desc_pa, 1); // two allocations: the table, and the rings
    alloc_pages(ring_pa, 1);
    memset_volatile(paddr_to_vaddr(desc_pa), 0, 2 * PAGE_SIZE);
    iommu.map(DESC_DADDR, desc_pa);
    iommu.map(RING_DADDR, ring_pa);
    const vq: Vq = {
      desc: phys_ptr(desc_pa, VirtqDesc), ring: ring_pa, desc_state: alloc_zeroed(array(u32, NUM)),
      desc_extra: alloc_zeroed(array(VringDescExtra, NUM)).cast(VringDescExtra),
      free_head: 0, num_free: NUM, avail_idx: 0, last_used_idx: 0,
    };
    for (let i = 0; i < NUM - 1; i++) vq.desc_extra.add(i).field("next").write(i + 1); // the free list
    // A request of two buffers (a header out, a status in), completed by the device.
    virtqueue_add_split(vq, [{ addr: 0x10_0000, len: 16, write: false }, { addr: 0x10_1000, len: 1, write: true }], 1);
    phys_ptr(regs + QUEUE_NOTIFY, u32).write_volatile(0);
    console.log("completed", virtqueue_get_buf(vq));
    // The next request walks the free list again, in desc_extra: 0 -> 1 -> 2 -> 3.
    const sgs = [0, 1, 2, 3].map((k) => ({ addr: 0x20_0000 + k * PAGE_SIZE, len: PAGE_SIZE, write: k > 0 }));
    virtqueue_add_split(vq, sgs, 2);
    phys_ptr(regs + QUEUE_NOTIFY, u32).write_volatile(0);
    console.log("completed", virtqueue_get_buf(vq));
    dealloc(vq.desc_state, array(u32, NUM));
    dealloc(vq.desc_extra.cast(array(VringDescExtra, NUM)), array(VringDescExtra, NUM));
    iommu.unmap(DESC_DADDR);
    iommu.unmap(RING_DADDR);
    dealloc_pages(desc_pa, 1);
    dealloc_pages(ring_pa, 1);
  }
  io_mem_release(regs, dev.mmio!.len);
}
