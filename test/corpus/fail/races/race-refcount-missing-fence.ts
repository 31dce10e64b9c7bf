//@ flags: --preemption-rate 0
// `Arc::drop` without its acquire fence: the decrement is Release, but the last owner frees the
// object without acquiring the other owners' releases, so their uses still race with the free.
import { AtomicUsize, Box, spawn, struct, u64, type Box as BoxT } from "kmiri/rt";

const Inner = struct("ArcInner", { strong: AtomicUsize, value: u64 });
type InnerV = { strong: number; value: bigint };

function use_and_drop(arc: BoxT<InnerV>): bigint {
  const v = arc.as_ref().field("value").read();
  if (arc.as_ref().field("strong").fetch_sub(1, "Release") === 1) {
    // missing: fence("Acquire");
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
