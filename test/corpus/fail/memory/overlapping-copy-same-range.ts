// `move_desc(ring, from, to)` moves a descriptor between ring slots with `copy_nonoverlapping`,
// and the scheduler calls it with `from == to`. A range overlaps itself, so this is UB even though
// a byte copy onto itself would "work" (`ptr::copy`, or skipping the copy, is the fix).
import { alloc_zeroed, dealloc, copy_nonoverlapping, array, struct, u32, u64 } from "kmiri/rt";
import type { Ptr, Value } from "kmiri/rt";

const Desc = struct("Desc", { addr: u64, len: u32, flags: u32 });
const RING = array(Desc, 8);

function move_desc(ring: Ptr<Value<typeof Desc>>, from: number, to: number): void {
  "unsafe";
  copy_nonoverlapping(ring.add(from), ring.add(to), 1); //~ ERROR: overlapping-copy
}

export function main(): void {
  unsafe: {
    const ring = alloc_zeroed(RING);
    move_desc(ring.cast(Desc), 0, 1);
    move_desc(ring.cast(Desc), 3, 3);
    dealloc(ring, RING);
  }
}
