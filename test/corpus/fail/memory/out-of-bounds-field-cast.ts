// A packet handler receives a short 4-byte header and casts it to the 12-byte extended header to
// reach `opts`. Projecting to a field (`&raw const (*p).opts`) is in-bounds pointer arithmetic:
// `seq` (offset 4, exactly one past the end) may still be projected, `opts` (offset 8) may not.
import { alloc, dealloc, struct, u16, u32 } from "kmiri/rt";

const ShortHdr = struct("ShortHdr", { kind: u16, len: u16 });
const ExtHdr = struct("ExtHdr", { kind: u16, len: u16, seq: u32, opts: u32 });

export function main(): void {
  unsafe: {
    const h = alloc(ShortHdr);
    h.write({ kind: 1, len: 4 });
    const ext = h.cast(ExtHdr);
    const seq = ext.field("seq"); // one past the end: allowed to form
    const opts = ext.field("opts"); //~ ERROR: out-of-bounds
    console.log(seq.is_null(), opts.is_null());
    dealloc(h, ShortHdr);
  }
}
