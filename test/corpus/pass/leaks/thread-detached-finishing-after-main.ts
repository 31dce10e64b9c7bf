//@ flags: --many-seeds 0..64
// `main` starts a flush worker and never joins it: it waits (Acquire) for the worker's "done"
// flag, then returns. The worker still has a few steps to take after it set the flag (it drops
// its state), so on many schedules it has not ended when `main` returns. Miri does not call that
// a leak: when `main` returns, the main thread yields to the other threads up to 256 times
// (`MAIN_THREAD_YIELDS_AT_SHUTDOWN`, when threads are preempted at all) before the program ends,
// and the worker finishes in those. No seed may report anything.
import { AtomicBool, AtomicU32, spawn, spin_loop, static_ } from "kmiri/rt";

const DONE = static_(AtomicBool, false);
const FLUSHED = static_(AtomicU32, 0);

export function main(): void {
  spawn(() => {
    for (let i = 0; i < 4; i++) FLUSHED.as_ref().fetch_add(1, "Relaxed");
    DONE.as_ref().store(true, "Release");
    // After signalling, the worker drops its state: a few more steps before it ends.
    for (let i = 0; i < 6; i++) FLUSHED.as_ref().fetch_add(0, "Relaxed");
  });
  while (!DONE.as_ref().load("Acquire")) spin_loop();
  console.log("flushed", FLUSHED.as_ref().load("Relaxed"));
}
