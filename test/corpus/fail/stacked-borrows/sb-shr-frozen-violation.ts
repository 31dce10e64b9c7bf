// Miri's both_borrows/shr_frozen_violation1: unknown code casts away the constness of a shared
// reference and writes. `foo` relies on `*x` still being 5.
import { local, u32 } from "kmiri/rt";
import type { Ref, RefMut } from "kmiri/rt";

function unknown_code(x: Ref<number>): void {
  unsafe: {
    x.as_ptr().write(7); //~ ERROR: stacked-borrows
  }
}

function foo(x: RefMut<number>): number {
  x.write(5);
  unknown_code(x.reborrow());
  return x.read(); // must return 5
}

export function main(): void {
  const v = local(u32, 0);
  console.log(foo(v.as_mut()));
}
