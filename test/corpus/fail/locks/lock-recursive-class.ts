//@ flags: --preemption-rate 0
// Per-CPU run-queue locks all come from one allocation site, so they are one lock class. Taking
// two of them nested (to migrate a task) is lockdep's "possible recursive locking": two CPUs
// migrating in opposite directions deadlock. (Give each nesting level its own class name when
// the order is fixed.)
import { AtomicBool, Box, lock_acquired, lock_released, spin_loop, struct, type Box as BoxT, type Ref } from "kmiri/rt";

const RunQueue = struct("RunQueue", { locked: AtomicBool, len: AtomicBool });
type Rq = Ref<{ locked: boolean; len: boolean }>;

function new_rq(): BoxT<{ locked: boolean; len: boolean }> {
  return Box.new(RunQueue, { locked: false, len: false });
}

function lock(l: Rq): void {
  while (!l.field("locked").compare_exchange(false, true, "Acquire", "Relaxed").ok) spin_loop();
  lock_acquired(l); //~ ERROR: lock-order
}

function unlock(l: Rq): void {
  lock_released(l);
  l.field("locked").store(false, "Release");
}

export function main(): void {
  const rq0 = new_rq();
  const rq1 = new_rq();
  lock(rq0.as_ref());
  lock(rq1.as_ref());
  unlock(rq1.as_ref());
  unlock(rq0.as_ref());
  rq0.drop();
  rq1.drop();
}
