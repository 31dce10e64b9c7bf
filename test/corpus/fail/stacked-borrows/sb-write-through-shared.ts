// Miri's stacked_borrows/illegal_write3: a raw pointer made from a shared reference only has
// SharedReadOnly permission; writing through it is UB even though nothing else uses the memory.
import { local, u32 } from "kmiri/rt";

export function main(): void {
  const target = local(u32, 42);
  const shared = target.as_ref(); // freezes `target`
  const p = shared.as_ptr(); // `&target as *const u32 as *mut u32`
  unsafe: {
    p.write(42); //~ ERROR: stacked-borrows
  }
  console.log(shared.read());
}
