// Unmapping the last page of a level-1 table lets the page-table cursor reclaim the emptied table
// (as OSTD's cursor does): it clears the level-2 entry first, then frees the table's frame. The
// process is not running, so no TLB holds the old translation. Switching back to it is fine. No UB.
import { AtomicUsize, type Ref } from "kmiri/rt";
import {
  PAGE_SIZE, PteFlags, activate_page_table, alloc_pages, boot_page_table, dealloc_pages, memory_regions,
  memset_volatile, page_walk, paddr_to_vaddr, phys_ptr, pte_index, pte_new, pte_paddr, retype_pages,
} from "kmiri/mirch";

const STACK_VA = 0x7fff_0000_0000;

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
/** The entries of `va` from level 4 down to level 1. */
function walk(root: number, va: number): Ref<number>[] {
  const path: Ref<number>[] = [];
  let table = root;
  for (let level = 4; level >= 1; level--) {
    const e = entry(table, va, level);
    path.push(e);
    if (level > 1 && e.load("Acquire") === 0) e.store(pte_new(new_table(), PteFlags.VALID | PteFlags.WRITABLE | PteFlags.USER), "Release");
    table = pte_paddr(e.load("Acquire"));
  }
  return path;
}

function unmap_and_reclaim(root: number, va: number): void {
  const path = walk(root, va);
  const frame = pte_paddr(path[3].swap(0, "AcqRel"));
  const l1_table = pte_paddr(path[2].swap(0, "AcqRel")); // the table held only this entry
  unsafe: {
    dealloc_pages(frame, 1);
    dealloc_pages(l1_table, 1);
  }
}

export function main(): void {
  const root = new_table();
  walk(root, STACK_VA)[3].store(pte_new(alloc_frames(1), PteFlags.VALID | PteFlags.READABLE | PteFlags.WRITABLE | PteFlags.USER), "Release");
  unsafe: {
    activate_page_table(root);
    activate_page_table(boot_page_table()); // switched out; the swapper unmaps its stack page
  }
  unmap_and_reclaim(root, STACK_VA);
  unsafe: {
    activate_page_table(root);
    console.log("stack page mapped:", page_walk(STACK_VA) !== null);
  }
}
