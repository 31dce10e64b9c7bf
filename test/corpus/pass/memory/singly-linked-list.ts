// A free-frame list: frames are pushed and popped at the head, the list is walked, and every node
// is freed exactly once, reading `next` before freeing. No UB and nothing leaked.
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

function pop(head: Ptr<FrameV>): { head: Ptr<FrameV>; pfn: number } {
  "unsafe";
  const { next, pfn } = head.read();
  dealloc(head, Frame);
  return { head: next, pfn };
}

export function main(): void {
  unsafe: {
    let head = null_mut(Frame);
    for (let pfn = 1; pfn <= 5; pfn++) head = push(head, pfn * 0x10);
    const popped = pop(head);
    head = popped.head;
    let count = 0;
    let sum = 0;
    for (let cur = head; !cur.is_null(); cur = cur.field("next").read()) {
      count++;
      sum += cur.field("pfn").read();
    }
    console.log(popped.pfn, count, sum);
    while (!head.is_null()) {
      const next = head.field("next").read();
      dealloc(head, Frame);
      head = next;
    }
  }
}
