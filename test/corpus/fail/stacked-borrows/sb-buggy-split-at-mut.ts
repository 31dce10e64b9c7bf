// Miri's both_borrows/buggy_split_at_mut: a hand-written `split_at_mut` whose first half is too
// long. The second half's `&mut` overlaps it and pops it there; the first half is dead from then
// on, and the caller's retag of the returned pair fails at the call, where Miri reports it too
// (its `//~[stack]^ ERROR` is on the `let (a, b) = …` line).
import { array, local, u32 } from "kmiri/rt";
import type { RefMut } from "kmiri/rt";

function split_at_mut(v: RefMut<number[]>, mid: number): [RefMut<number[]>, RefMut<number[]>] {
  const len = v.layout.len;
  const raw = v.as_mut_ptr().cast(u32);
  unsafe: {
    // BUG: the first half should have `mid` elements, not `len - mid`.
    const a = raw.cast(array(u32, len - mid)).as_mut();
    const b = raw.add(mid).cast(array(u32, len - mid)).as_mut();
    return [a, b];
  }
}

export function main(): void {
  const arr = local(array(u32, 4), [1, 2, 3, 4]);
  const [a, b] = split_at_mut(arr.as_mut(), 0); //~ ERROR: stacked-borrows
  a.index_mut(1).write(5);
  b.index_mut(1).write(6);
}
