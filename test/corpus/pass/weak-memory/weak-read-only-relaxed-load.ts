//@ flags: --many-seeds 0..4 --borrow-model none
// A Relaxed atomic load of read-only memory is allowed (as in Miri: `tests/pass/atomic-readonly-load.rs`):
// an immutable static without interior mutability viewed as an atomic through a cast pointer. Any
// other ordering is UB (fail/weak-memory/weak-read-only-acquire-load.ts). A second thread loads it too.
// Stacked Borrows rejects the `&AtomicU32` (shared read-write) made from a read-only tag, so, as
// Miri's test does (it runs Tree Borrows), the aliasing model is off: the check is the memory's.
import { AtomicU32, assert_eq, spawn, static_, u32 } from "kmiri/rt";

const X = static_(u32, 7, { name: "X" });

export function main(): void {
  const x = X.as_ptr().cast(AtomicU32);
  unsafe: {
    const other = spawn(() => {
      unsafe: {
        return x.as_ref().load("Relaxed");
      }
    });
    assert_eq(x.as_ref().load("Relaxed") + other.join(), 14);
  }
}
