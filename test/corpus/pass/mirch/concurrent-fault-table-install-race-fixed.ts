//@ flags: --many-seeds 0..8
// Two CPUs fault in neighbouring pages of one process at once. Entries are atomics: a CPU that
// finds the level-2 entry empty installs its new level-1 table with a compare-exchange, and the
// loser frees its table and uses the winner's (OSTD's cursor does the same under its locks). No UB.
import { AtomicUsize, spawn, static_, type Ref } from "kmiri/rt";
import {
  PAGE_SIZE, PteFlags, activate_page_table, alloc_pages, boot_page_table, dealloc_pages, memory_regions, memset_volatile,
  page_walk, paddr_to_vaddr, phys_ptr, pte_index, pte_new, pte_paddr, retype_pages,
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
function pte(table: number, va: number, level: number): Ref<number> {
  unsafe: {
    return phys_ptr(table + 8 * pte_index(va, level), AtomicUsize).as_ref();
  }
}

function handle_fault(root: number, va: number): void {
  let table = root;
  for (let level = 4; level > 1; level--) {
    const e = pte(table, va, level);
    if (e.load("Acquire") === 0) {
      const child = alloc_frame("page-table");
      if (!e.compare_exchange(0, pte_new(child, TABLE), "AcqRel", "Acquire").ok) {
        unsafe: {
          dealloc_pages(child, 1); // another CPU installed its table first
        }
      }
    }
    table = pte_paddr(e.load("Acquire"));
  }
  pte(table, va, 1).store(pte_new(alloc_frame(), USER_RW), "Release");
}

export function main(): void {
  const ram = memory_regions().find((r) => r.kind === "ram")!;
  NEXT_FRAME.as_ref().store(Math.ceil(ram.start / PAGE_SIZE) * PAGE_SIZE, "Relaxed");
  const root = alloc_frame("page-table");
  handle_fault(root, 0x20_0000); // the text page: makes the upper tables
  const heap = 0x40_0000;
  const cpus = [spawn(() => handle_fault(root, heap)), spawn(() => handle_fault(root, heap + PAGE_SIZE))];
  for (const c of cpus) c.join();
  unsafe: {
    activate_page_table(root);
    console.log("heap pages mapped:", page_walk(heap) !== null, page_walk(heap + PAGE_SIZE) !== null);
    activate_page_table(boot_page_table());
  }
}
