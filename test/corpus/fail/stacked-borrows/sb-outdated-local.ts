// Miri's both_borrows/outdated_local: writing a local directly uses its root tag, which pops every
// pointer made from it before.
import { local, u32 } from "kmiri/rt";

export function main(): void {
  const x = local(u32, 0);
  const y = x.as_ref().as_ptr(); // `&x as *const i32`
  x.write(1); // invalidates y by reactivating the local's root
  unsafe: {
    console.log(y.read()); //~ ERROR: stacked-borrows
  }
}
