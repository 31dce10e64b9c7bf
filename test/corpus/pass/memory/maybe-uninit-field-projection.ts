// A frame descriptor is built in a `MaybeUninit<FrameDesc>` local field by field, through pointers
// projected straight from the `MaybeUninit` pointer (Rust: `addr_of_mut!((*slot.as_mut_ptr()).len)`,
// no cast to `*mut FrameDesc` first), its `tag` array element by element, and a `MaybeUninit<[u32; 4]>`
// scratch buffer the same way through `index`. Every byte a read needs is written first: no UB.
import { array, local, maybe_uninit, struct, u16, u32, u64, u8 } from "kmiri/rt";

const FrameDesc = struct("FrameDesc", { paddr: u64, len: u32, flags: u16, tag: array(u8, 2) });

export function main(): void {
  const slot = local(maybe_uninit(FrameDesc));
  const scratch = local(maybe_uninit(array(u32, 4)));
  unsafe: {
    const p = slot.as_ptr();
    p.field("paddr").write(0x8000n);
    p.field("len").write(4096);
    p.field("flags").write(3);
    const tag = p.field("tag");
    tag.index(0).write(0x4b);
    tag.index(1).write(0x4d);
    console.log(p.field("len").read()); // a field read once written
    const desc = p.read(); // `assume_init_read`: every field is initialised
    console.log(String(desc.paddr), desc.len, desc.flags, desc.tag.join(","));

    const s = scratch.as_ptr();
    for (let i = 0; i < 4; i++) s.index(i).write(i * i);
    console.log(s.read().join(","));
  }
}
