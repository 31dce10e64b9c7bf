// Stacked Borrows workload 3 (bench/sb-scaling.mjs): a large array under many disjoint borrows
// (`iter_mut`): one `&mut` per element, all alive at once (one borrow stack per element), each
// written, then the whole array shared and read back, then written as a whole (the stacks merge
// back into one).
import { array, Box, u32 } from "kmiri/rt";
import type { RefMut } from "kmiri/rt";

const N = 200_000; // bench/sb-scaling.mjs also runs a copy with 2N here (programs cannot read the environment)

export function main(): void {
  const Table = array(u32, N);
  const table = Box.new(Table, new Array<number>(N).fill(0));
  const t = table.as_mut();
  const elems: RefMut<number>[] = [];
  for (let i = 0; i < N; i++) elems.push(t.index_mut(i)); // iter_mut()
  for (let i = 0; i < N; i++) elems[i]!.write(i & 0xff);
  const view = t.reborrow();
  let sum = 0;
  for (let i = 0; i < N; i++) sum += view.index(i).read();
  t.write(new Array<number>(N).fill(1));
  console.log(sum, table.read()[N - 1]);
  table.drop();
}
