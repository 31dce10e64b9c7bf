// Miri's stacked_borrows/raw_tracking: raw pointers carry their own tags. Two `*mut` made from
// two successive `&mut x`: making the second `&mut` pops the first raw pointer's item, so writing
// through it is UB even though both pointers have the same address.
import { local, u32 } from "kmiri/rt";

export function main(): void {
  const l = local(u32, 13);
  const raw1 = l.as_mut().as_mut_ptr();
  const raw2 = l.as_mut().as_mut_ptr(); // the new `&mut l` invalidates raw1
  unsafe: {
    raw1.write(13); //~ ERROR: stacked-borrows
    raw2.write(13);
  }
}
