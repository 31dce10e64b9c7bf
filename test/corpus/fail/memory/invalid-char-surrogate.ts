// A keyboard driver stores each decoded UTF-16 unit of the input ring as a 32-bit code and reads it
// back as a `char`. 0xD83D is a lone surrogate, not a Unicode scalar value, so reading those bytes
// as a `char` produces an invalid value: UB.
import { alloc, dealloc, array, char, u32 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const ring = alloc(array(u32, 2));
    const codes = ring.cast(u32);
    codes.write(0x41); // 'A'
    codes.add(1).write(0xd83d); // half of a surrogate pair
    let line = "";
    for (let i = 0; i < 2; i++) {
      line += codes.add(i).cast(char).read(); //~ ERROR: invalid-value
    }
    console.log(line);
    dealloc(ring, array(u32, 2));
  }
}
