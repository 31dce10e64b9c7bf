// TEMPLATE: copy this folder to `test/known-bugs/<project>-<id>-<slug>/` and rewrite all three
// files (see ../README.md, "Adding a bug"). It is a real, tiny pair, so the corpus checks it too.
// A concurrency bug starts with a flags line, e.g. `//@ flags: --many-seeds 0..16`.
//
// <Project> <commit | PR | issue> ("<its title>"), before the fix (<the file it was in>).
// <What the code did, with the real code's names, in a few sentences.>
// <Why that is UB, and what kmiri reports where.>
// The example: a driver's `remove` frees its state, then reads the IRQ number from it.
import { Box, struct, u32 } from "kmiri/rt";

/** <The real code's types, kept small.> */
const DeviceState = struct("DeviceState", { irq: u32, users: u32 });
type DeviceStateV = { irq: number; users: number };

/** <The function with the bug, under its real name.> */
function remove(state: Box<DeviceStateV>): number {
  state.drop();
  return state.read().irq; //~ ERROR: use-after-free
}

export function main(): void {
  const state = Box.new(DeviceState, { irq: 33, users: 0 });
  console.log("free irq", remove(state));
}
