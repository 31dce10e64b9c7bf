// Miri's stacked_borrows/illegal_read1: a callee reads through the raw pointer an `&mut` was
// derived from. The read disables the `&mut`, so using the `&mut` afterwards is UB.
import { local, u32 } from "kmiri/rt";
import type { Ptr } from "kmiri/rt";

function callee(xraw: Ptr<number>): void {
  unsafe: {
    xraw.read();
  }
}

export function main(): void {
  const x = local(u32, 15);
  unsafe: {
    const xraw = x.as_mut().as_mut_ptr();
    const xref = xraw.as_mut(); // derived from the raw pointer: using the raw pointer is still fine...
    callee(xraw);
    console.log(xref.read()); //~ ERROR: stacked-borrows
  }
}
