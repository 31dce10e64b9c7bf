// Miri's both_borrows/mixed_cell_deallocate (without the cell): freeing memory through a pointer
// made from a shared reference. A deallocation is a write: SharedReadOnly does not grant it.
import { alloc, dealloc, u64 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const p = alloc(u64);
    p.write(5n);
    const shared = p.as_ref();
    dealloc(shared.as_ptr(), u64); //~ ERROR: stacked-borrows
  }
}
