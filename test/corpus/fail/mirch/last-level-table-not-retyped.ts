// An early mapper makes its last-level tables from the "zeroed frame" helper, which allocates and
// clears a frame but does not retype it; only the upper levels go through `new_table`. Activating
// the tree is `page-table`: a level-2 entry points to a page that is not typed `page-table`.
import { usize, type Ptr } from "kmiri/rt";
import {
  PAGE_SIZE, PteFlags, activate_page_table, alloc_pages, boot_page_table, memory_regions, memset_volatile,
  paddr_to_vaddr, phys_ptr, pte_index, pte_new, pte_paddr, retype_pages,
} from "kmiri/mirch";

const USER_TEXT = 0x40_0000;
const TABLE = PteFlags.VALID | PteFlags.WRITABLE | PteFlags.USER;

let next_pa = 0;
function zeroed_frame(): number {
  if (next_pa === 0) next_pa = Math.ceil(memory_regions().find((r) => r.kind === "ram")!.start / PAGE_SIZE) * PAGE_SIZE;
  const pa = next_pa;
  next_pa += PAGE_SIZE;
  unsafe: {
    alloc_pages(pa, 1);
    memset_volatile(paddr_to_vaddr(pa), 0, PAGE_SIZE);
  }
  return pa;
}
function new_table(): number {
  const pa = zeroed_frame();
  unsafe: {
    retype_pages(pa, 1, "page-table");
  }
  return pa;
}
function pte(table: number, va: number, level: number): Ptr<number> {
  return phys_ptr(table + 8 * pte_index(va, level), usize);
}
function map(root: number, va: number, pa: number, flags: number): void {
  let table = root;
  unsafe: {
    for (let level = 4; level > 1; level--) {
      const e = pte(table, va, level);
      if (e.read_volatile() === 0) e.write_volatile(pte_new(level === 2 ? zeroed_frame() : new_table(), TABLE));
      table = pte_paddr(e.read_volatile());
    }
    pte(table, va, 1).write_volatile(pte_new(pa, flags));
  }
}

export function main(): void {
  const root = new_table();
  const text = zeroed_frame(); // the program's first page
  map(root, USER_TEXT, text, PteFlags.VALID | PteFlags.READABLE | PteFlags.EXECUTABLE | PteFlags.USER);
  unsafe: {
    activate_page_table(root); //~ ERROR: page-table
    activate_page_table(boot_page_table());
  }
}
