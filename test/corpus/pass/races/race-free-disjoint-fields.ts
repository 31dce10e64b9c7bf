//@ flags: --many-seeds 0..20
// Two CPUs update different fields of one per-frame record, byte-adjacent, without a lock: no
// byte is shared, so there is no race (race state is per byte, as in Miri).
import { alloc_zeroed, dealloc, spawn, struct, u16, u8 } from "kmiri/rt";

const Record = struct("Record", { order: u8, flags: u8, map_count: u16 });

export function main(): void {
  unsafe: {
    const r = alloc_zeroed(Record);
    const a = spawn(() => {
      unsafe: {
        r.field("order").write(3);
        r.field("map_count").write(2);
      }
    });
    const b = spawn(() => {
      unsafe: {
        r.field("flags").write(0x80);
      }
    });
    a.join();
    b.join();
    const v = r.read();
    console.log(v.order, v.flags, v.map_count);
    dealloc(r, Record);
  }
}
