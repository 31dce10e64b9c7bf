// Finds a descriptor's index in its ring with `offset_from` against the ring's base, and the ring's
// length from the one-past-the-end pointer. Both pointers of each `offset_from` come from the same
// allocation and are in bounds (one past the end included): no UB.
import { alloc_zeroed, dealloc, array, struct, u32, u64 } from "kmiri/rt";

const Desc = struct("Desc", { addr: u64, len: u32 });
const RING = 8;

export function main(): void {
  unsafe: {
    const ring = alloc_zeroed(array(Desc, RING));
    const base = ring.cast(Desc);
    const end = base.add(RING);
    let busiest = base;
    for (let d = base; d.addr() !== end.addr(); d = d.add(1)) {
      d.field("len").write((d.addr() - base.addr()) % 48);
      if (d.field("len").read() > busiest.field("len").read()) busiest = d;
    }
    console.log(busiest.offset_from(base), end.offset_from(base), base.offset_from(end));
    dealloc(ring, array(Desc, RING));
  }
}
