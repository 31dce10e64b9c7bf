// `realloc` through a raw pointer allowed to write the block: the old block is read and freed
// through it, and the new block comes with its own root pointer.
import { alloc, array, dealloc, realloc, u32 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const p = alloc(array(u32, 2));
    const raw = p.as_mut().as_mut_ptr();
    raw.write([7, 8]);
    const q = realloc(raw, array(u32, 2), 16).cast(array(u32, 4));
    q.cast(u32).add(2).write(9);
    q.cast(u32).add(3).write(10);
    console.log(q.read().join(","));
    dealloc(q, array(u32, 4));
  }
}
