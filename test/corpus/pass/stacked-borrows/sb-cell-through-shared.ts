// Interior mutability: the bytes of a `cell` under a shared reference are SharedReadWrite, so
// several shared references (and raw pointers from `get`) may all write them; the plain field
// next to the cell stays read-only and is only read (Miri's interior_mutability).
import { Box, cell, struct, u32 } from "kmiri/rt";
import type { Ref } from "kmiri/rt";

const Counter = struct("Counter", { count: cell(u32), limit: u32 });
type CounterV = { count: number; limit: number };

function bump(c: Ref<CounterV>): boolean {
  const p = c.field("count").get();
  unsafe: {
    if (p.read() >= c.field("limit").read()) return false;
    p.write(p.read() + 1);
  }
  return true;
}

export function main(): void {
  const b = Box.new(Counter, { count: 0, limit: 5 });
  const a = b.as_ref();
  const c = b.as_ref(); // two shared references at once
  let n = 0;
  while (bump(n % 2 === 0 ? a : c)) n++;
  unsafe: {
    console.log(n, a.field("count").get().read(), c.field("limit").read());
  }
  b.drop();
}
