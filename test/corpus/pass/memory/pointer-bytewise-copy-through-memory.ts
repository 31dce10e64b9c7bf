// A hand-written `memcpy` copies a page descriptor one byte at a time, each byte with
// `copy_nonoverlapping` (an untyped copy through memory, like Miri's `MaybeUninit<u8>` loop).
// Each byte of the stored `frame` pointer travels as a pointer fragment; once all eight sit in
// order in the copy they are the pointer again, with its provenance: no UB. (A loop of typed `u8`
// reads and writes would drop it: see fail/memory/no-provenance-bytewise-copy.ts.)
import { alloc, alloc_zeroed, dealloc, copy_nonoverlapping, array, ptr, struct, size_of, u8, u32 } from "kmiri/rt";
import type { Ptr } from "kmiri/rt";

const FRAME = array(u32, 4);
const PageDesc = struct("PageDesc", { frame: ptr(FRAME), pfn: u32 });

function byte_copy(dst: Ptr<number>, src: Ptr<number>, n: number): void {
  "unsafe";
  for (let i = 0; i < n; i++) copy_nonoverlapping(src.add(i), dst.add(i), 1);
}

export function main(): void {
  unsafe: {
    const frame = alloc_zeroed(FRAME);
    const a = alloc(PageDesc);
    a.write({ frame, pfn: 9 });
    const b = alloc_zeroed(PageDesc);
    byte_copy(b.cast(u8), a.cast(u8), size_of(PageDesc) - 4); // the pointer and `pfn`, not the padding
    const f = b.field("frame").read();
    f.cast(u32).write(1);
    console.log(frame.cast(u32).read(), b.field("pfn").read());
    dealloc(a, PageDesc);
    dealloc(b, PageDesc);
    dealloc(frame, FRAME);
  }
}
