// Like pass/stacked-borrows/sb-zero-sized-ref-dangling.ts, but the driver keeps the pointer of an
// empty scratch area — a `&mut [u32; 0]` made at a word inside the block — and later writes a
// `u32` through it. Making the zero-sized reference is fine; its retag touched no borrow stack, so
// the tag it got exists nowhere (Miri: "would have been created here, but this is a zero-size
// retag"), and a write of 4 bytes through a pointer derived from it is UB.
import { alloc_zeroed, dealloc, array, u32 } from "kmiri/rt";

const WORDS = 4;
const BLOCK = array(u32, WORDS);
const EMPTY = array(u32, 0);

export function main(): void {
  unsafe: {
    const block = alloc_zeroed(BLOCK);
    const base = block.cast(u32);
    const area = base.add(2).cast(EMPTY).as_mut();
    const scratch = area.as_mut_ptr().cast(u32);
    base.add(1).write(7);
    scratch.write(1); //~ ERROR: stacked-borrows
    console.log(base.add(2).read());
    dealloc(block, BLOCK);
  }
}
