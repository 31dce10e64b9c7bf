//@ flags: --seed 4
import { spawn, Box, u32 } from "kmiri/rt";

export function main(): void {
  const counter = Box.new(u32, 0);
  const hs = [1, 2, 3].map((n) => spawn(() => n * 10));
  for (const h of hs) counter.write(counter.read() + h.join());
  console.log(counter.read());
  counter.drop();
}
