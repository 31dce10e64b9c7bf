//@ flags: --many-seeds 0..32
// Dekker's mutual exclusion with Release stores and Acquire loads: each thread raises its own
// flag, then enters the critical section if it does not see the other's flag. Release/Acquire
// does not forbid store buffering — both loads may read the older `false` (the initial value) even
// though both stores already happened — so both threads may enter, and their plain accesses to the
// protected counter race. With SeqCst (test/corpus/pass/weak-memory/weak-dekker-seqcst.ts) the
// outcome is forbidden. Miri: `tests/pass/0weak_memory/weak.rs` shows the same outcome.
import { AtomicBool, alloc_zeroed, dealloc, spawn, struct, u64 } from "kmiri/rt";

const Dekker = struct("Dekker", { flag0: AtomicBool, flag1: AtomicBool, inside: u64 });

export function main(): void {
  unsafe: {
    const d = alloc_zeroed(Dekker);
    const enter = (mine: "flag0" | "flag1", theirs: "flag0" | "flag1"): void => {
      unsafe: {
        d.field(mine).as_ref().store(true, "Release");
        if (!d.field(theirs).as_ref().load("Acquire")) {
          // The critical section: only one thread may be here.
          d.field("inside").write(d.field("inside").read() + 1n); //~ ERROR: data-race
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
