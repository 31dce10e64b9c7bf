//@ flags: --borrow-model none
// An Acquire load of read-only memory (an immutable static without interior mutability, viewed as
// an atomic through a cast pointer) is UB, as in Miri (`tests/fail/concurrency/read_only_atomic_load_acquire.rs`):
// targets may implement a non-relaxed load with a read-modify-write, which needs writable memory.
// A Relaxed load is allowed (pass/weak-memory/weak-read-only-relaxed-load.ts).
// Stacked Borrows would reject the `&AtomicU32` made from a read-only tag first; as in Miri's test,
// the aliasing model is off so that the memory's check is what fails.
import { AtomicU32, static_, u32 } from "kmiri/rt";

const X = static_(u32, 0, { name: "X" });

export function main(): void {
  const x = X.as_ptr().cast(AtomicU32);
  unsafe: {
    console.log(x.as_ref().load("Acquire")); //~ ERROR: read-only
  }
}
