//@ flags: --many-seeds 0..8
// CPU 0 takes the shootdown lock, sends an inter-processor call to CPU 1 (idle: no thread runs on
// it) and waits, still holding the lock, for the handler to acknowledge. The handler takes the
// same lock first: it waits for CPU 0, which waits for it. On hardware the two CPUs spin forever;
// kmiri runs the idle CPU's handler concurrently with CPU 0 and reports the deadlock at both.
import { AtomicBool, lock_acquired, lock_released, spin_loop, static_ } from "kmiri/rt";
import { inter_processor_call, irq_disable, irq_restore } from "kmiri/mirch";

const SHOOTDOWN = static_(AtomicBool, false, { name: "SHOOTDOWN" });
const ACKED = static_(AtomicBool, false, { name: "ACKED" });

function lock(): void {
  while (!SHOOTDOWN.as_ref().compare_exchange(false, true, "Acquire", "Relaxed").ok) spin_loop(); //~ ERROR: deadlock
  lock_acquired(SHOOTDOWN.as_ref(), "SHOOTDOWN");
}

function unlock(): void {
  lock_released(SHOOTDOWN.as_ref());
  SHOOTDOWN.as_ref().store(false, "Release");
}

function flush_handler(): void {
  lock();
  // (the flush itself would be here)
  unlock();
  ACKED.as_ref().store(true, "Release");
}

export function main(): void {
  const was = irq_disable();
  lock();
  inter_processor_call(flush_handler, [1]);
  // Bug: waits for the acknowledgement with the lock held; the handler needs the lock first.
  while (!ACKED.as_ref().load("Acquire")) spin_loop(); //~ ERROR: deadlock
  unlock();
  irq_restore(was);
}
