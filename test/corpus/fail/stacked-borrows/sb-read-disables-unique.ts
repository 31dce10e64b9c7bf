// A read through a pointer below an `&mut` does not pop it but disables it (Miri keeps it as a
// Disabled item): the `&mut` can no longer be used, for reads or writes.
import { alloc_zeroed, dealloc, u32 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const p = alloc_zeroed(u32);
    const r = p.as_mut();
    r.write(7);
    console.log(p.read()); // disables r
    r.write(8); //~ ERROR: stacked-borrows
    dealloc(p, u32);
  }
}
