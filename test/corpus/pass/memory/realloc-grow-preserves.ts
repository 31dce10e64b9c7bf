// A growable array of 64-bit timestamps: 2 entries, grown to 4 with `realloc` (the old entries are
// kept, the new ones written before use), then shrunk to 3. Only the pointer `realloc` returned is
// used afterwards, and the final `dealloc` gives the current layout: no UB.
import { alloc, dealloc, realloc, array, u64 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const v2 = alloc(array(u64, 2));
    v2.cast(u64).write(10n);
    v2.cast(u64).add(1).write(20n);

    const v4 = realloc(v2, array(u64, 2), 4 * 8).cast(array(u64, 4));
    const e4 = v4.cast(u64);
    e4.add(2).write(30n);
    e4.add(3).write(40n);

    const v3 = realloc(v4, array(u64, 4), 3 * 8).cast(array(u64, 3));
    const e3 = v3.cast(u64);
    let sum = 0n;
    for (let i = 0; i < 3; i++) sum += e3.add(i).read();
    console.log(String(sum), String(e3.add(2).read()));
    dealloc(v3, array(u64, 3));
  }
}
