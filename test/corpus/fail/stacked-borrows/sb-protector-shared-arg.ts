// Miri's both_borrows/invalidate_against_protector2: while `inner` runs, its `&i32` argument is
// protected; writing through a raw pointer to the same memory would pop it.
import { local, u32 } from "kmiri/rt";
import type { Ptr, Ref } from "kmiri/rt";

function inner(x: Ptr<number>, _y: Ref<number>): void {
  unsafe: {
    x.write(0); //~ ERROR: stacked-borrows
  }
}

export function main(): void {
  const x = local(u32, 0);
  unsafe: {
    const xraw = x.as_mut().as_mut_ptr();
    const xref = xraw.as_ref();
    inner(xraw, xref);
  }
}
