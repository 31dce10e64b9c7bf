import { alloc_zeroed, dealloc, array, u16 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const arr = alloc_zeroed(array(u16, 2));
    const p = arr.cast(u16);
    const q = p.add(3); //~ ERROR: out-of-bounds
    q.read();
    dealloc(arr, array(u16, 2));
  }
}
