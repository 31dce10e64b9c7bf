// A driver keeps a buffer's address as a plain integer (as a device register would hold it) using
// `addr()`, which does not expose the pointer's provenance, and later turns the integer back into a
// pointer with `ptr_from_exposed`. No provenance was exposed for that address, so the new pointer
// has none and reading through it is UB (the fix: `expose_provenance()`, or keep the pointer).
import { Box, ptr_from_exposed, u64 } from "kmiri/rt";

export function main(): void {
  const buf = Box.into_raw(Box.new(u64, 0xdeadn));
  const reg = buf.addr(); // the "device register"
  const back = ptr_from_exposed(reg, u64);
  unsafe: {
    const v = back.read(); //~ ERROR: no-provenance
    console.log(String(v));
    Box.from_raw(buf).drop();
  }
}
