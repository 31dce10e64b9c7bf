// `offset_from` between pointers into two frames allocated separately: the range between them is
// not in one allocation (Miri: "the memory range between them is not in-bounds of an allocation").
import { u8 } from "kmiri/rt";
import { PAGE_SIZE, alloc_pages, dealloc_pages, memory_regions, phys_ptr } from "kmiri/mirch";

export function main(): void {
  const pa = memory_regions().find((r) => r.kind === "ram")!.start;
  unsafe: {
    alloc_pages(pa, 1);
    alloc_pages(pa + PAGE_SIZE, 1);
    const p = phys_ptr(pa, u8);
    const q = phys_ptr(pa + PAGE_SIZE + 8, u8);
    console.log(q.offset_from(p)); //~ ERROR: out-of-bounds
    dealloc_pages(pa, 1);
    dealloc_pages(pa + PAGE_SIZE, 1);
  }
}
