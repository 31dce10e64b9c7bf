// A DMA descriptor is built in a `MaybeUninit<DmaDesc>` local field by field and read once every
// field is written (`assume_init_read` after full initialisation). Its 2 bytes of tail padding
// stay uninitialised, which is fine: reading a struct never looks at its padding. No UB.
import { local, maybe_uninit, struct, u16, u32, u64 } from "kmiri/rt";

const DmaDesc = struct("DmaDesc", { addr: u64, len: u32, flags: u16 });

export function main(): void {
  const slot = local(maybe_uninit(DmaDesc));
  unsafe: {
    const p = slot.as_ptr().cast(DmaDesc); // MaybeUninit::as_mut_ptr
    p.field("addr").write(0x8000n);
    p.field("len").write(4096);
    p.field("flags").write(1);
    const desc = slot.as_ptr().read();
    console.log(String(desc.addr), desc.len, desc.flags);
  }
}
