// A DMA bounce buffer is freed, then the driver computes the address of its second half with
// `add`. In-bounds pointer arithmetic requires a live allocation, so the `add` itself is UB on the
// dangling pointer, before any access (`wrapping_add` would only be UB once dereferenced).
import { alloc, dealloc, array, u8 } from "kmiri/rt";

const BUF = array(u8, 64);

export function main(): void {
  unsafe: {
    const buf = alloc(BUF);
    const bytes = buf.cast(u8);
    bytes.write(0);
    dealloc(buf, BUF);
    const second_half = bytes.add(32); //~ ERROR: use-after-free
    console.log(second_half.is_null());
  }
}
