// The fixed `sb-return-retag-invalidated`: the `&mut` is made after the raw pointer's last write,
// so it is valid when it is returned (and retagged where the caller receives it).
import { local, u32 } from "kmiri/rt";
import type { Ptr, RefMut } from "kmiri/rt";

function first_mut(raw: Ptr<number>): RefMut<number> {
  unsafe: {
    raw.write(1);
    return raw.as_mut();
  }
}

const pair = (raw: Ptr<number>) => ({ r: first_mut(raw), n: 3 });

export function main(): void {
  const x = local(u32, 0);
  unsafe: {
    const raw = x.as_mut().as_mut_ptr();
    const r = first_mut(raw);
    r.write(2);
    const p = pair(raw);
    p.r.write(p.r.read() + p.n);
    console.log(raw.read());
  }
}
