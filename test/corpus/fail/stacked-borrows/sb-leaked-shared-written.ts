// Miri's both_borrows/mut_exclusive_violation1: a shared reborrow of `&mut our` leaks into a
// `static mut` as a raw pointer; writing through `our` re-asserts uniqueness (pops it); the
// evil code's write through the leaked pointer is then UB.
import { local, null_mut, ptr, static_, u32 } from "kmiri/rt";
import type { Ref, RefMut } from "kmiri/rt";

const LEAK = static_(ptr(u32), null_mut(u32), { mut: true, name: "LEAK" });

function unknown_code_1(x: Ref<number>): void {
  unsafe: {
    LEAK.write(x.as_ptr());
  }
}

function unknown_code_2(): void {
  unsafe: {
    LEAK.read().write(7); //~ ERROR: stacked-borrows
  }
}

function demo_mut_advanced_unique(our: RefMut<number>): number {
  unknown_code_1(our.reborrow());
  our.write(5); // our tag is on top of the stack again
  unknown_code_2();
  return our.read(); // we know this returns 5
}

export function main(): void {
  const v = local(u32, 0);
  console.log(demo_mut_advanced_unique(v.as_mut()));
}
