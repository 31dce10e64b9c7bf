// Miri's basic_aliasing_model mut_raw_then_mut_shr and mut_shr_then_mut_raw: a raw pointer and a
// shared reference, both from the same `&mut`, used in turns while they are valid.
import { local, u32 } from "kmiri/rt";

function mut_raw_then_mut_shr(): number {
  const x = local(u32, 2);
  const xref = x.as_mut();
  const xraw = xref.reborrow_mut().as_mut_ptr();
  const xshr = xref.reborrow();
  const before = xshr.read();
  unsafe: {
    xraw.write(4); // pops xshr, which is not used again
  }
  return before * 10 + x.read();
}

function mut_shr_then_mut_raw(): number {
  const x = local(u32, 2);
  const xref = x.as_mut();
  const xshr = xref.reborrow();
  const seen = xshr.read();
  const xraw = xref.as_mut_ptr();
  unsafe: {
    xraw.write(3);
  }
  return seen * 10 + xref.read();
}

export function main(): void {
  console.log(mut_raw_then_mut_shr(), mut_shr_then_mut_raw());
}
