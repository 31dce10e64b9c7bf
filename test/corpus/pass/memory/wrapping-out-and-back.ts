// A pointer is moved before the start and far past the end of a buffer with `wrapping_sub` /
// `wrapping_add` (which may leave the allocation), and back into it before every access. Only
// dereferencing out of bounds would be UB; these reads are in bounds: no UB.
import { alloc_zeroed, dealloc, array, u32 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const buf = alloc_zeroed(array(u32, 4));
    const p = buf.cast(u32);
    p.add(2).write(7);
    const before = p.wrapping_sub(1); // outside: fine, not dereferenced
    const far = p.wrapping_add(1000);
    const back = before.wrapping_add(3); // element 2 again
    const back2 = far.wrapping_sub(998);
    console.log(back.read(), back2.read(), back.addr() === p.add(2).addr(), far.addr() - p.addr());
    dealloc(buf, array(u32, 4));
  }
}
