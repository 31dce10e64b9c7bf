// A DMA descriptor is built in a `MaybeUninit<DmaDesc>` local field by field, but the code forgets
// `flags` before `assume_init_read`. Reading it as a `DmaDesc` requires every field to be
// initialised: the missing field makes the read UB.
import { local, maybe_uninit, struct, u16, u32, u64 } from "kmiri/rt";

const DmaDesc = struct("DmaDesc", { addr: u64, len: u32, flags: u16 });

export function main(): void {
  const slot = local(maybe_uninit(DmaDesc));
  unsafe: {
    const p = slot.as_ptr().cast(DmaDesc); // MaybeUninit::as_mut_ptr
    p.field("addr").write(0x8000n);
    p.field("len").write(4096);
    const desc = slot.as_ptr().read(); //~ ERROR: uninit
    console.log(desc.len);
  }
}
