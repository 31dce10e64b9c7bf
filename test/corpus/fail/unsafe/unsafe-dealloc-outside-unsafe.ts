// Frees a buffer with `dealloc` outside an `unsafe` block. `dealloc` is an `unsafe fn` (the caller
// promises the pointer and layout are right), so the call needs an unsafe region: E0133.
import { alloc, dealloc, array, u8 } from "kmiri/rt";

const BUF = array(u8, 16);

export function main(): void {
  let buf;
  unsafe: {
    buf = alloc(BUF);
  }
  dealloc(buf, BUF); //~ ERROR: unsafe-outside-unsafe
}
