// Miri's stacked_borrows/fnentry_invalidation: passing `&mut x` to a function retags it on entry
// (a Unique function-entry retag, a write access through the reference), which pops every
// pointer derived from it before. The help line names the call as the place of the
// invalidation, not the function.
import { local, u32 } from "kmiri/rt";
import type { RefMut } from "kmiri/rt";

function do_bad(_x: RefMut<number>): void {
  // who knows
}

export function main(): void {
  const x = local(u32, 0);
  const r = x.as_mut();
  const z = r.as_mut_ptr();
  do_bad(r);
  unsafe: {
    console.log(z.read()); //~ ERROR: stacked-borrows
  }
}
