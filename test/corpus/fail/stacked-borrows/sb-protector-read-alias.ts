// Miri's stacked_borrows/invalidate_against_protector1: `inner` gets a raw pointer and an `&mut`
// to the same variable. The `&mut` argument is protected while `inner` runs, so reading through
// the raw pointer — which would disable it — is UB.
import { local, u32 } from "kmiri/rt";
import type { Ptr, RefMut } from "kmiri/rt";

function inner(x: Ptr<number>, _y: RefMut<number>): void {
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
