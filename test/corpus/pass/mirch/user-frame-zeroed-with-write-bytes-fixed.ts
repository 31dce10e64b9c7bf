// A page fault on an anonymous user page allocates a frame and zeroes it with a volatile fill
// (`VmWriter::fill_zeros`, `memset_volatile`), as untyped memory requires; the kernel then reads it
// back with volatile reads only. No UB.
import { u32 } from "kmiri/rt";
import { PAGE_SIZE, alloc_pages, dealloc_pages, memory_regions, memset_volatile, paddr_to_vaddr, phys_ptr } from "kmiri/mirch";

function alloc_user_frame(): number {
  const ram = memory_regions().find((r) => r.kind === "ram")!;
  const pa = Math.ceil(ram.start / PAGE_SIZE) * PAGE_SIZE;
  unsafe: {
    alloc_pages(pa, 1);
  }
  return pa;
}

function handle_anonymous_fault(): number {
  const pa = alloc_user_frame();
  unsafe: {
    memset_volatile(paddr_to_vaddr(pa), 0, PAGE_SIZE);
  }
  return pa;
}

export function main(): void {
  const pa = handle_anonymous_fault();
  unsafe: {
    phys_ptr(pa + 0x104, u32).write_volatile(0xc0ffee); // the user's first store
    console.log(phys_ptr(pa + 0x100, u32).read_volatile(), phys_ptr(pa + 0x104, u32).read_volatile().toString(16));
    dealloc_pages(pa, 1);
  }
}
