// FINDING (fuzz): `kmiri test` never ends on a test that passes on the Machine but waits, in a
// thread spawned first, for a store made after the spawn — even with --max-steps and --timeout.
//
// The checked run is fine (the test passes: the scheduler runs `main` while the consumer yields).
// The hang is the *native* timing run `kmiri test` makes of a test (the `native` column):
// src/driver/run.ts `timeNative` runs the test body on plain Node with no step or time limit; there
// `spawn` runs the closure to completion at once (src/shims/native/threads.ts `spawn`) and
// `yield_now` does nothing, so the consumer loops forever before the producer's store is ever
// reached.
//
// At HEAD (093636b) this hung with `spin_loop` too, and for every test the Machine stopped with
// --max-steps (an endless loop, a spin on a flag nobody sets): commit 771fdc9 runs the native
// timing only for tests that passed and makes `spin_loop` panic after 10M native spins; a wait with
// `yield_now` (or a plain re-check loop) still hangs.
//
//   npx kmiri test test/fuzz/findings/native-timing-hang.ts --timeout 2    # never returns
//
// Generator feature: `test.native-unbounded.yield` (disabled in fuzz.test.ts until fixed).
import { AtomicBool, ktest, spawn, static_, yield_now } from "kmiri/rt";

const READY = static_(AtomicBool, false);

ktest("consumer spawned before the producer, waiting with yield_now", () => {
  const consumer = spawn(() => {
    while (!READY.as_ref().load("Acquire")) yield_now();
  });
  READY.as_ref().store(true, "Release");
  consumer.join();
});
