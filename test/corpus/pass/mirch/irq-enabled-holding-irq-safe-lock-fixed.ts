// The fix of irq-enabled-holding-irq-safe-lock.ts: the lock is released before interrupts come
// back on, so no interrupt can find it held on its own CPU.
import { AtomicBool, lock_acquired, lock_released, spin_loop, static_ } from "kmiri/rt";
import { alloc_irq_line, irq_disable, irq_restore } from "kmiri/mirch";

const LOCK = static_(AtomicBool, false, { name: "STATS" });
function lock(): void {
  while (!LOCK.as_ref().compare_exchange(false, true, "Acquire", "Relaxed").ok) spin_loop();
  lock_acquired(LOCK.as_ref(), "STATS");
}
function unlock(): void {
  lock_released(LOCK.as_ref());
  LOCK.as_ref().store(false, "Release");
}

export function main(): void {
  const line = alloc_irq_line();
  line.set_affinity(0);
  line.on_active(() => {
    lock();
    unlock();
  });
  line.raise(); // the handler runs at once: STATS is taken in interrupt context
  const was = irq_disable();
  lock();
  unlock();
  irq_restore(was);
}
