// A per-CPU area is made with `Box::leak`, used, and the `&'static mut` it returned is then only
// held in a local. `Box::leak` does not make memory exempt from the leak check: at the end of the
// program the area is reachable from no static, so it is reported as leaked where it was allocated
// (as Miri does; store the reference in a static to keep it, as pass/leaks/box-leak-reachable does).
import { Box, struct, u32 } from "kmiri/rt";

const PerCpu = struct("PerCpu", { cpu_id: u32, irq_count: u32 });

export function main(): void {
  const percpu = Box.leak(Box.new(PerCpu, { cpu_id: 0, irq_count: 0 })); //~ ERROR: leak
  const irqs = percpu.field_mut("irq_count");
  irqs.write(irqs.read() + 1);
  console.log(percpu.read().irq_count);
}
