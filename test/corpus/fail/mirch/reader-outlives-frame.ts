// A page-cache read makes a reader (a pointer into the cached frame, through the linear map), then
// drops its handle on the frame, which was the last one: the frame goes back to the allocator.
// The reader is used afterwards: a pointer made before `dealloc_pages` and used after it is `use-after-free`.
import { u32, type Ptr } from "kmiri/rt";
import { PAGE_SIZE, alloc_pages, dealloc_pages, memory_regions, memset_volatile, paddr_to_vaddr, phys_ptr } from "kmiri/mirch";

interface CachedPage {
  pa: number;
  refs: number;
}

function page_put(page: CachedPage): void {
  if (--page.refs === 0) {
    unsafe: {
      dealloc_pages(page.pa, 1);
    }
  }
}

function reader(page: CachedPage, offset: number): Ptr<number> {
  return phys_ptr(page.pa + offset, u32);
}

export function main(): void {
  const ram = memory_regions().find((r) => r.kind === "ram")!;
  const page: CachedPage = { pa: Math.ceil(ram.start / PAGE_SIZE) * PAGE_SIZE, refs: 1 };
  unsafe: {
    alloc_pages(page.pa, 1);
    memset_volatile(paddr_to_vaddr(page.pa), 0x5a, PAGE_SIZE); // read in from disk
  }
  const r = reader(page, 64);
  page_put(page); // the cache was shrunk meanwhile: this was the last reference
  unsafe: {
    console.log(r.read_volatile().toString(16)); //~ ERROR: use-after-free
  }
}
