import { alloc, dealloc, bool, u8 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const p = alloc(u8);
    p.write(2);
    const b = p.cast(bool).read(); //~ ERROR: invalid-value
    console.log(b);
    dealloc(p, u8);
  }
}
