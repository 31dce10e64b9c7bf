// Miri's stacked_borrows/shared_rw_borrows_are_weak1: a shared reference to a cell is a
// SharedReadWrite, granted just above the `&mut` it comes from — below the `&mut` already
// reborrowed from that one. Writing through the cell pops that reborrow; reborrowing it again
// is a retag from a tag that is gone.
import { cell, local, u32 } from "kmiri/rt";

export function main(): void {
  const c = local(cell(u32), 0);
  const x = c.as_mut();
  const y = x.reborrow_mut(); // (Miri launders its lifetime with a transmute)
  const shrRw = x.reborrow(); // a SharedReadWrite, inserted below `y`
  unsafe: {
    shrRw.get().write(1); // `Cell::set`
  }
  y.reborrow_mut(); //~ ERROR: stacked-borrows
}
