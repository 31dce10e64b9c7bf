// Like pass/stacked-borrows/sb-zero-sized-ref-dangling.ts, a driver makes an empty scratch area,
// a `&mut [u32; 0]`, past the end of its block with `wrapping_add` — but it counts the carving in
// bytes and lands on byte 18, which is not 4-aligned. A zero-sized reference needs no
// dereferenceable byte, yet it must still be aligned for its type: making it is UB.
import { alloc_zeroed, dealloc, array, u8, u32 } from "kmiri/rt";

const BLOCK = array(u32, 4);
const EMPTY = array(u32, 0);

export function main(): void {
  unsafe: {
    const block = alloc_zeroed(BLOCK);
    const past = block.cast(u8).wrapping_add(18).cast(EMPTY);
    const area = past.as_mut(); //~ ERROR: misaligned
    console.log(area.read().length);
    dealloc(block, BLOCK);
  }
}
