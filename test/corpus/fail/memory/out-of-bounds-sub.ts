// A ring buffer's "previous slot" helper forgets to wrap at slot 0 and computes `slots.sub(1)`.
// `sub` is in-bounds pointer arithmetic: a result before the start of the allocation is UB at the
// arithmetic itself, even though the pointer is never read.
import { alloc_zeroed, dealloc, array, u32 } from "kmiri/rt";
import type { Ptr } from "kmiri/rt";

function prev_slot(slot: Ptr<number>): Ptr<number> {
  "unsafe";
  return slot.sub(1); //~ ERROR: out-of-bounds
}

export function main(): void {
  unsafe: {
    const slots = alloc_zeroed(array(u32, 8));
    const first = slots.cast(u32);
    const p = prev_slot(first);
    console.log(p.is_null());
    dealloc(slots, array(u32, 8));
  }
}
