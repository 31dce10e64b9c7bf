// A log buffer of 4 entries is grown to 8 with `realloc`, which keeps the old entries and leaves
// the new tail uninitialised. Only one new entry is written, but the dump loop reads all 8: the
// sixth entry was never written, and reading it is UB.
import { alloc, dealloc, realloc, array, u32 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const small = alloc(array(u32, 4));
    for (let i = 0; i < 4; i++) small.cast(u32).add(i).write(100 + i);
    const log = realloc(small, array(u32, 4), 8 * 4).cast(u32);
    log.add(4).write(104);
    let sum = 0;
    for (let i = 0; i < 8; i++) {
      sum += log.add(i).read(); //~ ERROR: uninit
    }
    console.log(sum);
    dealloc(log.cast(array(u32, 8)), array(u32, 8));
  }
}
