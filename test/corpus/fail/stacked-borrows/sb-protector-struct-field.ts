// Miri retags the references inside a struct passed by value (`-Zmiri-retag-fields`, the
// default): the `&mut` in `Slot` is protected while `consume` runs, so a write through a raw
// pointer to the same memory — which would pop it — is UB.
import { local, u32 } from "kmiri/rt";
import type { Ptr, RefMut } from "kmiri/rt";

interface Slot {
  value: RefMut<number>;
  raw: Ptr<number>;
}

function consume(slot: Slot): void {
  unsafe: {
    slot.raw.write(7); //~ ERROR: stacked-borrows
  }
  slot.value.read();
}

export function main(): void {
  const x = local(u32, 0);
  unsafe: {
    const raw = x.as_mut().as_mut_ptr();
    consume({ value: raw.as_mut(), raw });
  }
}
