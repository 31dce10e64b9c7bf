// A scratch buffer lives in a stack local, and a generic cleanup helper `dealloc`s it as if it came
// from the heap. Stack memory is not heap memory: freeing it with `dealloc` is UB.
import { dealloc, local, array, u8 } from "kmiri/rt";

const SCRATCH = array(u8, 32);

function checksum(): number {
  const scratch = local(SCRATCH, new Array<number>(32).fill(1));
  let sum = 0;
  unsafe: {
    const p = scratch.as_ptr();
    for (let i = 0; i < 32; i++) sum += p.cast(u8).add(i).read();
    dealloc(p, SCRATCH); //~ ERROR: bad-dealloc
  }
  return sum;
}

export function main(): void {
  console.log(checksum());
}
