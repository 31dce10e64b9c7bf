// A closure's parameter whose type is inferred from the callee's signature is a reference
// argument like any other: `with_slot` hands the closure a `&mut`, which is protected while the
// closure runs, so freeing its memory from inside the closure is UB (Miri's
// both_borrows/deallocate_against_protector1, with the callback as the protected function).
import { alloc, dealloc, u32 } from "kmiri/rt";
import type { Ptr, RefMut } from "kmiri/rt";

function with_slot(p: Ptr<number>, f: (slot: RefMut<number>, raw: Ptr<number>) => void): void {
  unsafe: {
    f(p.as_mut(), p);
  }
}

export function main(): void {
  unsafe: {
    const p = alloc(u32);
    p.write(1);
    with_slot(p, (slot, raw) => {
      dealloc(raw, u32); //~ ERROR: stacked-borrows
      slot.read();
    });
  }
}
