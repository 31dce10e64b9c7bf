// A bounce-buffer pool gives an idle frame to the slab allocator, which retypes it in place
// (`untyped → slab`). A block request still in flight holds a pointer into the old bounce buffer
// and writes its completion status through it: a pointer made before `retype_pages` is `use-after-free` after it.
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

    // the pool shrinker runs before the request completes: the frame becomes 128-byte slab slots
    retype_pages(pa, 1, "slab", 128);
    const obj = phys_ptr(pa, u64);
    obj.write(1n);

    // the disk interrupt completes the request
    status.write_volatile(STATUS_OK); //~ ERROR: use-after-free
  }
}
