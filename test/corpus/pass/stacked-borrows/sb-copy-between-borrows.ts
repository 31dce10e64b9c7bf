// `copy_nonoverlapping` and `copy` through raw pointers made from `&mut` references: a bulk read of
// one buffer and a bulk write of another, each through a pointer allowed to do it.
import { array, Box, copy, copy_nonoverlapping, u16 } from "kmiri/rt";

const Sector = array(u16, 8);

export function main(): void {
  const a = Box.new(Sector, [1, 2, 3, 4, 5, 6, 7, 8]);
  const b = Box.new(Sector, [0, 0, 0, 0, 0, 0, 0, 0]);
  const src = a.as_ref().as_ptr(); // reading only: a `*const` from a shared reference is enough
  const dst = b.as_mut().as_mut_ptr();
  unsafe: {
    copy_nonoverlapping(src, dst, 1);
    // Shift the second half down by one element, in place (overlapping: `copy`).
    copy(dst.cast(u16).add(5), dst.cast(u16).add(4), 3);
  }
  console.log(b.read().join(","), a.read()[7]);
  a.drop();
  b.drop();
}
