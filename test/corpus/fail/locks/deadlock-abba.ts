//@ flags: --preemption-rate 0
// The ABBA deadlock happening: each CPU takes its first lock, gives the other a chance to run,
// then spins for the second forever. Every stuck thread is reported: both spinners and `main`,
// waiting in `join`.
import { AtomicBool, lock_acquired, lock_released, spawn, spin_loop, static_, struct, yield_now, type Ref } from "kmiri/rt";

const SpinLock = struct("SpinLock", { locked: AtomicBool });
type Lock = Ref<{ locked: boolean }>;

const A = static_(SpinLock, { locked: false }, { name: "A" });
const B = static_(SpinLock, { locked: false }, { name: "B" });

function lock(l: Lock): void {
  while (!l.field("locked").compare_exchange(false, true, "Acquire", "Relaxed").ok) spin_loop(); //~ ERROR: deadlock, deadlock
  lock_acquired(l);
}

function unlock(l: Lock): void {
  lock_released(l);
  l.field("locked").store(false, "Release");
}

function both(first: Lock, second: Lock): void {
  lock(first);
  yield_now();
  lock(second);
  unlock(second);
  unlock(first);
}

export function main(): void {
  const t1 = spawn(() => both(A.as_ref(), B.as_ref()));
  const t2 = spawn(() => both(B.as_ref(), A.as_ref()));
  t1.join(); //~ ERROR: deadlock
  t2.join();
}
