// A hand-written `memcpy` copies a page descriptor one `u8` at a time with typed byte reads and
// writes. Loading a pointer's bytes at integer type (`u8`) drops their provenance — the bytes pass
// through integers, which have none — so the copied descriptor's `frame` pointer has none and
// writing through it is UB. Miri agrees (tests/fail/provenance/int_copy_looses_provenance*.rs);
// copying the bytes untyped (`copy_nonoverlapping`, even one byte at a time, or Miri's
// `MaybeUninit<u8>` loop) keeps them: see pass/memory/pointer-bytewise-copy-through-memory.ts.
import { alloc, alloc_zeroed, dealloc, array, ptr, struct, size_of, u8, u32 } from "kmiri/rt";
import type { Ptr } from "kmiri/rt";

const FRAME = array(u32, 4);
const PageDesc = struct("PageDesc", { frame: ptr(FRAME), pfn: u32 });

function byte_copy(dst: Ptr<number>, src: Ptr<number>, n: number): void {
  "unsafe";
  for (let i = 0; i < n; i++) dst.add(i).write(src.add(i).read());
}

export function main(): void {
  unsafe: {
    const frame = alloc_zeroed(FRAME);
    const a = alloc(PageDesc);
    a.write({ frame, pfn: 9 });
    const b = alloc_zeroed(PageDesc);
    byte_copy(b.cast(u8), a.cast(u8), size_of(PageDesc) - 4); // the pointer and `pfn`, not the padding
    const f = b.field("frame").read();
    f.cast(u32).write(1); //~ ERROR: no-provenance
    dealloc(a, PageDesc);
    dealloc(b, PageDesc);
    dealloc(frame, FRAME);
  }
}
