//@ flags: --preemption-rate 0
// ABBA: the mapping path takes the frame-table lock, then the page-table lock; the reclaim path
// takes them the other way round. The two paths run one after the other here, so nothing
// deadlocks in this run, but lockdep's rule sees the cycle: on two CPUs they can deadlock.
import { AtomicBool, lock_acquired, lock_released, spawn, spin_loop, static_, struct, type Ref } from "kmiri/rt";

const SpinLock = struct("SpinLock", { locked: AtomicBool });
type Lock = Ref<{ locked: boolean }>;

const FRAME_TABLE = static_(SpinLock, { locked: false }, { name: "FRAME_TABLE" });
const PAGE_TABLE = static_(SpinLock, { locked: false }, { name: "PAGE_TABLE" });

function lock(l: Lock): void {
  while (!l.field("locked").compare_exchange(false, true, "Acquire", "Relaxed").ok) spin_loop();
  lock_acquired(l); //~ ERROR: lock-order
}

function unlock(l: Lock): void {
  lock_released(l);
  l.field("locked").store(false, "Release");
}

function map_page(): void {
  lock(FRAME_TABLE.as_ref());
  lock(PAGE_TABLE.as_ref());
  unlock(PAGE_TABLE.as_ref());
  unlock(FRAME_TABLE.as_ref());
}

function reclaim_page(): void {
  lock(PAGE_TABLE.as_ref());
  lock(FRAME_TABLE.as_ref());
  unlock(FRAME_TABLE.as_ref());
  unlock(PAGE_TABLE.as_ref());
}

export function main(): void {
  spawn(map_page).join();
  spawn(reclaim_page).join();
}
