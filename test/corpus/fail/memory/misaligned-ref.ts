// A statistics block is an array of `u32`s; the code hands out a `&mut u64` to the 64-bit counter
// that starts at word 1 (byte 4). A reference must be aligned for its type whether or not it is
// ever used, and byte 4 of an 8-aligned block is not 8-aligned: making the reference is UB.
import { alloc_zeroed, dealloc, array, u32, u64 } from "kmiri/rt";

const STATS = array(u64, 2); // 8-aligned

export function main(): void {
  unsafe: {
    const stats = alloc_zeroed(STATS);
    const counter = stats.cast(u32).add(1).cast(u64);
    const r = counter.as_mut(); //~ ERROR: misaligned
    r.write(r.read() + 1n);
    dealloc(stats, STATS);
  }
}
