// A frame table records each frame's address as a plain integer, as a hardware table would, after
// exposing each frame's provenance with `expose_provenance`. Turning such an address back into a
// pointer with `ptr_from_exposed` gives a pointer that may access the exposed frame: no UB (Miri
// only warns about the integer-to-pointer cast).
import { alloc, alloc_zeroed, dealloc, ptr_from_exposed, array, u32, usize } from "kmiri/rt";
import type { Ptr } from "kmiri/rt";

const N = 3;
const FRAME = array(u32, 16);

export function main(): void {
  unsafe: {
    const table = alloc(array(usize, N));
    const frames: Ptr<number[]>[] = [];
    for (let i = 0; i < N; i++) {
      const f = alloc_zeroed(FRAME);
      frames.push(f);
      table.cast(usize).add(i).write(f.expose_provenance());
    }
    // Later: only the addresses are at hand.
    for (let i = 0; i < N; i++) {
      const addr = table.cast(usize).add(i).read();
      const word = ptr_from_exposed(addr, u32).add(3);
      word.write(100 + i);
    }
    let sum = 0;
    for (const f of frames) sum += f.cast(u32).add(3).read();
    console.log(sum);
    for (const f of frames) dealloc(f, FRAME);
    dealloc(table, array(usize, N));
  }
}
