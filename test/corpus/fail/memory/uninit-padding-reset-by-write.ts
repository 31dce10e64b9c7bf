// The descriptor slot starts zeroed, but then a descriptor is stored into it as a struct value. A
// typed copy of a struct does not carry its padding: after the store the padding byte is
// uninitialised again, even though it was zero before, and reading it as a `u8` is UB.
import { alloc_zeroed, dealloc, struct, u8, u16 } from "kmiri/rt";

const Entry = struct("Entry", { kind: u8, len: u16 }); // padding at offset 1

export function main(): void {
  unsafe: {
    const e = alloc_zeroed(Entry);
    e.write({ kind: 2, len: 64 });
    const pad = e.cast(u8).add(1).read(); //~ ERROR: uninit
    console.log(pad);
    dealloc(e, Entry);
  }
}
