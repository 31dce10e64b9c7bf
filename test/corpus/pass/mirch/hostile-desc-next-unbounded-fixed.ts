// The hardened twin of hostile-desc-next-unbounded: every index read back from memory the device
// can write is checked against the queue size before it is used (a hostile device may rewrite it).
import { PAGE_SIZE, alloc_pages, attach_device, io_mem_claim, iommu, memory_regions, memset_volatile, paddr_to_vaddr, phys_ptr } from "kmiri/mirch";
import type { DeviceContext } from "kmiri/mirch";
import { alloc, array, dealloc, struct, u16, u32, u64, type Ptr } from "kmiri/rt";

const QSIZE = 8;
const DADDR = 0x4000_0000;
const DESC = 0x000, USED = 0x200;
const NEXT = 1;
const VirtqDesc = struct("VirtqDesc", { addr: u64, len: u32, flags: u16, next: u16 });

// The device: on a notify it completes chain 1 -> 2; a hostile one also scribbles on the head's `next`.
const ring_device = {
  name: "ring",
  mmio_write(off: number, _size: number, _v: number | bigint, dev: DeviceContext): void {
    if (off !== 0x50) return;
    dev.dma_write_u16(DADDR + DESC + 16 * 1 + 14, dev.choose(2, 16, [QSIZE, QSIZE + 1]));
    dev.dma_write_u32(DADDR + USED + 4, 1);
    dev.dma_write_u16(DADDR + USED + 2, 1);
  },
};

export function main(): void {
  const dev = attach_device(ring_device, { mmio_len: PAGE_SIZE, hostile: true });
  const regs = dev.mmio!.paddr;
  io_mem_claim(regs, 0x100);
  const page = memory_regions().find((r) => r.kind === "ram")!.start;
  let state: Ptr<bigint[]>;
  unsafe: {
    state = alloc(array(u64, QSIZE)); // what each descriptor carries (Linux's `desc_extra`)
    for (let i = 0; i < QSIZE; i++) state.cast(u64).add(i).write(1n);
    alloc_pages(page, 1);
    memset_volatile(paddr_to_vaddr(page), 0, PAGE_SIZE);
    iommu.map(DADDR, page);
    // Descriptor 0 is never used (flags 0); the chain is 1 -> 2.
    phys_ptr(page + DESC + 16, VirtqDesc).write_volatile({ addr: 0n, len: 16, flags: NEXT, next: 2 });
    phys_ptr(page + DESC + 32, VirtqDesc).write_volatile({ addr: 0n, len: 1, flags: 0, next: 0 });
    phys_ptr(regs + 0x50, u32).write_volatile(0); // notify
    // Detach the completed chain, freeing each descriptor's state.
    let i = phys_ptr(page + USED + 4, u32).read_volatile();
    for (;;) {
      if (i >= QSIZE) break;
      state.cast(u64).add(i).write(0n);
      const d = phys_ptr(page + DESC + 16 * i, VirtqDesc).read_volatile();
      if ((d.flags & NEXT) === 0) break;
      i = d.next;
    }
    console.log("chain detached");
    dealloc(state, array(u64, QSIZE));
  }
}
