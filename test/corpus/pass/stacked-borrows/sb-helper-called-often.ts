// A local's `&mut` passed to a helper thousands of times: every call retags the argument on entry
// (protected until it returns); the caller's reference pops the callee's tag at its next use. The
// tag GC keeps the stacks short. No UB.
import { local, u64 } from "kmiri/rt";
import type { RefMut } from "kmiri/rt";

function step(acc: RefMut<bigint>, i: number): void {
  acc.write((acc.read() * 31n + BigInt(i)) & 0xffff_ffffn);
}

export function main(): void {
  const x = local(u64, 1n);
  const acc = x.as_mut();
  for (let i = 0; i < 30_000; i++) step(acc, i);
  console.log(acc.read());
}
