// Miri's basic_aliasing_model two_raw: two raw pointers from the same `&mut` are both
// SharedReadWrite in one block above it; writes through either leave the other usable.
import { local, u32 } from "kmiri/rt";

export function main(): void {
  const x = local(u32, 0);
  const r = x.as_mut();
  const y1 = r.as_mut_ptr();
  const y2 = r.as_mut_ptr();
  unsafe: {
    y1.write(2);
    y2.write(3);
    y1.write(y1.read() + y2.read());
  }
  console.log(r.read());
}
