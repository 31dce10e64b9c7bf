// Two `&mut` to two different fields of one struct, used in any order: their bytes do not overlap,
// so each field has its own borrow stack (Miri's basic_aliasing_model disjoint_mutable_subborrows).
import { Box, struct, u32, u64 } from "kmiri/rt";

const Stats = struct("Stats", { hits: u64, misses: u32, evictions: u32 });

export function main(): void {
  const b = Box.new(Stats, { hits: 0n, misses: 0, evictions: 0 });
  const s = b.as_mut();
  const hits = s.field_mut("hits");
  const misses = s.field_mut("misses");
  const evictions = s.field_mut("evictions");
  for (let i = 0; i < 10; i++) {
    if (i % 3 === 0) misses.write(misses.read() + 1);
    else hits.write(hits.read() + 1n);
    if (i % 4 === 0) evictions.write(evictions.read() + 1);
  }
  console.log(hits.read(), misses.read(), evictions.read());
  const total = s.read(); // the whole struct again through the parent
  console.log(total.hits + BigInt(total.misses), total.evictions);
  b.drop();
}
