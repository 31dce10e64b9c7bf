// `madvise(MADV_DONTNEED)` on a process that is not running clears the leaf entry of a user page
// before it frees the frame behind it (no CPU runs that address space, so no TLB holds it). When
// the scheduler switches back to the process, the page is simply absent. No UB.
import { AtomicUsize, type Ref } from "kmiri/rt";
import {
  PAGE_SIZE, PteFlags, activate_page_table, alloc_pages, boot_page_table, dealloc_pages, memory_regions,
  memset_volatile, page_walk, paddr_to_vaddr, phys_ptr, pte_index, pte_new, pte_paddr, retype_pages,
} from "kmiri/mirch";

const HEAP = 0x1000_0000;
const USER_RW = PteFlags.VALID | PteFlags.READABLE | PteFlags.WRITABLE | PteFlags.USER;

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
    if (e.load("Acquire") === 0) e.store(pte_new(new_table(), PteFlags.VALID | PteFlags.WRITABLE | PteFlags.USER), "Release");
    table = pte_paddr(e.load("Acquire"));
  }
  return entry(table, va, 1);
}

function madvise_dontneed(root: number, va: number): void {
  const pte = leaf(root, va).swap(0, "AcqRel");
  unsafe: {
    dealloc_pages(pte_paddr(pte), 1);
  }
}

export function main(): void {
  const root = new_table();
  for (let i = 0; i < 3; i++) leaf(root, HEAP + i * PAGE_SIZE).store(pte_new(alloc_frames(1), USER_RW), "Release");
  unsafe: {
    activate_page_table(root); // the process runs
    activate_page_table(boot_page_table()); // and is switched out
  }
  madvise_dontneed(root, HEAP + PAGE_SIZE);
  unsafe: {
    activate_page_table(root);
  }
  const present = [0, 1, 2].map((i) => page_walk(HEAP + i * PAGE_SIZE) !== null);
  console.log("heap pages present:", present.join(" "));
}
