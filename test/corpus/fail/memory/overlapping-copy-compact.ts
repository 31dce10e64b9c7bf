// After consuming the first entry of a 4-entry queue, the code compacts it by moving entries
// [1..4) down to [0..3) with `copy_nonoverlapping`. Source and destination share two slots, so
// the call is UB (`ptr::copy` is the memmove that allows overlap).
import { alloc, dealloc, copy_nonoverlapping, array, u32 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const q = alloc(array(u32, 4));
    const e = q.cast(u32);
    for (let i = 0; i < 4; i++) e.add(i).write(10 * i);
    copy_nonoverlapping(e.add(1), e, 3); //~ ERROR: overlapping-copy
    console.log(e.read());
    dealloc(q, array(u32, 4));
  }
}
