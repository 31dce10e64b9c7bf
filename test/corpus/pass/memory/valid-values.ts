// Reads `bool`, `char` and enum values from memory only where the bytes hold valid values, and
// `transmute`s integers that are valid for the target type (1 to `bool`, 0x41 to `char`). Every
// value produced is valid: no UB.
import { alloc_zeroed, dealloc, transmute, array, enum_, bool, char, u8, u32 } from "kmiri/rt";

const PageState = enum_("PageState", u8, { Free: 0, Allocated: 1, Reserved: 2 });

export function main(): void {
  unsafe: {
    const mem = alloc_zeroed(array(u32, 4));
    const bytes = mem.cast(u8);
    bytes.write(1);
    bytes.add(1).write(2);
    const ready = bytes.cast(bool).read();
    const state = bytes.add(1).cast(PageState).read();
    const idle = bytes.add(2).cast(bool).read(); // zeroed: false
    mem.cast(u32).add(1).write(0xe9); // 'é'
    const ch = mem.cast(u32).add(1).cast(char).read();
    mem.cast(u32).add(2).cast(char).write("Z");
    const z = mem.cast(u32).add(2).read();
    console.log(ready, state, idle, ch, z, transmute(1, u8, bool), transmute(0x41, u32, char));
    dealloc(mem, array(u32, 4));
  }
}
