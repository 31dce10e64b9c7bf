// A single-producer ring of 4 slots with free-running 32-bit head/tail counters that wrap around
// 2^32 (they start just below it); a slot index is `counter & 3`. Every slot index stays in bounds
// and every slot is written before it is read: no UB.
import { alloc, dealloc, array, struct, u32 } from "kmiri/rt";
import type { Ptr, Value } from "kmiri/rt";

const SLOTS = 4;
const Ring = struct("Ring", { head: u32, tail: u32, slots: array(u32, SLOTS) });
type RingP = Ptr<Value<typeof Ring>>;

function push(r: RingP, v: number): boolean {
  "unsafe";
  const head = r.field("head").read();
  const tail = r.field("tail").read();
  if (((head - tail) >>> 0) === SLOTS) return false; // full
  r.field("slots").index(head & (SLOTS - 1)).write(v);
  r.field("head").write((head + 1) >>> 0);
  return true;
}

function pop(r: RingP): number | undefined {
  "unsafe";
  const head = r.field("head").read();
  const tail = r.field("tail").read();
  if (head === tail) return undefined; // empty
  const v = r.field("slots").index(tail & (SLOTS - 1)).read();
  r.field("tail").write((tail + 1) >>> 0);
  return v;
}

export function main(): void {
  unsafe: {
    const r = alloc(Ring);
    r.field("head").write(0xffff_fffe);
    r.field("tail").write(0xffff_fffe);
    const out: number[] = [];
    let rejected = 0;
    for (let i = 1; i <= 10; i++) {
      if (!push(r, i * 11)) rejected++;
      if (i % 3 === 0) {
        const v = pop(r);
        if (v !== undefined) out.push(v);
      }
    }
    for (let v = pop(r); v !== undefined; v = pop(r)) out.push(v);
    console.log(out.join(","), rejected, r.field("head").read());
    dealloc(r, Ring);
  }
}
