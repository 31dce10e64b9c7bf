// Miri's stacked_borrows/illegal_dealloc1: a block is freed through a pointer whose tag a write
// through its parent removed from the borrow stack.
import { alloc, dealloc, u8 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const x = alloc(u8);
    const ptr1 = x.as_mut().as_mut_ptr();
    const ptr2 = ptr1.as_mut().as_mut_ptr();
    ptr1.write(0); // invalidates ptr2
    dealloc(ptr2, u8); //~ ERROR: stacked-borrows
  }
}
