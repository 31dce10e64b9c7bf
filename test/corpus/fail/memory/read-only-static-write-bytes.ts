// Boot code scrubs the kernel's version banner with `write_bytes` before handing memory to user
// space, but the banner is an immutable `static`. Immutable statics are read-only memory:
// `write_bytes` into it is UB.
import { static_, write_bytes, array, u8 } from "kmiri/rt";

const BANNER = static_(array(u8, 8), [0x6b, 0x6d, 0x69, 0x72, 0x69, 0x20, 0x30, 0x31], { name: "BANNER" });

export function main(): void {
  const banner = BANNER.as_ptr().cast(u8);
  unsafe: {
    write_bytes(banner, 0, 8); //~ ERROR: read-only
  }
}
