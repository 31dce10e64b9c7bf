// An error path frees a receive buffer, and the retry path later tries to grow the same buffer with
// `realloc`. `realloc` needs a live block it may read and free: on a freed one it is a use after
// free.
import { alloc, realloc, dealloc, array, u8 } from "kmiri/rt";

const RX = array(u8, 128);

export function main(): void {
  unsafe: {
    const rx = alloc(RX);
    dealloc(rx, RX); // the error path
    const bigger = realloc(rx, RX, 256); //~ ERROR: use-after-free
    dealloc(bigger.cast(array(u8, 256)), array(u8, 256));
  }
}
