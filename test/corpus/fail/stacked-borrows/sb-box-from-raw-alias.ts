// `Box::from_raw` makes a unique pointer: the raw pointer it came from may no longer be used
// alongside the box. A read through the raw pointer disables the box's item.
import { Box, u64 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const raw = Box.into_raw(Box.new(u64, 7n));
    const b = Box.from_raw(raw);
    console.log(raw.read()); // disables the box
    b.write(8n); //~ ERROR: stacked-borrows
    b.drop();
  }
}
