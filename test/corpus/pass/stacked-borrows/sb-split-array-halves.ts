// `split_at_mut` done right: two `&mut` to the two halves of an array, made from one raw pointer,
// written in turns. The halves do not overlap, so neither pops the other.
import { array, local, u32 } from "kmiri/rt";
import type { RefMut } from "kmiri/rt";

const Half = array(u32, 4);

function split_at_mut(v: RefMut<number[]>): [RefMut<number[]>, RefMut<number[]>] {
  const raw = v.as_mut_ptr().cast(u32);
  unsafe: {
    return [raw.cast(Half).as_mut(), raw.add(4).cast(Half).as_mut()];
  }
}

function fill(half: RefMut<number[]>, from: number): void {
  for (let i = 0; i < 4; i++) half.index_mut(i).write(from + i);
}

export function main(): void {
  const arr = local(array(u32, 8), [0, 0, 0, 0, 0, 0, 0, 0]);
  const [lo, hi] = split_at_mut(arr.as_mut());
  fill(hi, 10);
  fill(lo, 0);
  const sum = hi.index(0).read() + lo.index(3).read(); // (Rust evaluates `hi[0] + lo[3]` first too)
  hi.index_mut(0).write(sum);
  console.log(arr.read().join(" "));
}
