// Miri's stacked_borrows/interior_mut1: a `&mut` to the inside of a cell, and a shared reborrow of
// it (a SharedReadWrite, since it points into a cell). A write through the cell's own pointer pops
// both; making a raw pointer from the shared reborrow afterwards is a retag from a tag that no
// longer exists.
import { cell, local } from "kmiri/rt";
import { u32 } from "kmiri/rt";

export function main(): void {
  const slot = local(cell(cell(u32)), 0);
  unsafe: {
    const c = slot.as_ref(); // `&UnsafeCell<UnsafeCell<u32>>`
    const innerUniq = c.get().cast(cell(u32)).as_mut(); // `&mut *c.get()`
    const innerShr = innerUniq.reborrow(); // `&*inner_uniq`: SharedReadWrite (a cell)
    c.get().cast(cell(u32)).write(1); // a write through the outer cell pops innerShr
    console.log(innerShr.get().read()); //~ ERROR: stacked-borrows
  }
}
