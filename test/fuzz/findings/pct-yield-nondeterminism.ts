// FINDING (fuzz): under PCT (`--pct D`), `yield_now` does not let another thread run, and the PCT
// step estimate depends on the wall clock.
//
// 1. This program is correct (the consumer waits by yielding until `main` stores the flag). With
//    the random scheduler every seed passes; with `--pct 1` half the seeds end in a false
//    `resource-exhaustion: ... is this loop infinite?` at the `while` (`kmiri run FILE
//    --many-seeds 0..50 --pct 1 --pct-steps 50 --max-steps 100000`: 25/50 seeds fail): PCT always
//    picks the runnable thread of highest priority (src/concurrency/scheduler.ts `PctPolicy.pick`,
//    ≈ line 245), and `yield_now` only ends the running thread's budget (src/interp/machine.ts
//    `yieldNow`, ≈ line 487), so a higher-priority thread that yields is picked again, forever
//    (`spin_loop` does not have this problem: a spinning thread is blocked until progress).
// 2. Without `pctSteps`, PCT's `k` is the step count of a probe run with seed 0 and PCT depth 1
//    (src/driver/run.ts `estimatePctSteps`), which passes the run's `timeoutMs` on: the probe of
//    this program livelocks (1.), the time limit stops it, and its step count — so `pct.steps`,
//    `pct.bound`, and for depth ≥ 2 the change points and the whole schedule — depends on the
//    machine's speed. Two runs with the same seed, `pct: 1`, `timeoutMs: 300`, a large `maxSteps`
//    give `pct.steps` 28439, 32297, 35417 (and each run waits 300 ms for the probe).
//
// Generator feature: `opt.pct.yield-wait` (a yielding wait in a program run with `pct`).
import { AtomicBool, spawn, static_, yield_now } from "kmiri/rt";

const READY = static_(AtomicBool, false);

export function main(): void {
  const consumer = spawn(() => {
    while (!READY.as_ref().load("Acquire")) yield_now();
  });
  READY.as_ref().store(true, "Release");
  consumer.join();
}
