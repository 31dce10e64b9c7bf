// Miri's basic_aliasing_model partially_invalidate_mut: an `&mut` to the first byte of a pair,
// made through a raw pointer, survives a write of the second byte through the pair's `&mut`:
// only the bytes a write covers are affected.
import { local, struct, u8 } from "kmiri/rt";

const Pair = struct("Pair", { a: u8, b: u8 });

export function main(): void {
  const d = local(Pair, { a: 0, b: 0 });
  const data = d.as_mut();
  const reborrow = data.as_mut_ptr();
  unsafe: {
    const shard = reborrow.field("a").as_mut();
    const b = data.field("b").read();
    data.field_mut("b").write(b + 1); // through `data`, over the other byte: `shard` stays
    shard.write(shard.read() + 1);
  }
  console.log(data.read().a, data.read().b);
}
