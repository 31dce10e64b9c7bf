//@ flags: --seed 0
// A thread that spins on a lock inside a callback of `Array.from` (code kmiri cannot suspend)
// while another thread holds it: the holder never runs again. kmiri says so after a bounded number
// of spins instead of looping until the time limit.
import { AtomicBool, spawn, spin_loop, static_ } from "kmiri/rt";

const LOCK = static_(AtomicBool, false, { name: "LOCK" });
const HELD = static_(AtomicBool, false, { name: "HELD" });

function with_lock(): number {
  const w = LOCK.as_ref();
  while (!w.compare_exchange_weak(false, true, "Acquire", "Relaxed").ok) {
    while (w.load("Relaxed")) spin_loop(); //~ ERROR: unsupported
  }
  w.store(false, "Release");
  return 1;
}

export function main(): void {
  const t = spawn(() => {
    const w = LOCK.as_ref();
    while (!w.compare_exchange_weak(false, true, "Acquire", "Relaxed").ok) spin_loop();
    HELD.as_ref().store(true, "Release");
    for (let i = 0; i < 50; i++) HELD.as_ref().load("Relaxed");
    w.store(false, "Release");
  });
  while (!HELD.as_ref().load("Acquire")) spin_loop();
  const got = Array.from({ length: 2 }, () => with_lock());
  t.join();
  console.log(got.length);
}
