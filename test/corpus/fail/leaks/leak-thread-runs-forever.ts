//@ flags: --many-seeds 0..16
// Like pass/leaks/thread-detached-finishing-after-main.ts, but `main` also starts a watchdog CPU
// that ticks forever and a poller that waits for a stop flag nobody ever sets, and joins neither.
// When `main` returns, the main thread yields to them a bounded number of times (Miri's 256
// yields at shutdown); neither can finish in those, so both are leaked: "the main thread
// terminated without waiting for all remaining threads", at the first one's `spawn`, every seed.
import { AtomicBool, AtomicU32, spawn, spin_loop, static_, yield_now } from "kmiri/rt";

const DONE = static_(AtomicBool, false);
const STOP = static_(AtomicBool, false);
const TICKS = static_(AtomicU32, 0);

export function main(): void {
  spawn(() => { //~ ERROR: leak
    for (;;) {
      TICKS.as_ref().fetch_add(1, "Relaxed");
      yield_now();
    }
  });
  spawn(() => {
    while (!STOP.as_ref().load("Acquire")) spin_loop();
  });
  spawn(() => {
    DONE.as_ref().store(true, "Release");
  });
  while (!DONE.as_ref().load("Acquire")) spin_loop();
  console.log("booted");
}
