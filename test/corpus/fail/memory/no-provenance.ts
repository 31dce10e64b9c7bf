import { Box, without_provenance, u32 } from "kmiri/rt";

export function main(): void {
  const b = Box.new(u32, 1);
  const p = Box.into_raw(b);
  const q = without_provenance(p.addr(), u32);
  unsafe: {
    q.read(); //~ ERROR: no-provenance
    Box.from_raw(p).drop();
  }
}
