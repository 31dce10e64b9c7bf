// A tick counter in a `static mut`, updated and read only inside `unsafe` (through `&raw mut TICKS`
// and one short-lived `&mut TICKS`), on a single CPU. Accessing a `static mut` is fine when done
// in unsafe code without overlapping references: no UB.
import { static_, u64 } from "kmiri/rt";

const TICKS = static_(u64, 0n, { mut: true, name: "TICKS" });

function timer_tick(): void {
  "unsafe";
  const t = TICKS.as_ptr();
  t.write(t.read() + 1n);
}

export function main(): void {
  unsafe: {
    for (let i = 0; i < 5; i++) timer_tick();
    const r = TICKS.as_mut();
    r.write(r.read() * 10n);
    console.log(String(TICKS.as_ref().read()));
  }
}
