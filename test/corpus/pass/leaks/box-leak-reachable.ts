// The boot CPU's per-CPU area is created with `Box::leak` and its `&'static mut` is published in a
// `static mut` so that interrupt handlers can find it, then used through that static. Memory
// reachable from a static at the end of the program is not a leak: no UB, nothing reported.
import { Box, static_, null_mut, ptr, struct, u32 } from "kmiri/rt";

const PerCpu = struct("PerCpu", { cpu_id: u32, irq_count: u32 });
const PERCPU = static_(ptr(PerCpu), null_mut(PerCpu), { mut: true, name: "PERCPU" });

function irq_entry(): void {
  "unsafe";
  const area = PERCPU.as_ptr().read();
  const count = area.field("irq_count");
  count.write(count.read() + 1);
}

export function main(): void {
  const area = Box.leak(Box.new(PerCpu, { cpu_id: 0, irq_count: 0 }));
  unsafe: {
    PERCPU.as_ptr().write(area.as_mut_ptr());
    for (let i = 0; i < 3; i++) irq_entry();
    console.log(PERCPU.as_ptr().read().read().irq_count);
  }
}
