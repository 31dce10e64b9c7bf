// Miri's both_borrows/box_noalias_violation: a `Box` argument is weakly protected while its
// function runs: it may be freed through itself, but not invalidated by an alias.
import { alloc, Box, u32 } from "kmiri/rt";
import type { Ptr } from "kmiri/rt";

function test(x: Box<number>, y: Ptr<number>): number {
  "unsafe";
  x.write(5);
  return y.read(); //~ ERROR: stacked-borrows
}

export function main(): void {
  unsafe: {
    const v = alloc(u32);
    v.write(42);
    const ptr = v.as_mut().as_mut_ptr();
    console.log(test(Box.from_raw(ptr), ptr));
  }
}
