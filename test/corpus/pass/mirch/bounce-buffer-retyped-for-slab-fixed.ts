// A bounce-buffer pool gives a frame to the slab allocator only once the block request using it
// has completed: the completion status is written and read through the old pointer first, then
// the frame is retyped in place (`untyped → slab`) and used through new pointers. No UB.
import { u32, u64 } from "kmiri/rt";
import { PAGE_SIZE, alloc_pages, memory_regions, memset_volatile, paddr_to_vaddr, phys_ptr, retype_pages } from "kmiri/mirch";

const STATUS_OK = 0;

export function main(): void {
  const ram = memory_regions().find((r) => r.kind === "ram")!;
  const pa = Math.ceil(ram.start / PAGE_SIZE) * PAGE_SIZE;
  unsafe: {
    alloc_pages(pa, 1);
    memset_volatile(paddr_to_vaddr(pa), 0xff, PAGE_SIZE);
    const status = phys_ptr(pa + 512, u32); // the request's status byte lies after its 512-byte sector

    // the disk interrupt completes the request
    status.write_volatile(STATUS_OK);
    console.log("request status", status.read_volatile());

    // now the pool shrinker may hand the idle frame to the slab: 128-byte slots
    retype_pages(pa, 1, "slab", 128);
    const a = phys_ptr(pa, u64);
    const b = phys_ptr(pa + 128, u64);
    a.write(1n);
    b.write(a.read() + 41n);
    console.log("slab objects", String(a.read()), String(b.read()));
  }
}
