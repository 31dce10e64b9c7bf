import { Box, u32 } from "kmiri/rt";

export function main(): void {
  const b = Box.new(u32, 5);
  const p = Box.into_raw(b);
  unsafe: {
    Box.from_raw(p).drop();
    p.write(6); //~ ERROR: use-after-free
  }
}
