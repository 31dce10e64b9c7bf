// Many shared references and `*const` pointers to one configuration block, all reading, in any
// order; the owner writes only after the last read. No UB.
import { Box, struct, u32, u64 } from "kmiri/rt";
import type { Ptr, Ref } from "kmiri/rt";

const Config = struct("Config", { base: u64, pages: u32, flags: u32 });
type ConfigV = { base: bigint; pages: number; flags: number };

function size_of(c: Ref<ConfigV>): bigint {
  return BigInt(c.field("pages").read()) * 4096n;
}

export function main(): void {
  const b = Box.new(Config, { base: 0x4000_0000n, pages: 16, flags: 1 });
  const owner = b.as_mut();
  const readers: Ref<ConfigV>[] = [];
  const raws: Ptr<ConfigV>[] = [];
  for (let i = 0; i < 8; i++) {
    const r = owner.reborrow();
    readers.push(r);
    raws.push(r.as_ptr());
  }
  let total = 0n;
  unsafe: {
    for (let i = 7; i >= 0; i--) total += size_of(readers[i]!) + raws[(i * 3) % 8]!.read().base;
  }
  owner.field_mut("flags").write(0); // after the last read
  console.log(total.toString(16), owner.read().flags);
  b.drop();
}
