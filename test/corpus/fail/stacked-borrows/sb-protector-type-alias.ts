// The protector comes from the value, not from the type as written: `inner`'s `&mut` argument is
// declared through an alias (`type Guard = RefMut<number>`), and is still strongly protected
// while `inner` runs, so reading through a raw pointer to the same memory (which would disable
// it) is UB, as in Miri's stacked_borrows/invalidate_against_protector1.
import { local, u32 } from "kmiri/rt";
import type { Ptr, RefMut } from "kmiri/rt";

type Guard = RefMut<number>;

function inner(x: Ptr<number>, _y: Guard): void {
  unsafe: {
    x.read(); //~ ERROR: stacked-borrows
  }
}

export function main(): void {
  const x = local(u32, 0);
  unsafe: {
    const xraw = x.as_mut().as_mut_ptr();
    const xref = xraw.as_mut();
    inner(xraw, xref);
  }
}
