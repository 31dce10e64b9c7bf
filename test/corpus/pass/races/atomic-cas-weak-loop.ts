//@ flags: --many-seeds 0..20
// A lock-free stack push with `compare_exchange_weak` in a loop (it may fail spuriously: kmiri makes
// it fail 80% of the time when the values match, as Miri does). Nodes are published with Release
// and popped by main after the joins.
import { AtomicPtr, Box, null_mut, ptr, spawn, spin_loop, static_, struct, u32, type Ptr } from "kmiri/rt";

type NodeV = { next: Ptr<NodeV>; value: number };
const Node: ReturnType<typeof struct<any>> = struct("Node", { next: ptr(() => Node), value: u32 });
const HEAD = static_(AtomicPtr(Node), null_mut(Node), { name: "HEAD" });

function push(value: number): void {
  const node = Box.into_raw(Box.new(Node, { next: null_mut(Node), value })) as Ptr<NodeV>;
  const head = HEAD.as_ref();
  let cur = head.load("Relaxed") as Ptr<NodeV>;
  for (;;) {
    unsafe: {
      node.field("next").write(cur);
    }
    const r = head.compare_exchange_weak(cur, node, "Release", "Relaxed");
    if (r.ok) return;
    cur = r.value as Ptr<NodeV>;
    spin_loop();
  }
}

export function main(): void {
  const cpus = [1, 2, 3].map((v) => spawn(() => push(v)));
  for (const c of cpus) c.join();
  let sum = 0;
  let p = HEAD.as_ref().load("Acquire") as Ptr<NodeV>;
  while (!p.is_null()) {
    unsafe: {
      const n = Box.from_raw(p);
      sum += n.read().value;
      p = n.read().next;
      n.drop();
    }
  }
  console.log(sum);
}
