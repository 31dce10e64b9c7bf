// A function that takes the timer lock calls a helper that takes it again: a non-reentrant spin
// lock waits for itself forever. The report is at the spin, and points at where the thread
// already took the lock.
import { AtomicBool, lock_acquired, lock_released, spin_loop, static_, struct, u32, type Ref } from "kmiri/rt";

const SpinLock = struct("SpinLock", { locked: AtomicBool });
type Lock = Ref<{ locked: boolean }>;

const TIMER_LOCK = static_(SpinLock, { locked: false }, { name: "TIMER_LOCK" });
const JIFFIES = static_(u32, 0, { mut: true, name: "JIFFIES" });

function lock(l: Lock): void {
  while (!l.field("locked").compare_exchange(false, true, "Acquire", "Relaxed").ok) spin_loop(); //~ ERROR: deadlock
  lock_acquired(l);
}

function unlock(l: Lock): void {
  lock_released(l);
  l.field("locked").store(false, "Release");
}

function read_jiffies(): number {
  lock(TIMER_LOCK.as_ref());
  unsafe: {
    const j = JIFFIES.read();
    unlock(TIMER_LOCK.as_ref());
    return j;
  }
}

function timer_tick(): void {
  lock(TIMER_LOCK.as_ref());
  unsafe: {
    JIFFIES.write(read_jiffies() + 1);
  }
  unlock(TIMER_LOCK.as_ref());
}

export function main(): void {
  timer_tick();
}
