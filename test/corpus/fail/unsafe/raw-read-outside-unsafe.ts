import { Box, u32 } from "kmiri/rt";

export function main(): void {
  const p = Box.into_raw(Box.new(u32, 3));
  console.log(p.read()); //~ ERROR: unsafe-outside-unsafe
}
