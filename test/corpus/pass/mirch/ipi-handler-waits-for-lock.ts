//@ flags: --many-seeds 0..20
// An inter-processor call to an idle CPU whose handler takes a spin lock another CPU holds for a
// while. CPU 1 takes the statistics lock (with interrupts disabled: the lock is taken in interrupt
// context too) and keeps it for a few scheduling points; CPU 0 sends the call to CPU 2, where no
// thread runs, once CPU 1 holds the lock. The idle CPU takes the call and its handler spins until
// CPU 1 releases the lock, as on hardware, while the other CPUs go on. CPU 0 waits for the
// handler's acknowledgement. No UB.
import { AtomicBool, AtomicU32, lock_acquired, lock_released, spawn, spin_loop, static_, yield_now } from "kmiri/rt";
import { current_cpu, inter_processor_call, irq_disable, irq_restore } from "kmiri/mirch";

const STATS_LOCK = static_(AtomicBool, false, { name: "STATS_LOCK" });
const HOLDING = static_(AtomicBool, false, { name: "HOLDING" });
const ACKED = static_(AtomicBool, false, { name: "ACKED" });
const EVENTS = static_(AtomicU32, 0, { name: "EVENTS" });

function lock(): void {
  while (!STATS_LOCK.as_ref().compare_exchange(false, true, "Acquire", "Relaxed").ok) spin_loop();
  lock_acquired(STATS_LOCK.as_ref(), "STATS_LOCK");
}

function unlock(): void {
  lock_released(STATS_LOCK.as_ref());
  STATS_LOCK.as_ref().store(false, "Release");
}

function count_event(): void {
  lock();
  EVENTS.as_ref().store(EVENTS.as_ref().load("Relaxed") + 1, "Relaxed");
  unlock();
}

export function main(): void {
  const holder = spawn(() => {
    const was = irq_disable();
    lock();
    HOLDING.as_ref().store(true, "Release");
    for (let i = 0; i < 8; i++) yield_now();
    EVENTS.as_ref().store(EVENTS.as_ref().load("Relaxed") + 1, "Relaxed");
    unlock();
    irq_restore(was);
  });
  while (!HOLDING.as_ref().load("Acquire")) spin_loop();
  inter_processor_call(() => {
    count_event();
    if (current_cpu() === 2) ACKED.as_ref().store(true, "Release");
  }, [2]);
  while (!ACKED.as_ref().load("Acquire")) spin_loop();
  holder.join();
  const was = irq_disable();
  lock();
  console.log("events:", EVENTS.as_ref().load("Relaxed"));
  unlock();
  irq_restore(was);
}
