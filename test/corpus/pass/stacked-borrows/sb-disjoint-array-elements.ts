// `iter_mut` over a page table: one `&mut` per entry, all alive at once, each written through;
// then the whole table shared and summed, then rewritten through its owner. Each entry has its
// own borrow stack (the range map splits, then merges again).
import { array, Box, u64 } from "kmiri/rt";
import type { RefMut } from "kmiri/rt";

const ENTRIES = 512;
const PageTable = array(u64, ENTRIES);

export function main(): void {
  const table = Box.new(PageTable, new Array<bigint>(ENTRIES).fill(0n));
  const t = table.as_mut();
  const entries: RefMut<bigint>[] = [];
  for (let i = 0; i < ENTRIES; i++) entries.push(t.index_mut(i));
  for (let i = ENTRIES - 1; i >= 0; i--) entries[i]!.write((BigInt(i) << 12n) | 0x3n);
  const view = t.reborrow();
  let present = 0;
  for (let i = 0; i < ENTRIES; i++) if ((view.index(i).read() & 1n) !== 0n) present++;
  t.write(new Array<bigint>(ENTRIES).fill(0n));
  console.log(present, table.read()[ENTRIES - 1]);
  table.drop();
}
