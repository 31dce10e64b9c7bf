// A free-frame list is torn down with a loop that stops when `next` is null, so the last node is
// never freed. The first two nodes are freed; the third (the tail) is leaked. All nodes come from
// the same `alloc` in `push`, which is where the leak is reported.
import { alloc, dealloc, null_mut, ptr, struct, u32 } from "kmiri/rt";
import type { Layout, Ptr } from "kmiri/rt";

interface FrameV {
  next: Ptr<FrameV>;
  pfn: number;
}
const Frame: Layout<FrameV> = struct("FreeFrame", { next: ptr((): Layout<FrameV> => Frame), pfn: u32 });

function push(head: Ptr<FrameV>, pfn: number): Ptr<FrameV> {
  "unsafe";
  const n = alloc(Frame); //~ ERROR: leak
  n.write({ next: head, pfn });
  return n;
}

export function main(): void {
  unsafe: {
    let head = null_mut(Frame);
    for (let pfn = 1; pfn <= 3; pfn++) head = push(head, pfn);
    let cur = head;
    while (!cur.field("next").read().is_null()) {
      const next = cur.field("next").read();
      dealloc(cur, Frame);
      cur = next;
    }
  }
}
