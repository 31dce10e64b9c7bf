// `vfree` clears the leaf of a vmalloc page and frees its frame but never flushes the TLB entry
// (`invlpg`). The next `vmalloc` reuses the same virtual range for a new frame, and the first
// write through it is served by the stale TLB entry, into the freed frame: `stale-tlb`.
import { AtomicUsize, u8, type Ref } from "kmiri/rt";
import {
  PAGE_SIZE, PteFlags, VMALLOC_BASE, activate_page_table, alloc_pages, dealloc_pages, memory_regions,
  memset_volatile, paddr_to_vaddr, phys_ptr, pte_index, pte_new, pte_paddr, retype_pages,
} from "kmiri/mirch";

const KERNEL_RW = PteFlags.VALID | PteFlags.READABLE | PteFlags.WRITABLE;

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

function vmalloc_page(root: number, va: number): number {
  const frame = alloc_frames(1);
  leaf(root, va).store(pte_new(frame, KERNEL_RW), "Release");
  return frame;
}

function vfree_page(root: number, va: number): void {
  const old = leaf(root, va).swap(0, "AcqRel");
  unsafe: {
    dealloc_pages(pte_paddr(old), 1); // bug: no tlb_flush_addr(va) before the frame goes
  }
}

export function main(): void {
  const root = alloc_frames(1, "page-table");
  unsafe: {
    activate_page_table(root);
  }
  const va = VMALLOC_BASE;
  vmalloc_page(root, va);
  unsafe: {
    memset_volatile(va, 0x11, PAGE_SIZE); // a module's data: this fills the TLB
  }
  vfree_page(root, va); // the module is unloaded
  const frame = vmalloc_page(root, va); // the next module gets the same range
  unsafe: {
    memset_volatile(va, 0x22, PAGE_SIZE); //~ ERROR: stale-tlb
    console.log(phys_ptr(frame, u8).read_volatile());
  }
}
