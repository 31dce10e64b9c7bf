// A buffer of 8 words is split into two halves for two queues, and the second queue's teardown
// frees its half. That pointer points into the middle of the allocation, not to its start:
// deallocating it is UB.
import { alloc, dealloc, array, u32 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const buf = alloc(array(u32, 8));
    const second = buf.cast(u32).add(4).cast(array(u32, 4));
    dealloc(second, array(u32, 4)); //~ ERROR: bad-dealloc
  }
}
