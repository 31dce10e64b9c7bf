// Per-CPU interrupt statistics are bumped by the handler and by softirq accounting, which takes the
// pointer to this CPU's counter with interrupts off but re-enables them before its read-modify-write:
// an interrupt taken in between updates the counter concurrently: `data-race`.
import { u64, yield_now } from "kmiri/rt";
import { alloc_irq_line, cpu_local, irq_disable, irq_restore } from "kmiri/mirch";

const IRQ_COUNT = cpu_local(u64, 0n);

function account_irq(): void {
  unsafe: {
    const p = IRQ_COUNT.as_ptr(); // interrupts are disabled in the handler
    p.write(p.read() + 1n);
  }
}

export function main(): void {
  const nic = alloc_irq_line();
  nic.set_affinity(0);
  nic.on_active(account_irq);
  const was = irq_disable();
  const mine = IRQ_COUNT.as_ptr();
  irq_restore(was); // bug: too early
  nic.raise(); // an interrupt arrives...
  yield_now(); // ...and is taken here
  unsafe: {
    mine.write(mine.read() + 1n); //~ ERROR: data-race
    console.log("cpu0 irqs", String(IRQ_COUNT.on_cpu(0).read()));
  }
}
