// A frame descriptor is built in a `MaybeUninit<FrameDesc>` local through pointers projected from
// the `MaybeUninit` pointer (`addr_of_mut!((*slot.as_mut_ptr()).len)`), but `flags` is never
// written: reading that field through its projected pointer reads uninitialised bytes, UB.
import { local, maybe_uninit, struct, u16, u32, u64 } from "kmiri/rt";

const FrameDesc = struct("FrameDesc", { paddr: u64, len: u32, flags: u16 });

export function main(): void {
  const slot = local(maybe_uninit(FrameDesc));
  unsafe: {
    const p = slot.as_ptr();
    p.field("paddr").write(0x8000n);
    p.field("len").write(4096);
    const flags = p.field("flags").read(); //~ ERROR: uninit
    console.log(flags);
  }
}
