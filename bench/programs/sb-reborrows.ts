// Stacked Borrows workload 1 (bench/sb-scaling.mjs): a million reborrows of one location. Each
// iteration reborrows the current `&mut` (`let t = &mut *cur`), reads through a shared reborrow of
// it, writes through it (popping the shared one), and keeps it (`cur = t`): the stack of the
// location grows by one item per iteration until the tag GC trims the dead ones.
import { local, u64 } from "kmiri/rt";

const N = 1_000_000; // bench/sb-scaling.mjs also runs a copy with 2N here (programs cannot read the environment)

export function main(): void {
  const x = local(u64, 0n);
  let cur = x.as_mut();
  for (let i = 0; i < N; i += 2) {
    const t = cur.reborrow_mut(); // let t = &mut *cur;
    const s = t.reborrow(); //        let s = &*t;
    const v = s.read(); //            *s
    t.write(v + 1n); //               *t += 1 (pops s)
    cur = t;
  }
  console.log(x.read());
}
