// `ioremap` of a GPU's 1 GiB VRAM aperture (in the high MMIO hole) into the vmalloc area maps it
// with one HUGE leaf at level 3, as x86's 1 GiB pages would. Mirch's highest translation level is
// 2 (2 MiB leaves): activating the kernel table is `page-table`.
import { AtomicUsize, type Ref } from "kmiri/rt";
import {
  PAGE_SIZE, PteFlags, VMALLOC_BASE, activate_page_table, alloc_pages, memory_regions, memset_volatile,
  paddr_to_vaddr, phys_ptr, pte_index, pte_new, pte_paddr, retype_pages,
} from "kmiri/mirch";

const APERTURE = 0x100_0000_0000; // BAR 2 of the GPU
const GIB = 0x4000_0000;
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

function ioremap_huge(root: number, va: number, pa: number): void {
  entry_at(root, va, 3).store(pte_new(pa, MMIO_FLAGS | PteFlags.HUGE), "Release");
}

export function main(): void {
  const root = new_table();
  ioremap_huge(root, VMALLOC_BASE, APERTURE);
  unsafe: {
    activate_page_table(root); //~ ERROR: page-table
  }
  console.log("aperture mapped,", GIB / PAGE_SIZE, "pages");
}
