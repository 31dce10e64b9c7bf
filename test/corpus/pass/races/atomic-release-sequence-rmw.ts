//@ flags: --preemption-rate 0
// The twin of test/corpus/fail/races/race-lost-release-sequence.ts: cpu2 moves the state from 1 to 2
// with a read-modify-write (`fetch_add`, even Relaxed), which continues cpu1's release sequence,
// so cpu3's Acquire load of 2 synchronises with cpu1's Release store and its read of `data` is ordered.
import { AtomicU32, alloc_zeroed, dealloc, spawn, spin_loop, struct, u64 } from "kmiri/rt";

const Chan = struct("Chan", { data: u64, state: AtomicU32 });

export function main(): void {
  unsafe: {
    const c = alloc_zeroed(Chan);
    const state = c.field("state");
    const t1 = spawn(() => {
      unsafe: {
        c.field("data").write(99n);
        state.as_ref().store(1, "Release");
      }
    });
    const t2 = spawn(() => {
      unsafe: {
        while (state.as_ref().load("Relaxed") !== 1) spin_loop();
        state.as_ref().fetch_add(1, "Relaxed");
      }
    });
    const t3 = spawn(() => {
      unsafe: {
        while (state.as_ref().load("Acquire") !== 2) spin_loop();
        return c.field("data").read();
      }
    });
    t1.join();
    t2.join();
    console.log(t3.join());
    dealloc(c, Chan);
  }
}
