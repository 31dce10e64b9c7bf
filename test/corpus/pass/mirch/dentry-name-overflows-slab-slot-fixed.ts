// Dentries live in a slab of 64-byte slots (`retype_pages(.., "slab", 64)`: one allocation per
// slot). `d_alloc` copies at most the inline buffer's 56 bytes of a name (a longer name would go
// to a separate allocation), so every write stays in the dentry's own slot. No UB.
import { array, struct, u32, u8 } from "kmiri/rt";
import { PAGE_SIZE, alloc_pages, memory_regions, phys_ptr, retype_pages } from "kmiri/mirch";

const Dentry = struct("Dentry", { refcnt: u32, len: u32, name: array(u8, 56) }); // 64 bytes
const SLOT = 64;
const DNAME_INLINE_LEN = 56;

function d_alloc(slab: number, slot: number, name: string): void {
  const len = Math.min(name.length, DNAME_INLINE_LEN);
  unsafe: {
    const d = phys_ptr(slab + slot * SLOT, Dentry);
    d.field("refcnt").write(1);
    d.field("len").write(len);
    const bytes = d.field("name").cast(u8);
    for (let i = 0; i < len; i++) {
      bytes.add(i).write(name.charCodeAt(i));
    }
  }
}

function d_name(slab: number, slot: number): string {
  unsafe: {
    const d = phys_ptr(slab + slot * SLOT, Dentry);
    const bytes = d.field("name").cast(u8);
    let name = "";
    for (let i = 0; i < d.field("len").read(); i++) name += String.fromCharCode(bytes.add(i).read());
    return name;
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
  console.log(d_name(slab, 0));
  console.log(d_name(slab, 1).length, d_name(slab, 1).slice(-8));
}
