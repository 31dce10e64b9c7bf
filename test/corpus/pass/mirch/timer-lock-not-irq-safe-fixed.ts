// The timer wheel's spin lock is taken by the timer interrupt handler and by `add_timer`, which
// takes it with local interrupts disabled (`lock_irqsave`), so the interrupt can never arrive on a
// CPU that holds it: the class is irq-safe, and lockdep is satisfied. No UB.
import { AtomicBool, AtomicU32, lock_acquired, lock_released, spin_loop, static_, struct, yield_now, type Ref } from "kmiri/rt";
import { alloc_irq_line, irq_disable, irq_restore } from "kmiri/mirch";

const TimerWheel = struct("TimerWheel", { locked: AtomicBool, pending: AtomicU32 });
const WHEEL = static_(TimerWheel, { locked: false, pending: 0 }, { name: "WHEEL" });
type Wheel = Ref<{ locked: boolean; pending: number }>;

function lock(w: Wheel): void {
  while (!w.field("locked").compare_exchange(false, true, "Acquire", "Relaxed").ok) spin_loop();
  lock_acquired(w, "timer_wheel");
}

function unlock(w: Wheel): void {
  lock_released(w);
  w.field("locked").store(false, "Release");
}

function add_timer(): void {
  const was = irq_disable();
  lock(WHEEL.as_ref());
  WHEEL.as_ref().field("pending").fetch_add(1, "Relaxed");
  unlock(WHEEL.as_ref());
  irq_restore(was);
}

export function main(): void {
  const tick = alloc_irq_line();
  tick.set_affinity(0);
  tick.on_active(() => {
    lock(WHEEL.as_ref());
    WHEEL.as_ref().field("pending").store(0, "Relaxed"); // expire everything
    unlock(WHEEL.as_ref());
  });
  add_timer();
  add_timer();
  console.log("pending before the tick", WHEEL.as_ref().field("pending").load("Relaxed"));
  tick.raise();
  yield_now(); // the tick is taken here
  console.log("pending after the tick", WHEEL.as_ref().field("pending").load("Relaxed"));
}
