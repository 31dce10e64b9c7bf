// A driver computes "how many descriptors apart" two pointers are with `offset_from`, but they
// point into two different rings (two allocations). `offset_from` requires both pointers to be
// derived from the same allocation: anything else is UB, whatever the addresses happen to be.
import { alloc_zeroed, dealloc, array, u64 } from "kmiri/rt";

const RING = array(u64, 8);

export function main(): void {
  unsafe: {
    const tx = alloc_zeroed(RING);
    const rx = alloc_zeroed(RING);
    const tx_head = tx.cast(u64).add(2);
    const rx_head = rx.cast(u64).add(5);
    const distance = rx_head.offset_from(tx_head); //~ ERROR: out-of-bounds
    console.log(distance);
    dealloc(tx, RING);
    dealloc(rx, RING);
  }
}
