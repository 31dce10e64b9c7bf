// `realloc` reads the old block and frees it through the pointer it is given: a pointer whose
// item a later `&mut` popped may not do either.
import { alloc, dealloc, realloc, u32 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const p = alloc(u32);
    p.write(1);
    const stale = p.as_mut().as_mut_ptr();
    p.as_mut().write(2); // pops `stale`
    const q = realloc(stale, u32, 8); //~ ERROR: stacked-borrows
    dealloc(q.cast(u32), u32);
  }
}
