// Like pass/memory/offset-from-exposed-one-past-end.ts, but the driver never exposed the receive
// buffer: it read its address with `addr()`, which exposes nothing. The completion address is one
// past the buffer's end, and the wildcard made from it resolves (at the byte before it, the range
// going down) to no exposed allocation: `offset_from` between it and the buffer's start is UB.
import { alloc_zeroed, dealloc, array, ptr_from_exposed, u8 } from "kmiri/rt";

const LEN = 32;
const RX = array(u8, LEN);

export function main(): void {
  unsafe: {
    const buf = alloc_zeroed(RX);
    const start = buf.cast(u8);
    const completion = buf.addr() + LEN;
    const end = ptr_from_exposed(completion, u8);
    const received = end.offset_from(start); //~ ERROR: no-provenance
    console.log(received);
    dealloc(buf, RX);
  }
}
