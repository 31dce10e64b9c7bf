// Field reads and writes of a struct with a pointer field: a ring of 256 nodes walked 2 million
// steps through `next` (a pointer read back from memory, provenance included), reading `value`
// and updating `hits` at each step.
import { Box, null_mut, ptr, struct, u32, type Layout, type Ptr } from "kmiri/rt";

type NodeV = { next: Ptr<NodeV>; value: number; hits: number };
const Node: Layout<NodeV> = struct("Node", { next: ptr(() => Node), value: u32, hits: u32 });
const NODES = 256;
const STEPS = 2_000_000;

export function main(): void {
  unsafe: {
    const nodes: Ptr<NodeV>[] = [];
    for (let i = 0; i < NODES; i++) nodes.push(Box.into_raw(Box.new(Node, { next: null_mut(Node), value: i, hits: 0 })));
    for (let i = 0; i < NODES; i++) nodes[i]!.field("next").write(nodes[(i * 7 + 1) % NODES]!);
    let p = nodes[0]!;
    let sum = 0;
    for (let k = 0; k < STEPS; k++) {
      sum = (sum + p.field("value").read()) >>> 0;
      const hits = p.field("hits");
      hits.write(hits.read() + 1);
      p = p.field("next").read();
    }
    let total = 0;
    for (const n of nodes) {
      total += n.read().hits;
      Box.from_raw(n).drop();
    }
    console.log("checksum", sum, total);
  }
}
