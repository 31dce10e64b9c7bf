// An ext2-style superblock is a packed struct, so its 64-bit block count sits at offset 2 and its
// free count at offset 10. Accessing those fields with `read_unaligned`/`write_unaligned` is the
// right way to touch packed fields: no UB.
import { alloc_zeroed, dealloc, array, struct, u8, u16, u32, u64 } from "kmiri/rt";

const Superblock = struct("Superblock", { magic: u16, blocks: u64, free: u32 }, { repr: "packed" });
const SECTOR = array(u64, 4);

export function main(): void {
  unsafe: {
    const disk = alloc_zeroed(SECTOR);
    const sb = disk.cast(Superblock);
    sb.field("magic").write_unaligned(0xef53);
    sb.field("blocks").write_unaligned(1024n);
    sb.field("free").write_unaligned(1000);
    const blocks = sb.field("blocks").read_unaligned();
    sb.field("free").write_unaligned(sb.field("free").read_unaligned() - 1);
    const whole = sb.read_unaligned();
    console.log(whole.magic.toString(16), String(blocks), whole.free, disk.cast(u8).add(3).read());
    dealloc(disk, SECTOR);
  }
}
