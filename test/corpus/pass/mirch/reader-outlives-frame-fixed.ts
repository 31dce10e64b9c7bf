// A page-cache read makes a reader (a pointer into the cached frame, through the linear map) and
// uses it while it still holds its handle on the frame; only then does it drop the handle, which
// frees the frame. No UB.
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
  unsafe: {
    console.log(r.read_volatile().toString(16));
  }
  page_put(page);
  console.log("refs", page.refs);
}
