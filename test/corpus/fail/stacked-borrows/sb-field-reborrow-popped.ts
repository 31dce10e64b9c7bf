// A `&mut` to one field, then a write of the whole struct through its parent: the write covers the
// field's bytes and pops the field's reference (a field projection is a reborrow).
import { Box, struct, u32 } from "kmiri/rt";

const Point = struct("Point", { x: u32, y: u32 });

export function main(): void {
  const b = Box.new(Point, { x: 1, y: 2 });
  const whole = b.as_mut();
  const x = whole.field_mut("x");
  x.write(10);
  whole.write({ x: 3, y: 4 }); // pops `x`
  x.write(11); //~ ERROR: stacked-borrows
  b.drop();
}
