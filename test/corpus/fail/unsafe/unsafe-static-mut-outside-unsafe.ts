// A timer tick increments a `static mut` counter without `unsafe`. Any reference to a `static mut`
// (`&TICKS`, `&mut TICKS`) may race with other CPUs, so Rust requires `unsafe` for it (E0133).
import { static_, u64 } from "kmiri/rt";

const TICKS = static_(u64, 0n, { mut: true, name: "TICKS" });

function timer_tick(): void {
  const t = TICKS.as_mut(); //~ ERROR: unsafe-outside-unsafe
  t.write(t.read() + 1n);
}

export function main(): void {
  timer_tick();
}
