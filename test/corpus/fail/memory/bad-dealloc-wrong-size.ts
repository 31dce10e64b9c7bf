// A 4 KiB page buffer is freed with the layout of a 2 KiB buffer (the caller passed half the size).
// `dealloc` must be given exactly the layout the block was allocated with: wrong size is UB.
import { alloc, dealloc, array, u8 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const page = alloc(array(u8, 4096));
    page.cast(u8).write(0);
    dealloc(page.cast(array(u8, 2048)), array(u8, 2048)); //~ ERROR: bad-dealloc
  }
}
