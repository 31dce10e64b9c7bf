// A page descriptor keeps a raw pointer to its frame in a struct field. A `ptr` field stores the
// whole pointer, provenance included, so the pointer read back from the descriptor may be used to
// write the frame: no UB.
import { alloc, alloc_zeroed, dealloc, array, ptr, struct, u8, u32, u64 } from "kmiri/rt";

const FRAME = array(u8, 64);
const PageDesc = struct("PageDesc", { frame: ptr(FRAME), pfn: u64, refcount: u32 });

export function main(): void {
  unsafe: {
    const frame = alloc_zeroed(FRAME);
    const desc = alloc(PageDesc);
    desc.write({ frame, pfn: 0x80n, refcount: 1 });

    const f = desc.field("frame").read(); // the stored pointer, read back from memory
    f.cast(u8).add(10).write(0xaa);
    const copy = desc.read(); // the whole descriptor, pointer included
    copy.frame.cast(u8).add(11).write(0xbb);

    const d = desc.read();
    console.log(String(d.pfn), d.refcount, frame.cast(u8).add(10).read(), frame.cast(u8).add(11).read());
    dealloc(desc, PageDesc);
    dealloc(frame, FRAME);
  }
}
