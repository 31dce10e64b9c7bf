// `ioremap` of a GPU's VRAM aperture (in the high MMIO hole) into the vmalloc area maps it with
// 2 MiB HUGE leaves at level 2, Mirch's highest translation level, each aligned to 2 MiB; a
// software walk finds the right physical address inside the second leaf. No UB.
import { AtomicUsize, type Ref } from "kmiri/rt";
import {
  PAGE_SIZE, PteFlags, VMALLOC_BASE, activate_page_table, alloc_pages, memory_regions, memset_volatile,
  page_walk, paddr_to_vaddr, phys_ptr, pte_index, pte_new, pte_paddr, retype_pages,
} from "kmiri/mirch";

const APERTURE = 0x100_0000_0000; // BAR 2 of the GPU
const MAPPED = 0x40_0000; // the first 4 MiB: the framebuffer
const HUGE_SIZE = 0x20_0000;
const MMIO_FLAGS = PteFlags.VALID | PteFlags.READABLE | PteFlags.WRITABLE | PteFlags.UNCACHEABLE | PteFlags.WRITE_THROUGH;

let next_pa = 0;
function new_table(): number {
  if (next_pa === 0) next_pa = Math.ceil(memory_regions().find((r) => r.kind === "ram")!.start / PAGE_SIZE) * PAGE_SIZE;
  const pa = next_pa;
  next_pa += PAGE_SIZE;
  unsafe: {
    alloc_pages(pa, 1);
    memset_volatile(paddr_to_vaddr(pa), 0, PAGE_SIZE);
    retype_pages(pa, 1, "page-table");
  }
  return pa;
}
function entry(table: number, va: number, level: number): Ref<number> {
  unsafe: {
    return phys_ptr(table + 8 * pte_index(va, level), AtomicUsize).as_ref();
  }
}
/** The entry of `va` at `level`, making the tables above it. */
function entry_at(root: number, va: number, level: number): Ref<number> {
  let table = root;
  for (let l = 4; l > level; l--) {
    const e = entry(table, va, l);
    if (e.load("Acquire") === 0) e.store(pte_new(new_table(), PteFlags.VALID | PteFlags.WRITABLE), "Release");
    table = pte_paddr(e.load("Acquire"));
  }
  return entry(table, va, level);
}

function ioremap_huge(root: number, va: number, pa: number, len: number): void {
  for (let off = 0; off < len; off += HUGE_SIZE) {
    entry_at(root, va + off, 2).store(pte_new(pa + off, MMIO_FLAGS | PteFlags.HUGE), "Release");
  }
}

export function main(): void {
  const root = new_table();
  ioremap_huge(root, VMALLOC_BASE, APERTURE, MAPPED);
  unsafe: {
    activate_page_table(root);
  }
  const walk = page_walk(VMALLOC_BASE + 0x20_1234)!;
  console.log("aperture +", (walk.paddr - APERTURE).toString(16), "uncacheable:", (walk.flags & PteFlags.UNCACHEABLE) !== 0);
}
