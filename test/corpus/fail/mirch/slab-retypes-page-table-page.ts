// The page-table code keeps a cache of emptied table pages. Under memory pressure the slab
// allocator takes one and retypes it to `slab` in place. A typed page cannot be retyped: it must
// go back through `dealloc_pages` / `alloc_pages` first, so `retype_pages` is `page-state`.
import { struct, u32, u64 } from "kmiri/rt";
import { PAGE_SIZE, alloc_pages, memory_regions, memset_volatile, paddr_to_vaddr, phys_ptr, retype_pages } from "kmiri/mirch";

const Inode = struct("Inode", { ino: u64, nlink: u32, mode: u32, size: u64, _pad: u64 }); // 32 bytes

const pt_cache: number[] = [];

function alloc_table_page(): number {
  const ram = memory_regions().find((r) => r.kind === "ram")!;
  const pa = Math.ceil(ram.start / PAGE_SIZE) * PAGE_SIZE;
  unsafe: {
    alloc_pages(pa, 1);
    memset_volatile(paddr_to_vaddr(pa), 0, PAGE_SIZE);
    retype_pages(pa, 1, "page-table");
  }
  return pa;
}

function slab_grow(): number {
  const pa = pt_cache.pop()!;
  unsafe: {
    retype_pages(pa, 1, "slab", 32); //~ ERROR: page-state
  }
  return pa;
}

export function main(): void {
  pt_cache.push(alloc_table_page()); // a level-1 table emptied by munmap
  const slab = slab_grow();
  unsafe: {
    const inode = phys_ptr(slab, Inode);
    inode.write({ ino: 2n, nlink: 1, mode: 0o40755, size: 4096n, _pad: 0n });
    console.log(String(inode.field("ino").read()));
  }
}
