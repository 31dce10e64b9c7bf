// A DMA completion register hands back the address one past the last byte the device wrote into
// an exposed receive buffer; the driver turns it into a pointer with `ptr_from_exposed` (a
// wildcard) and measures the received length with `offset_from` against the buffer's start, both
// ways. The wildcard sits exactly at the end of the exposed buffer: Miri resolves it, for the range
// going down from it, at the byte before (`addr - 1`), which is in the buffer, so both pointers are
// derived from the same allocation and the range between them is in bounds: no UB. Walking back
// from it with `sub` and reading is fine too.
import { alloc_zeroed, dealloc, array, ptr_from_exposed, u8 } from "kmiri/rt";

const LEN = 32;
const RX = array(u8, LEN);

export function main(): void {
  unsafe: {
    const buf = alloc_zeroed(RX);
    const start = buf.cast(u8);
    for (let i = 0; i < LEN; i++) start.add(i).write(0x40 + i);
    const completion = buf.expose_provenance() + LEN; // what the device reports
    const end = ptr_from_exposed(completion, u8);
    const received = end.offset_from(start);
    const back = start.offset_from(end);
    const wild_start = ptr_from_exposed(buf.expose_provenance(), u8);
    const both_wild = end.offset_from(wild_start);
    const last = end.sub(1).read();
    console.log(received, back, both_wild, last);
    dealloc(buf, RX);
  }
}
