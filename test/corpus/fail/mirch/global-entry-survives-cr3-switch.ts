// `vfree` of a GLOBAL kernel mapping leaves the TLB flush to the next context switch, but a CR3
// write keeps GLOBAL entries. The range is then reused for a new frame, and the first write is
// served by the stale GLOBAL entry, into the freed frame: `stale-tlb`.
import { AtomicUsize, u8, type Ref } from "kmiri/rt";
import {
  PAGE_SIZE, PteFlags, VMALLOC_BASE, activate_page_table, alloc_pages, dealloc_pages, memory_regions,
  memset_volatile, paddr_to_vaddr, phys_ptr, pte_index, pte_new, pte_paddr, retype_pages,
} from "kmiri/mirch";

const KERNEL_GLOBAL = PteFlags.VALID | PteFlags.READABLE | PteFlags.WRITABLE | PteFlags.GLOBAL;

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

export function main(): void {
  const va = VMALLOC_BASE + 0x20_0000;
  const proc_a = new_table();
  const proc_b = new_table();
  const first = alloc_frames(1);
  leaf(proc_a, va).store(pte_new(first, KERNEL_GLOBAL), "Release");
  // both processes share the kernel half: B's root points to A's vmalloc table
  entry(proc_b, va, 4).store(entry(proc_a, va, 4).load("Acquire"), "Release");
  unsafe: {
    activate_page_table(proc_a);
    memset_volatile(va, 0xaa, 64); // a driver's scratch buffer: fills a GLOBAL TLB entry
    // vfree, flush deferred to the next context switch
    leaf(proc_a, va).store(0, "Release");
    dealloc_pages(first, 1);
    activate_page_table(proc_b); // the context switch: flushes non-GLOBAL entries only
    const second = alloc_frames(1);
    leaf(proc_b, va).store(pte_new(second, KERNEL_GLOBAL), "Release"); // vmalloc reuses the range
    memset_volatile(va, 0xbb, 64); //~ ERROR: stale-tlb
    console.log(phys_ptr(second, u8).read_volatile());
  }
}
