// Writes through a raw pointer outside any `unsafe` block or `unsafe fn`. Dereferencing a raw
// pointer requires `unsafe` in Rust (E0133): the write is rejected even though the pointer is valid.
import { Box, u32 } from "kmiri/rt";

export function main(): void {
  const irq_mask = Box.into_raw(Box.new(u32, 0));
  irq_mask.write(0xff); //~ ERROR: unsafe-outside-unsafe
  unsafe: {
    Box.from_raw(irq_mask).drop();
  }
}
