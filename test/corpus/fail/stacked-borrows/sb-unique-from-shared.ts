// `&mut *(r as *const T as *mut T)`: a unique reference made from a shared one. The retag needs
// a write access by the parent, which a SharedReadOnly item does not grant.
import { local, u32 } from "kmiri/rt";

export function main(): void {
  const x = local(u32, 1);
  const r = x.as_ref();
  unsafe: {
    const m = r.as_ptr().as_mut(); //~ ERROR: stacked-borrows
    m.write(2);
  }
}
