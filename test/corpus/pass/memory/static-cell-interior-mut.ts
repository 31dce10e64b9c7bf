// Interrupt statistics live in an immutable `static` whose counter is an `UnsafeCell`. The cell's
// contents may be written through `UnsafeCell::get` even though the static is immutable (interior
// mutability); the plain field beside it is only read. Single CPU, so no race: no UB.
import { static_, cell, struct, u32 } from "kmiri/rt";

const IrqStats = struct("IrqStats", { count: cell(u32), max_cpus: u32 });
const IRQ_STATS = static_(IrqStats, { count: 0, max_cpus: 4 }, { name: "IRQ_STATS" });

function irq_entry(): void {
  const count = IRQ_STATS.as_ref().field("count").get();
  unsafe: {
    count.write(count.read() + 1);
  }
}

export function main(): void {
  for (let i = 0; i < 4; i++) irq_entry();
  const stats = IRQ_STATS.as_ref();
  unsafe: {
    console.log(stats.field("count").get().read(), stats.field("max_cpus").read());
  }
}
