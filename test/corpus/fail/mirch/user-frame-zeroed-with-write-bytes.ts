// A page fault on an anonymous user page allocates a frame and zeroes it with `ptr::write_bytes`
// through the linear map. A user frame is untyped memory (user space and devices may touch it at
// any time): only volatile fills and copies may write it, so the plain fill is `page-state`.
import { u32, u8, write_bytes } from "kmiri/rt";
import { PAGE_SIZE, alloc_pages, memory_regions, phys_ptr } from "kmiri/mirch";

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
    write_bytes(phys_ptr(pa, u8), 0, PAGE_SIZE); //~ ERROR: page-state
  }
  return pa;
}

export function main(): void {
  const pa = handle_anonymous_fault();
  unsafe: {
    console.log(phys_ptr(pa + 0x100, u32).read_volatile());
  }
}
