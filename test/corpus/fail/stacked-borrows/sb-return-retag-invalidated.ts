// A returned `&mut` is retagged where the caller receives it (Miri retags a call's result): the
// one `first_mut` returns was invalidated inside it (the raw pointer's later write popped it), so
// the retag fails at the call — not later, where the caller writes through it.
import { local, u32 } from "kmiri/rt";
import type { Ptr, RefMut } from "kmiri/rt";

function first_mut(raw: Ptr<number>): RefMut<number> {
  unsafe: {
    const r = raw.as_mut();
    raw.write(1); // pops `r`
    return r;
  }
}

export function main(): void {
  const x = local(u32, 0);
  unsafe: {
    const raw = x.as_mut().as_mut_ptr();
    const r = first_mut(raw); //~ ERROR: stacked-borrows
    r.write(2);
  }
}
