// Miri's stacked_borrows/exposed_only_ro: only a read-only pointer's provenance was exposed, so
// a wildcard pointer from that address may read but not write.
import { local, ptr_from_exposed, u32 } from "kmiri/rt";

export function main(): void {
  const x = local(u32, 0);
  x.as_mut().as_mut_ptr(); // a mutable raw pointer exists, but it is not exposed
  const addr = x.as_ref().as_ptr().expose_provenance();
  const p = ptr_from_exposed(addr, u32);
  unsafe: {
    p.write(0); //~ ERROR: stacked-borrows
  }
}
