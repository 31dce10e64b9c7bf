import { alloc_zeroed, dealloc, copy_nonoverlapping, array, u32 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const arr = alloc_zeroed(array(u32, 4));
    const p = arr.cast(u32);
    copy_nonoverlapping(p, p.add(1), 2); //~ ERROR: overlapping-copy
    dealloc(arr, array(u32, 4));
  }
}
