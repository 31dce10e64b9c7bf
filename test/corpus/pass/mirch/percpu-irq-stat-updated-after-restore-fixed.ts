// Per-CPU interrupt statistics (`cpu_local!`) are bumped by the interrupt handler and by the
// softirq accounting code, which does its whole read-modify-write of this CPU's counter with
// interrupts disabled, so the handler is ordered before or after it. No UB.
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
  nic.raise(); // an interrupt arrives...
  yield_now(); // ...and is taken here
  const was = irq_disable();
  unsafe: {
    const mine = IRQ_COUNT.as_ptr();
    mine.write(mine.read() + 1n);
    console.log("cpu0 irqs", String(IRQ_COUNT.on_cpu(0).read()));
  }
  irq_restore(was);
}
