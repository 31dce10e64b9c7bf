//@ flags: --strict-provenance
// Under strict provenance (Miri's -Zmiri-strict-provenance) a pointer may not be made from an
// integer at all: `ptr_from_exposed` is rejected even though the address was exposed.
import { Box, ptr_from_exposed, u32 } from "kmiri/rt";

export function main(): void {
  const p = Box.into_raw(Box.new(u32, 1));
  const addr = p.expose_provenance();
  const q = ptr_from_exposed(addr, u32); //~ ERROR: unsupported
  unsafe: {
    console.log(q.read());
    Box.from_raw(p).drop();
  }
}
