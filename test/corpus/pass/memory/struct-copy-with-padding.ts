// A descriptor with 3 bytes of padding is copied with `copy_nonoverlapping` (an untyped byte copy
// that carries the uninitialised padding along) and by a typed read and write, then read back as a
// struct. Reading a struct never looks at its padding, so no UB.
import { alloc, dealloc, copy_nonoverlapping, struct, u8, u32 } from "kmiri/rt";

const Desc = struct("Desc", { flags: u8, len: u32 });

export function main(): void {
  unsafe: {
    const a = alloc(Desc);
    a.write({ flags: 1, len: 512 });
    const b = alloc(Desc);
    copy_nonoverlapping(a, b, 1);
    const c = alloc(Desc);
    c.write(b.read());
    const v = c.read();
    console.log(v.flags, v.len, b.field("len").read());
    dealloc(a, Desc);
    dealloc(b, Desc);
    dealloc(c, Desc);
  }
}
