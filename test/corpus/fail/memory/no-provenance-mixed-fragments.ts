// Two slots hold pointers to two task structs. A "swap the low halves" helper copies 4 bytes of
// one pointer over the other with `copy_nonoverlapping`. The copy carries the bytes' provenance as
// pointer fragments, but the slot now holds fragments of two different pointers: that is no
// pointer at all (Miri: a pointer is only rebuilt from all 8 fragments of one pointer, in order),
// so the pointer read back has no provenance and the access through it is UB.
import { alloc, dealloc, copy_nonoverlapping, ptr, u8, u32, Box } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const t1 = Box.into_raw(Box.new(u32, 1));
    const t2 = Box.into_raw(Box.new(u32, 2));
    const s1 = alloc(ptr(u32));
    const s2 = alloc(ptr(u32));
    s1.write(t1);
    s2.write(t2);
    copy_nonoverlapping(s2.cast(u8), s1.cast(u8), 4); // low half of t2 over the low half of t1
    const p = s1.read();
    const v = p.read(); //~ ERROR: no-provenance
    console.log(v);
    dealloc(s1, ptr(u32));
    dealloc(s2, ptr(u32));
    Box.from_raw(t1).drop();
    Box.from_raw(t2).drop();
  }
}
