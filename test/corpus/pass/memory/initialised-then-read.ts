import { alloc, dealloc, write_bytes, array, u8, u64 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const buf = alloc(array(u8, 16));
    write_bytes(buf.cast(u8), 0xab, 16);
    console.log(buf.cast(u64).read().toString(16));
    dealloc(buf, array(u8, 16));
  }
}
