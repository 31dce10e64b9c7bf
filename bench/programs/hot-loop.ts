// The engine benchmark: a hot loop of memory accesses and calls (issue #2: checked ≤ 10x native).
import { alloc_zeroed, dealloc, array, u32 } from "kmiri/rt";

const N = 1024;

function get(p: ReturnType<typeof alloc_zeroed<number>>, i: number): number {
  "unsafe";
  return p.add(i).read();
}

function put(p: ReturnType<typeof alloc_zeroed<number>>, i: number, v: number): void {
  "unsafe";
  p.add(i).write(v);
}

export function main(): void {
  unsafe: {
    const buf = alloc_zeroed(array(u32, N)).cast(u32);
    let sum = 0;
    for (let k = 0; k < 2_000_000; k++) {
      const i = k & (N - 1);
      put(buf, i, (get(buf, i) + k) >>> 0);
      sum = (sum + get(buf, (i * 7) & (N - 1))) >>> 0;
    }
    console.log("checksum", sum);
    dealloc(buf.cast(array(u32, N)), array(u32, N));
  }
}
