//@ flags: --preemption-rate 0 --many-seeds 0..16
// A release sequence broken by a plain store. cpu1 publishes `data` with a Release store of 1;
// cpu2 sees 1 and *stores* 2 (Relaxed); cpu3 acquires the 2. Only read-modify-writes continue a
// release sequence (C++20): cpu2's store ends it, so cpu3 synchronises with nothing and its read of
// `data` races with cpu1's write. The twin with `fetch_add` is test/corpus/pass/races/atomic-release-sequence-rmw.ts.
// With weak memory (on by default) cpu3's Acquire load may read cpu1's older Release store of 1
// instead, and then it does synchronise with cpu1: that run has no race, so the case runs 16 seeds
// (the race is found on about a quarter of them).
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
        state.as_ref().store(2, "Relaxed");
      }
    });
    const t3 = spawn(() => {
      unsafe: {
        while (state.as_ref().load("Acquire") !== 2) spin_loop();
        return c.field("data").read(); //~ ERROR: data-race
      }
    });
    t1.join();
    t2.join();
    t3.join();
    dealloc(c, Chan);
  }
}
