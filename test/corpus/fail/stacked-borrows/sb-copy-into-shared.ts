// `copy_nonoverlapping` is a read of the source and a write of the destination, checked like any
// access: a destination pointer made from a shared reference may not be written.
import { array, Box, copy_nonoverlapping, u32 } from "kmiri/rt";

export function main(): void {
  const src = Box.new(array(u32, 4), [1, 2, 3, 4]);
  const dst = Box.new(array(u32, 4), [0, 0, 0, 0]);
  const view = dst.as_ref(); // a shared reference: the buffer is frozen while it lives
  unsafe: {
    copy_nonoverlapping(Box.into_raw(src), view.as_ptr(), 1); //~ ERROR: stacked-borrows
  }
  console.log(view.read());
}
