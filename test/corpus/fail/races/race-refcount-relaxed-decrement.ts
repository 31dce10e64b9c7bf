//@ flags: --preemption-rate 0
// An `Arc`-like object whose decrement is Relaxed: the last owner frees the object, but nothing
// orders the other owner's earlier use of it before the free (Arc's `fetch_sub` must be Release,
// followed by `fence(Acquire)` in the last owner).
import { AtomicUsize, Box, spawn, struct, u64, type Box as BoxT } from "kmiri/rt";

const Inner = struct("ArcInner", { strong: AtomicUsize, value: u64 });
type InnerV = { strong: number; value: bigint };

function use_and_drop(arc: BoxT<InnerV>): bigint {
  const v = arc.as_ref().field("value").read();
  if (arc.as_ref().field("strong").fetch_sub(1, "Relaxed") === 1) {
    arc.drop(); //~ ERROR: data-race
  }
  return v;
}

export function main(): void {
  const arc = Box.new(Inner, { strong: 2, value: 5n });
  const other = spawn(() => use_and_drop(arc));
  use_and_drop(arc);
  other.join();
}
