//@ flags: --many-seeds 0..32
// Dekker's mutual exclusion with SeqCst stores and loads: each thread raises its own flag, then
// enters the critical section if it does not see the other's flag. SeqCst forbids store buffering
// (both loads reading the initial `false`): the second store in the single total order of SC
// operations is seen by the other thread's later SC load, so at most one thread enters, on every
// seed. The same program with Release/Acquire races (fail/weak-memory/weak-store-buffering.ts).
import { AtomicBool, alloc_zeroed, dealloc, spawn, struct, u64 } from "kmiri/rt";

const Dekker = struct("Dekker", { flag0: AtomicBool, flag1: AtomicBool, inside: u64 });

export function main(): void {
  unsafe: {
    const d = alloc_zeroed(Dekker);
    const enter = (mine: "flag0" | "flag1", theirs: "flag0" | "flag1"): void => {
      unsafe: {
        d.field(mine).as_ref().store(true, "SeqCst");
        if (!d.field(theirs).as_ref().load("SeqCst")) {
          // The critical section: only one thread may be here.
          d.field("inside").write(d.field("inside").read() + 1n);
        }
      }
    };
    const a = spawn(() => enter("flag0", "flag1"));
    const b = spawn(() => enter("flag1", "flag0"));
    a.join();
    b.join();
    console.log(d.field("inside").read() <= 2n);
    dealloc(d, Dekker);
  }
}
