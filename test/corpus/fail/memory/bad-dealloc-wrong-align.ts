// A page-table page is allocated as 4096 bytes (alignment 1) but freed with the layout of 512
// 8-aligned entries: the same size, a different alignment. `dealloc` must be given exactly the
// layout the block was allocated with, alignment included: UB.
import { alloc, dealloc, array, u8, u64 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const pt = alloc(array(u8, 4096));
    dealloc(pt.cast(array(u64, 512)), array(u64, 512)); //~ ERROR: bad-dealloc
  }
}
