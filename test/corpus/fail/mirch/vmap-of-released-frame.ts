// `vmap` maps a caller's list of frames into the live kernel table, but the caller released its
// last reference to one of them before the call, so that frame is already free. The first access
// through that page fills the TLB from a leaf mapping a free page: `page-table` at the access.
import { AtomicUsize, type Ref } from "kmiri/rt";
import {
  PAGE_SIZE, PteFlags, VMALLOC_BASE, activate_page_table, alloc_pages, dealloc_pages, memcpy_volatile, memory_regions,
  memset_volatile, paddr_to_vaddr, phys_ptr, pte_index, pte_new, pte_paddr, retype_pages,
} from "kmiri/mirch";

let next_pa = 0;
function alloc_frames(count: number): number {
  if (next_pa === 0) next_pa = Math.ceil(memory_regions().find((r) => r.kind === "ram")!.start / PAGE_SIZE) * PAGE_SIZE;
  const pa = next_pa;
  next_pa += count * PAGE_SIZE;
  unsafe: {
    alloc_pages(pa, count);
    memset_volatile(paddr_to_vaddr(pa), 0, count * PAGE_SIZE);
  }
  return pa;
}
function new_table(): number {
  const pa = alloc_frames(1);
  unsafe: {
    retype_pages(pa, 1, "page-table");
  }
  return pa;
}
function entry(table: number, va: number, level: number): Ref<number> {
  unsafe: {
    return phys_ptr(table + 8 * pte_index(va, level), AtomicUsize).as_ref();
  }
}
function leaf(root: number, va: number): Ref<number> {
  let table = root;
  for (let level = 4; level > 1; level--) {
    const e = entry(table, va, level);
    if (e.load("Acquire") === 0) e.store(pte_new(new_table(), PteFlags.VALID | PteFlags.WRITABLE), "Release");
    table = pte_paddr(e.load("Acquire"));
  }
  return entry(table, va, 1);
}

function vmap(root: number, frames: number[]): number {
  frames.forEach((pa, i) => leaf(root, VMALLOC_BASE + i * PAGE_SIZE).store(pte_new(pa, PteFlags.VALID | PteFlags.READABLE), "Release"));
  return VMALLOC_BASE;
}

export function main(): void {
  const root = new_table();
  unsafe: {
    activate_page_table(root);
  }
  const frames = [alloc_frames(1), alloc_frames(1), alloc_frames(1)]; // a pipe's buffer pages
  unsafe: {
    dealloc_pages(frames[2], 1); // the reader consumed the last page and dropped it
  }
  const va = vmap(root, frames);
  const out = alloc_frames(1);
  for (let i = 0; i < frames.length; i++) {
    unsafe: {
      memcpy_volatile(paddr_to_vaddr(out) + 16 * i, va + i * PAGE_SIZE, 16); //~ ERROR: page-table
    }
  }
  console.log("copied", frames.length, "headers");
}
