// A pointer stored in memory keeps its tag: a node's `next` written through one pointer and read
// back later is the same pointer, still allowed to write its node, as long as nothing popped it.
import { alloc, dealloc, null_mut, ptr, struct, u32 } from "kmiri/rt";
import type { Layout, Ptr } from "kmiri/rt";

interface NodeV {
  next: Ptr<NodeV>;
  value: number;
}
const Node: Layout<NodeV> = struct("Node", { next: ptr((): Layout<NodeV> => Node), value: u32 });

export function main(): void {
  unsafe: {
    let head = null_mut(Node);
    for (let i = 0; i < 5; i++) {
      const n = alloc(Node);
      // Store a raw pointer made from a `&mut` to the node: it carries that retag's tag.
      const raw = n.as_mut().as_mut_ptr();
      raw.write({ next: head, value: i });
      head = raw;
    }
    for (let p = head; !p.is_null(); p = p.field("next").read()) p.field("value").write(p.field("value").read() * 10);
    let sum = 0;
    while (!head.is_null()) {
      const next = head.field("next").read();
      sum += head.field("value").read();
      dealloc(head, Node);
      head = next;
    }
    console.log("sum", sum);
  }
}
