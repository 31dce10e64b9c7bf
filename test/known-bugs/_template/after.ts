// TEMPLATE: the fix of before.ts (see ../README.md, "Adding a bug").
// <Project> <commit | PR | issue> ("<its title>"): <what the fix changed, in a sentence or two>.
// The same program as before.ts with the real fix applied, no `//~` annotations: it must run
// clean (on every seed of its range, for a concurrency bug) and print the same with `--native`.
// The example: `remove` reads the IRQ number first, then frees the state.
import { Box, struct, u32 } from "kmiri/rt";

/** <The real code's types, kept small.> */
const DeviceState = struct("DeviceState", { irq: u32, users: u32 });
type DeviceStateV = { irq: number; users: number };

/** <The function, fixed.> */
function remove(state: Box<DeviceStateV>): number {
  const irq = state.read().irq;
  state.drop();
  return irq;
}

export function main(): void {
  const state = Box.new(DeviceState, { irq: 33, users: 0 });
  console.log("free irq", remove(state));
}
