// Miri's both_borrows/illegal_read_despite_exposed1: a `&mut` made from a wildcard pointer is
// still unique. A write through the wildcard pointer (using the exposed tag) pops it; the stack
// then only knows "some exposed items below", and the `&mut`'s tag is not among them.
import { Box, ptr_from_exposed, u32 } from "kmiri/rt";

export function main(): void {
  const b = Box.new(u32, 42);
  const root = b.as_mut();
  const addr = root.as_mut_ptr().expose_provenance();
  const exposed = ptr_from_exposed(addr, u32);
  unsafe: {
    const root2 = exposed.as_mut(); // a new unique pointer, from the wildcard
    root2.as_mut_ptr(); // (a raw pointer above it: would have fooled untagged pointers)
    exposed.write(0); // a conflicting write through the wildcard
    console.log(root2.read()); //~ ERROR: stacked-borrows
  }
  b.drop();
}
