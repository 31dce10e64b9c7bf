// The boot page is a `static mut` buffer, but the teardown code assumes every page came from the
// heap and `dealloc`s it. Static memory was never allocated by the heap allocator: freeing it is UB.
import { dealloc, static_, array, u8 } from "kmiri/rt";

const PAGE = array(u8, 64);
const BOOT_PAGE = static_(PAGE, new Array<number>(64).fill(0), { mut: true, name: "BOOT_PAGE" });

export function main(): void {
  const p = BOOT_PAGE.as_ptr(); // &raw mut BOOT_PAGE
  unsafe: {
    dealloc(p, PAGE); //~ ERROR: bad-dealloc
  }
}
