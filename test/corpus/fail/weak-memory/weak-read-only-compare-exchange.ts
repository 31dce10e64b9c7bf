//@ flags: --borrow-model none
// A compare-exchange on read-only memory is UB even when it fails, as in Miri
// (`tests/fail/concurrency/read_only_atomic_cmpxchg.rs`): it needs writable memory on most targets.
// Stacked Borrows would reject the `&AtomicU32` made from a read-only tag first; as in Miri's test,
// the aliasing model is off so that the memory's check is what fails.
import { AtomicU32, static_, u32 } from "kmiri/rt";

const X = static_(u32, 0, { name: "X" });

export function main(): void {
  const x = X.as_ptr().cast(AtomicU32);
  unsafe: {
    console.log(x.as_ref().compare_exchange(1, 2, "Relaxed", "Relaxed").ok); //~ ERROR: read-only
  }
}
