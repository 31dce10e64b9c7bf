// Per-operation cost of raw pointer accesses: 4 million u32 reads and 4 million u32 writes
// through pointers (plus the in-bounds `add` that makes each one), on one 4 KiB buffer.
import { alloc_zeroed, array, dealloc, u32 } from "kmiri/rt";

const N = 1024;
const ROUNDS = 4_000_000;

export function main(): void {
  unsafe: {
    const buf = alloc_zeroed(array(u32, N));
    const base = buf.cast(u32);
    let sum = 0;
    for (let k = 0; k < ROUNDS; k++) {
      const p = base.add(k & (N - 1));
      const v = p.read();
      p.write((v + k) >>> 0);
      sum = (sum + v) >>> 0;
    }
    console.log("checksum", sum);
    dealloc(buf, array(u32, N));
  }
}
