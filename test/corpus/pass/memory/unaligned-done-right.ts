import { alloc_zeroed, dealloc, array, u8, u32 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const bytes = alloc_zeroed(array(u8, 8));
    const p = bytes.cast(u8).add(1).cast(u32);
    p.write_unaligned(0x01020304);
    console.log(p.read_unaligned().toString(16), bytes.cast(u8).add(1).read());
    dealloc(bytes, array(u8, 8));
  }
}
