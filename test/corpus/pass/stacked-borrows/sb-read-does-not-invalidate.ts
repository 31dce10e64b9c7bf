// Miri's basic_aliasing_model read_does_not_invalidate1/2: reads through a shared reference, a
// raw pointer made from it, and the `&mut` they come from (a read through the `&mut` leaves its
// shared children alone) — in any order.
import { local, u32 } from "kmiri/rt";
import type { RefMut } from "kmiri/rt";

function foo(x: RefMut<number>): number {
  const xraw = x.as_mut_ptr();
  const ret = x.reborrow(); // a shared reborrow
  unsafe: {
    const a = xraw.read(); // reading through the raw pointer is fine
    const b = x.read(); // and through the `&mut` (the shared reborrow stays)
    return ret.read() + a + b;
  }
}

export function main(): void {
  const v = local(u32, 14);
  console.log(foo(v.as_mut()));
  const shared = v.as_ref();
  const raw = shared.as_ptr();
  unsafe: {
    console.log(raw.read() + shared.read() + v.read());
  }
}
