// A NIC driver writes the 32-bit sequence number of a header that starts 2 bytes into a receive
// buffer (after the 2-byte alignment pad of the frame). The field's address is only 2-aligned, so
// an aligned `write` of a `u32` there is UB: it needs `write_unaligned`.
import { alloc_zeroed, dealloc, array, u8, u32 } from "kmiri/rt";

const RX = array(u32, 4); // 4-aligned

export function main(): void {
  unsafe: {
    const rx = alloc_zeroed(RX);
    const seq = rx.cast(u8).add(2).cast(u32);
    seq.write(0x1234); //~ ERROR: misaligned
    dealloc(rx, RX);
  }
}
