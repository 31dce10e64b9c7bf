// The fixed `sb-protector-struct-field`: the callee writes through the `&mut` its struct argument
// holds; the raw pointer is used again only after the call.
import { local, u32 } from "kmiri/rt";
import type { Ptr, RefMut } from "kmiri/rt";

interface Slot {
  value: RefMut<number>;
  raw: Ptr<number>;
}

function consume(slot: Slot): void {
  slot.value.write(slot.value.read() + 7);
}

export function main(): void {
  const x = local(u32, 0);
  unsafe: {
    const raw = x.as_mut().as_mut_ptr();
    const slots = [{ value: raw.as_mut(), raw }];
    for (const s of slots) consume(s);
    console.log(raw.read());
  }
}
