// An LRU list of cached pages with `prev`/`next` pointers: pages are inserted at the head, one is
// unlinked from the middle and moved to the front, the list is walked both ways, and every node is
// freed once. No UB and nothing leaked.
import { alloc, dealloc, null_mut, ptr, struct, u32 } from "kmiri/rt";
import type { Layout, Ptr } from "kmiri/rt";

interface PageV {
  prev: Ptr<PageV>;
  next: Ptr<PageV>;
  pfn: number;
}
const Page: Layout<PageV> = struct("LruPage", {
  prev: ptr((): Layout<PageV> => Page),
  next: ptr((): Layout<PageV> => Page),
  pfn: u32,
});
const List = struct("LruList", { head: ptr(Page), tail: ptr(Page) });
type ListP = Ptr<{ head: Ptr<PageV>; tail: Ptr<PageV> }>;

function push_front(list: ListP, page: Ptr<PageV>): void {
  "unsafe";
  const old = list.field("head").read();
  page.field("prev").write(null_mut(Page));
  page.field("next").write(old);
  if (old.is_null()) list.field("tail").write(page);
  else old.field("prev").write(page);
  list.field("head").write(page);
}

function unlink(list: ListP, page: Ptr<PageV>): void {
  "unsafe";
  const { prev, next } = page.read();
  if (prev.is_null()) list.field("head").write(next);
  else prev.field("next").write(next);
  if (next.is_null()) list.field("tail").write(prev);
  else next.field("prev").write(prev);
}

export function main(): void {
  unsafe: {
    const list = alloc(List);
    list.write({ head: null_mut(Page), tail: null_mut(Page) });
    const pages: Ptr<PageV>[] = [];
    for (let pfn = 1; pfn <= 4; pfn++) {
      const p = alloc(Page);
      p.field("pfn").write(pfn);
      push_front(list, p);
      pages.push(p);
    }
    // Touch page 2: move it to the front.
    unlink(list, pages[1]);
    push_front(list, pages[1]);

    const forward: number[] = [];
    for (let p = list.field("head").read(); !p.is_null(); p = p.field("next").read()) forward.push(p.field("pfn").read());
    const backward: number[] = [];
    for (let p = list.field("tail").read(); !p.is_null(); p = p.field("prev").read()) backward.push(p.field("pfn").read());
    console.log(forward.join(" "), "|", backward.join(" "));

    while (!list.field("head").read().is_null()) {
      const p = list.field("head").read();
      unlink(list, p);
      dealloc(p, Page);
    }
    dealloc(list, List);
  }
}
