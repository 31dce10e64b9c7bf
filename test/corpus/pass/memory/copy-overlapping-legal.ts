// A queue is compacted with `ptr::copy` (memmove), whose source and destination may overlap: after
// consuming one entry the rest move down, and later an entry is inserted at the front by moving
// the rest up. Overlap is allowed for `copy`: no UB.
import { alloc, dealloc, copy, array, u32 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const q = alloc(array(u32, 5));
    const e = q.cast(u32);
    for (let i = 0; i < 4; i++) e.add(i).write(10 * (i + 1));
    copy(e.add(1), e, 3); // drop the head: [20, 30, 40, 40]
    copy(e, e.add(1), 4); // make room at the front: [20, 20, 30, 40, 40]
    e.write(5);
    const out: number[] = [];
    for (let i = 0; i < 5; i++) out.push(e.add(i).read());
    console.log(out.join(" "));
    dealloc(q, array(u32, 5));
  }
}
