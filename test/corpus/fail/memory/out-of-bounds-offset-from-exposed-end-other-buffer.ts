// Like pass/memory/offset-from-exposed-one-past-end.ts, but the driver measures the completion
// pointer (one past the end of the exposed receive buffer, a wildcard that resolves, for the range
// going down from it, to that buffer) against the start of the transmit buffer, allocated just
// before it: `offset_from` between pointers derived from two different allocations is UB,
// whatever their addresses.
import { alloc_zeroed, dealloc, array, ptr_from_exposed, u8 } from "kmiri/rt";

const LEN = 32;
const BUF = array(u8, LEN);

export function main(): void {
  unsafe: {
    const tx = alloc_zeroed(BUF);
    const rx = alloc_zeroed(BUF);
    const end = ptr_from_exposed(rx.expose_provenance() + LEN, u8);
    const d = end.offset_from(tx.cast(u8)); //~ ERROR: out-of-bounds
    console.log(d);
    dealloc(rx, BUF);
    dealloc(tx, BUF);
  }
}
