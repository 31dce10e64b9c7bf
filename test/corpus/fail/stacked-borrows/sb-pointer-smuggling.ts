// Miri's stacked_borrows/pointer_smuggling: a function stores a raw pointer made from its `&mut`
// argument in a `static mut`. The caller then writes through its own `&mut`, which pops every
// pointer derived from it; the smuggled pointer, read back from memory with its tag, is dead.
import { local, null_mut, ptr, static_, u8 } from "kmiri/rt";
import type { RefMut } from "kmiri/rt";

const PTR = static_(ptr(u8), null_mut(u8), { mut: true, name: "PTR" });

function fun1(x: RefMut<number>): void {
  unsafe: {
    PTR.write(x.as_mut_ptr());
  }
}

function fun2(): void {
  unsafe: {
    console.log(PTR.read().read()); //~ ERROR: stacked-borrows
  }
}

export function main(): void {
  const slot = local(u8, 0);
  const val = slot.as_mut();
  fun1(val);
  val.write(2); // invalidates any raw pointer fun1 made
  fun2();
}
