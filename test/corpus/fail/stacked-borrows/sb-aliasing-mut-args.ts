// Miri's both_borrows/aliasing_mut1: the same `&mut` passed as two `&mut` arguments. The second
// argument's function-entry retag is a write through the shared parent, which would pop the
// first argument — protected for the whole call.
import { local, u32 } from "kmiri/rt";
import type { RefMut } from "kmiri/rt";

function safe(_x: RefMut<number>, _y: RefMut<number>): void {}

export function main(): void {
  const x = local(u32, 0);
  const r = x.as_mut();
  safe(r, r); //~ ERROR: stacked-borrows
}
