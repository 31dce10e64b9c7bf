// A descriptor `{ flags: u8, len: u32 }` has 3 padding bytes after `flags`. It is written as a
// struct value (which initialises the fields, not the padding) and then pushed to the device one
// `u32` word at a time. The first word covers the padding, so it reads uninitialised bytes: UB.
import { alloc, dealloc, struct, u8, u32 } from "kmiri/rt";

const Desc = struct("Desc", { flags: u8, len: u32 });

export function main(): void {
  unsafe: {
    const d = alloc(Desc);
    d.write({ flags: 1, len: 512 });
    const words = d.cast(u32);
    const w0 = words.read(); //~ ERROR: uninit
    const w1 = words.add(1).read();
    console.log(w0, w1);
    dealloc(d, Desc);
  }
}
