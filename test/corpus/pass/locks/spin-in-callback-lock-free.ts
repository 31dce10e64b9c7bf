// The twin of fail/locks/spin-in-unsuspendable-callback.ts: a spin lock taken inside a callback of
// `Array.from` (code kmiri cannot suspend) while no other thread holds it. The weak compare-exchange
// fails spuriously now and then and the loop spins, but it succeeds within a few tries: clean.
import { AtomicBool, spin_loop, static_ } from "kmiri/rt";

const LOCK = static_(AtomicBool, false, { name: "LOCK" });

function with_lock(i: number): number {
  const w = LOCK.as_ref();
  while (!w.compare_exchange_weak(false, true, "Acquire", "Relaxed").ok) spin_loop();
  w.store(false, "Release");
  return i * 2;
}

export function main(): void {
  const got = Array.from({ length: 200 }, (_, i) => with_lock(i));
  console.log(got.length, got[199]);
}
