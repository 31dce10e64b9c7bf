// Two CPUs fault in neighbouring pages of one process at once. Each finds the level-2 entry empty
// and installs a new level-1 table with a plain read and a plain write of that entry (no lock, no
// compare-exchange). Page-table pages are typed memory, race-checked as usual: `data-race`.
import { AtomicUsize, spawn, static_, usize, type Ptr } from "kmiri/rt";
import {
  PAGE_SIZE, PteFlags, alloc_pages, memory_regions, memset_volatile, paddr_to_vaddr, phys_ptr, pte_index, pte_new,
  pte_paddr, retype_pages,
} from "kmiri/mirch";

const TABLE = PteFlags.VALID | PteFlags.WRITABLE | PteFlags.USER;
const USER_RW = PteFlags.VALID | PteFlags.READABLE | PteFlags.WRITABLE | PteFlags.USER;
const NEXT_FRAME = static_(AtomicUsize, 0, { name: "NEXT_FRAME" });

function alloc_frame(type?: "page-table"): number {
  const pa = NEXT_FRAME.as_ref().fetch_add(PAGE_SIZE, "Relaxed");
  unsafe: {
    alloc_pages(pa, 1);
    memset_volatile(paddr_to_vaddr(pa), 0, PAGE_SIZE);
    if (type !== undefined) retype_pages(pa, 1, type);
  }
  return pa;
}
function pte(table: number, va: number, level: number): Ptr<number> {
  return phys_ptr(table + 8 * pte_index(va, level), usize);
}

function handle_fault(root: number, va: number): void {
  let table = root;
  unsafe: {
    for (let level = 4; level > 1; level--) {
      const e = pte(table, va, level);
      if (e.read() === 0) e.write(pte_new(alloc_frame("page-table"), TABLE)); //~ ERROR: data-race
      table = pte_paddr(e.read());
    }
    pte(table, va, 1).write(pte_new(alloc_frame(), USER_RW));
  }
}

export function main(): void {
  const ram = memory_regions().find((r) => r.kind === "ram")!;
  NEXT_FRAME.as_ref().store(Math.ceil(ram.start / PAGE_SIZE) * PAGE_SIZE, "Relaxed");
  const root = alloc_frame("page-table");
  handle_fault(root, 0x20_0000); // the text page: makes the upper tables
  const heap = 0x40_0000;
  const cpus = [spawn(() => handle_fault(root, heap)), spawn(() => handle_fault(root, heap + PAGE_SIZE))];
  for (const c of cpus) c.join();
  console.log("heap faulted in");
}
