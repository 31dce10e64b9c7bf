// The reborrow loop of kernel code: 400,000 iterations of `&mut *b`, `&mut (*b).a` (written),
// `&*b` and `&(*b).a` (read) on a boxed struct — four retags and two accesses per iteration,
// each checked by Stacked Borrows.
import { Box, struct, u32 } from "kmiri/rt";

const N = 400_000;
const Pair = struct("Pair", { a: u32, b: u32 });

export function main(): void {
  const b = Box.new(Pair, { a: 0, b: 0 });
  let sum = 0;
  for (let i = 0; i < N; i++) {
    const m = b.as_mut(); //            &mut *b
    m.field_mut("a").write(i & 0xffff); // &mut (*b).a, written
    const r = b.as_ref(); //            &*b
    sum = (sum + r.field("a").read()) >>> 0; // &(*b).a, read
  }
  console.log("sum", sum);
  b.drop();
}
