import { Box, ptr_from_exposed, u32 } from "kmiri/rt";

export function main(): void {
  const p = Box.into_raw(Box.new(u32, 9));
  const addr = p.expose_provenance();
  const q = ptr_from_exposed(addr, u32);
  unsafe: {
    q.write(10);
    console.log(p.read());
    Box.from_raw(p).drop();
  }
}
