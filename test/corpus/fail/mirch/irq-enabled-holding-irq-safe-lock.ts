// lockdep's irq-safety rule, its second half: a lock that an interrupt handler takes is always
// taken here with interrupts off, but interrupts come back on while it is still held (the guards
// dropped in the wrong order). An interrupt arriving then on this CPU spins forever on the lock.
// Reported at the enable, on every run (Linux: "inconsistent {IN-HARDIRQ-W} -> {HARDIRQ-ON-W}").
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
  irq_restore(was); //~ ERROR: lock-order
  unlock();
}
