// An ext2-style superblock is described by a packed struct, so its 64-bit block count sits at
// offset 2. Reading it with an aligned `read` through the field pointer is UB: the address is not
// 8-aligned (packed fields must be read with `read_unaligned`).
import { alloc_zeroed, dealloc, array, struct, u16, u32, u64 } from "kmiri/rt";

const Superblock = struct("Superblock", { magic: u16, blocks: u64, free: u32 }, { repr: "packed" });
const SECTOR = array(u64, 4); // 8-aligned

export function main(): void {
  unsafe: {
    const disk = alloc_zeroed(SECTOR);
    const sb = disk.cast(Superblock);
    sb.field("magic").write(0xef53); // offset 0: aligned
    const blocks = sb.field("blocks").read(); //~ ERROR: misaligned
    console.log(String(blocks));
    dealloc(disk, SECTOR);
  }
}
