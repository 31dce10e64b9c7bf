//@ flags: --preemption-rate 0 --many-seeds 0..16
// A lost wake-up: the waker raises the `pending` flag and, racing ahead, clears it again before
// the waiter looked; the waiter spins on a flag that will never be set again.
// With weak memory (on by default) the waiter may read the older `true` and leave its loop, so the
// case runs 16 seeds (the deadlock is found on about 4 in 10).
import { AtomicBool, spawn, spin_loop, static_ } from "kmiri/rt";

const PENDING = static_(AtomicBool, false, { name: "PENDING" });

export function main(): void {
  const waker = spawn(() => {
    PENDING.as_ref().store(true, "Release");
    PENDING.as_ref().store(false, "Relaxed"); // bug: consumed by the waker itself
  });
  const waiter = spawn(() => {
    while (!PENDING.as_ref().load("Acquire")) spin_loop(); //~ ERROR: deadlock
  });
  waker.join();
  waiter.join(); //~ ERROR: deadlock
}
