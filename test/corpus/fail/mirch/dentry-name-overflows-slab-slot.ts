// Dentries live in a slab of 64-byte slots (`retype_pages(.., "slab", 64)`: one allocation per
// slot). `d_alloc` copies the name into the inline buffer without checking its length, so a long
// name runs past the end of its slot into the neighbour's: `out-of-bounds`.
import { array, struct, u32, u8 } from "kmiri/rt";
import { PAGE_SIZE, alloc_pages, memory_regions, phys_ptr, retype_pages } from "kmiri/mirch";

const Dentry = struct("Dentry", { refcnt: u32, len: u32, name: array(u8, 56) }); // 64 bytes
const SLOT = 64;

function d_alloc(slab: number, slot: number, name: string): void {
  unsafe: {
    const d = phys_ptr(slab + slot * SLOT, Dentry);
    d.field("refcnt").write(1);
    d.field("len").write(name.length);
    const bytes = d.field("name").cast(u8);
    for (let i = 0; i < name.length; i++) {
      bytes.add(i).write(name.charCodeAt(i)); //~ ERROR: out-of-bounds
    }
  }
}

export function main(): void {
  const ram = memory_regions().find((r) => r.kind === "ram")!;
  const slab = Math.ceil(ram.start / PAGE_SIZE) * PAGE_SIZE;
  unsafe: {
    alloc_pages(slab, 1);
    retype_pages(slab, 1, "slab", SLOT);
  }
  d_alloc(slab, 0, "lost+found");
  d_alloc(slab, 1, "a-rather-long-file-name-from-a-tarball-of-kernel-sources.c");
  console.log("two dentries");
}
