import { alloc_zeroed, dealloc, array, u32 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const arr = alloc_zeroed(array(u32, 4));
    const p = arr.cast(u32);
    // One past the end may be formed, not read.
    const end = p.add(4);
    end.read(); //~ ERROR: out-of-bounds
    dealloc(arr, array(u32, 4));
  }
}
