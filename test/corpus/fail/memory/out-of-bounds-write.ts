// Initialising a ring of DMA descriptors with an off-by-one loop (`i <= RING`). `d.add(RING)` is
// the one-past-the-end pointer, which may be formed, but writing a descriptor there is past the end
// of the ring's allocation.
import { alloc, dealloc, array, struct, u16, u32, u64 } from "kmiri/rt";

const RING = 4;
const DmaDesc = struct("DmaDesc", { addr: u64, len: u32, flags: u16, next: u16 });

export function main(): void {
  unsafe: {
    const ring = alloc(array(DmaDesc, RING));
    const d = ring.cast(DmaDesc);
    for (let i = 0; i <= RING; i++) {
      d.add(i).write({ addr: BigInt(0x10000 + 0x800 * i), len: 0x800, flags: 0, next: (i + 1) % RING }); //~ ERROR: out-of-bounds
    }
    dealloc(ring, array(DmaDesc, RING));
  }
}
