import { Box, u32 } from "kmiri/rt";

export function main(): void {
  const kept = Box.new(u32, 1); //~ ERROR: leak
  console.log(kept.read());
}
