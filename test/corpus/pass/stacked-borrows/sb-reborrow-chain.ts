// A chain of reborrows: each `&mut *r` sits on top of its parent; the innermost is used, then
// each parent in turn, which pops its children — always after their last use. Shared reborrows
// of the last one read while it is not written.
import { local, u64 } from "kmiri/rt";
import type { RefMut } from "kmiri/rt";

export function main(): void {
  const x = local(u64, 0n);
  const chain: RefMut<bigint>[] = [x.as_mut()];
  for (let i = 1; i < 16; i++) chain.push(chain[i - 1]!.reborrow_mut());
  for (let i = 15; i >= 0; i--) chain[i]!.write(chain[i]!.read() + BigInt(i));
  const top = chain[0]!;
  const s1 = top.reborrow();
  const s2 = s1.reborrow();
  console.log(s1.read(), s2.read(), top.read());
  top.write(1n);
  console.log(x.read());
}
