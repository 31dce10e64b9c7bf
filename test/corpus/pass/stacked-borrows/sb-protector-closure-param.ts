// The fixed `sb-protector-closure-param`: the closure uses the `&mut` it is handed, and the memory
// is freed after the callback returned (its protector ended with it).
import { alloc, dealloc, u32 } from "kmiri/rt";
import type { Ptr, RefMut } from "kmiri/rt";

function with_slot(p: Ptr<number>, f: (slot: RefMut<number>) => void): void {
  unsafe: {
    f(p.as_mut());
  }
}

export function main(): void {
  unsafe: {
    const p = alloc(u32);
    p.write(1);
    with_slot(p, (slot) => slot.write(slot.read() * 2));
    console.log(p.read());
    dealloc(p, u32);
  }
}
