// Computes the address of the next descriptor with `add` outside an `unsafe` block. `add` is an
// `unsafe fn` (in-bounds pointer arithmetic), so calling it outside an unsafe region is E0133 even
// though the result stays in bounds (`wrapping_add` is the safe one).
import { alloc_zeroed, dealloc, array, u64 } from "kmiri/rt";

const RING = array(u64, 4);

export function main(): void {
  let ring;
  unsafe: {
    ring = alloc_zeroed(RING);
  }
  const next = ring.cast(u64).add(1); //~ ERROR: unsafe-outside-unsafe
  unsafe: {
    console.log(String(next.read()));
    dealloc(ring, RING);
  }
}
