// The fixed `sb-protector-type-alias`: while `inner` runs, the memory is used only through its
// protected `&mut` argument (declared through an alias); the raw pointer is used after the call.
import { local, u32 } from "kmiri/rt";
import type { Ptr, RefMut } from "kmiri/rt";

type Guard = RefMut<number>;

function inner(_x: Ptr<number>, y: Guard): void {
  y.write(y.read() + 1);
}

export function main(): void {
  const x = local(u32, 0);
  unsafe: {
    const xraw = x.as_mut().as_mut_ptr();
    const xref = xraw.as_mut();
    inner(xraw, xref);
    console.log(xraw.read());
  }
}
