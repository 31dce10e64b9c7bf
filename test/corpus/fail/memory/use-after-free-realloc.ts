// A frame table grows with `realloc`, but a pointer cached before the growth is used afterwards.
// `realloc` frees the old block and returns a new one (even when it could grow in place, the old
// pointer is invalidated), so reading through the stale pointer is a use after free.
import { alloc, realloc, dealloc, array, u32 } from "kmiri/rt";

const FRAMES = 4;

export function main(): void {
  unsafe: {
    const table = alloc(array(u32, FRAMES));
    const first = table.cast(u32); // cached by the page-fault handler
    for (let i = 0; i < FRAMES; i++) first.add(i).write(0x1000 * i);
    const grown = realloc(table, array(u32, FRAMES), 2 * FRAMES * 4);
    const pfn = first.read(); //~ ERROR: use-after-free
    console.log(pfn);
    dealloc(grown.cast(array(u32, 2 * FRAMES)), array(u32, 2 * FRAMES));
  }
}
