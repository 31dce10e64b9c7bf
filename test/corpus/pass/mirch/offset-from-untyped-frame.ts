// `offset_from` between two pointers into one untyped frame made with `phys_ptr` (their
// provenance is resolved at each access): the distance, one past the end included, as OSTD's
// `VmReader::remain` computes `end.offset_from(cursor)`.
import { u8, u32 } from "kmiri/rt";
import { PAGE_SIZE, alloc_pages, dealloc_pages, memory_regions, phys_ptr } from "kmiri/mirch";

export function main(): void {
  const pa = memory_regions().find((r) => r.kind === "ram")!.start;
  unsafe: {
    alloc_pages(pa, 2);
    const p = phys_ptr(pa, u8);
    console.log(p.add(16).offset_from(p));
    console.log(p.offset_from(p.add(16)));
    console.log(p.add(2 * PAGE_SIZE).offset_from(p)); // one past the end of the two pages
    const q = phys_ptr(pa + 8, u32);
    console.log(q.add(3).offset_from(q));
    dealloc_pages(pa, 2);
  }
}
