// Tearing down a free-frame list: the loop frees a node and only then reads its `next` field. The
// node is already deallocated when `next` is read: a use after free (the fix reads `next` first).
import { alloc, dealloc, null_mut, ptr, struct, u32 } from "kmiri/rt";
import type { Layout, Ptr } from "kmiri/rt";

interface FrameV {
  next: Ptr<FrameV>;
  pfn: number;
}
const Frame: Layout<FrameV> = struct("FreeFrame", { next: ptr((): Layout<FrameV> => Frame), pfn: u32 });

function push(head: Ptr<FrameV>, pfn: number): Ptr<FrameV> {
  "unsafe";
  const n = alloc(Frame);
  n.write({ next: head, pfn });
  return n;
}

function free_all(head: Ptr<FrameV>): void {
  "unsafe";
  let cur = head;
  while (!cur.is_null()) {
    dealloc(cur, Frame);
    cur = cur.field("next").read(); //~ ERROR: use-after-free
  }
}

export function main(): void {
  unsafe: {
    let head = null_mut(Frame);
    for (let pfn = 1; pfn <= 3; pfn++) head = push(head, pfn);
    free_all(head);
  }
}
