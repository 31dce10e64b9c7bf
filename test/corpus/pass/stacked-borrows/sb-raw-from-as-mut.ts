// Raw pointers made from `&mut` (`as_mut_ptr`) write and read back, alternating with the
// reference itself: the raw pointer's SharedReadWrite sits above the `&mut`, and using the
// `&mut` again just pops it (the pointer is not used after that). No UB.
import { alloc, array, dealloc, u32 } from "kmiri/rt";

const Buf = array(u32, 8);

export function main(): void {
  unsafe: {
    const buf = alloc(Buf);
    const r = buf.as_mut();
    r.write([0, 0, 0, 0, 0, 0, 0, 0]);
    const raw = r.as_mut_ptr().cast(u32);
    for (let i = 0; i < 8; i++) raw.add(i).write(i * i);
    let sum = 0;
    for (let i = 0; i < 8; i++) sum += raw.add(i).read();
    r.index_mut(0).write(100); // the `&mut` again: the raw pointer is done
    console.log(sum, r.read().join(","));
    dealloc(buf, Buf);
  }
}
