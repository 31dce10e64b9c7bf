// Miri's both_borrows/deallocate_against_protector1: memory behind a `&mut` argument is freed
// while the function runs. A reference argument is strongly protected: its memory may not be
// deallocated before the function returns.
import { alloc, dealloc, u32 } from "kmiri/rt";
import type { Ptr, RefMut } from "kmiri/rt";

function inner(x: RefMut<number>, raw: Ptr<number>): void {
  unsafe: {
    dealloc(raw, u32); //~ ERROR: stacked-borrows
  }
  x.read();
}

export function main(): void {
  unsafe: {
    const p = alloc(u32);
    p.write(1);
    inner(p.as_mut(), p);
  }
}
