// Two `&mut` made from the same raw pointer: making the second is a write through the raw
// pointer, which pops the first (Miri's both_borrows/mut_exclusive_violation).
import { alloc, dealloc, u64 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const raw = alloc(u64);
    raw.write(0n);
    const first = raw.as_mut();
    const second = raw.as_mut(); // pops `first`
    second.write(1n);
    first.write(2n); //~ ERROR: stacked-borrows
    dealloc(raw, u64);
  }
}
