// `vunmap` of a 4-page area clears its leaves, flushes the TLB entries of the whole range
// `[start, start + n * PAGE_SIZE)` (the end is exclusive) and then frees the frames. When the range
// is reused for a new area, every write is translated afresh, into the new frames. No UB.
import { AtomicUsize, u8, type Ref } from "kmiri/rt";
import {
  PAGE_SIZE, PteFlags, VMALLOC_BASE, activate_page_table, alloc_pages, dealloc_pages, memory_regions,
  memset_volatile, paddr_to_vaddr, phys_ptr, pte_index, pte_new, pte_paddr, retype_pages, tlb_flush_addr_range,
} from "kmiri/mirch";

const PAGES = 4;

let next_pa = 0;
/** A bump frame allocator over the first RAM region; frames come zeroed, and typed when asked. */
function alloc_frames(count: number, type?: "page-table"): number {
  if (next_pa === 0) next_pa = Math.ceil(memory_regions().find((r) => r.kind === "ram")!.start / PAGE_SIZE) * PAGE_SIZE;
  const pa = next_pa;
  next_pa += count * PAGE_SIZE;
  unsafe: {
    alloc_pages(pa, count);
    memset_volatile(paddr_to_vaddr(pa), 0, count * PAGE_SIZE);
    if (type !== undefined) retype_pages(pa, count, type);
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
    if (e.load("Acquire") === 0) e.store(pte_new(alloc_frames(1, "page-table"), PteFlags.VALID | PteFlags.WRITABLE), "Release");
    table = pte_paddr(e.load("Acquire"));
  }
  return entry(table, va, 1);
}

function vmap_area(root: number, start: number, fill: number): number {
  const frames = alloc_frames(PAGES);
  for (let i = 0; i < PAGES; i++) {
    leaf(root, start + i * PAGE_SIZE).store(pte_new(frames + i * PAGE_SIZE, PteFlags.VALID | PteFlags.READABLE | PteFlags.WRITABLE), "Release");
    unsafe: {
      memset_volatile(start + i * PAGE_SIZE, fill, PAGE_SIZE);
    }
  }
  return frames;
}

function vunmap_area(root: number, start: number, frames: number): void {
  for (let i = 0; i < PAGES; i++) leaf(root, start + i * PAGE_SIZE).store(0, "Release");
  tlb_flush_addr_range(start, start + PAGES * PAGE_SIZE);
  unsafe: {
    dealloc_pages(frames, PAGES);
  }
}

export function main(): void {
  const root = alloc_frames(1, "page-table");
  unsafe: {
    activate_page_table(root);
  }
  const start = VMALLOC_BASE + 0x10_0000;
  const first = vmap_area(root, start, 1); // a module's text
  vunmap_area(root, start, first);
  const second = vmap_area(root, start, 2); // the next module's text, in the same range
  unsafe: {
    const last = phys_ptr(second + (PAGES - 1) * PAGE_SIZE, u8).read_volatile();
    console.log("areas", first !== second ? "in different frames" : "reused frames", "- last page holds", last);
  }
}
