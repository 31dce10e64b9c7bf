//@ flags: --many-seeds 0..20
// Two locks (in named statics: one class each) always taken in the same order on every path and
// CPU: lockdep's graph has one edge and no cycle, and the data they protect is race-free.
import { AtomicBool, lock_acquired, lock_released, spawn, spin_loop, static_, struct, u32, type Ref } from "kmiri/rt";

const SpinLock = struct("SpinLock", { locked: AtomicBool });
type Lock = Ref<{ locked: boolean }>;

const VM_LOCK = static_(SpinLock, { locked: false }, { name: "VM_LOCK" });
const PT_LOCK = static_(SpinLock, { locked: false }, { name: "PT_LOCK" });
const MAPPED = static_(u32, 0, { mut: true, name: "MAPPED" });

function lock(l: Lock): void {
  while (!l.field("locked").compare_exchange(false, true, "Acquire", "Relaxed").ok) spin_loop();
  lock_acquired(l);
}

function unlock(l: Lock): void {
  lock_released(l);
  l.field("locked").store(false, "Release");
}

function map_one(): void {
  lock(VM_LOCK.as_ref());
  lock(PT_LOCK.as_ref());
  unsafe: {
    MAPPED.write(MAPPED.read() + 1);
  }
  unlock(PT_LOCK.as_ref());
  unlock(VM_LOCK.as_ref());
}

export function main(): void {
  const cpus = [spawn(map_one), spawn(map_one), spawn(map_one)];
  for (const c of cpus) c.join();
  unsafe: {
    console.log(MAPPED.read());
  }
}
