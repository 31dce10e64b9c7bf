// The per-CPU area (2 MiB of untyped frames) is mapped into the vmalloc area with one 2 MiB HUGE
// leaf, and its 512 frames are taken from a 2 MiB-aligned address (the bump allocator skips ahead
// first), as a HUGE leaf requires. Activating the table is fine. No UB.
import { AtomicUsize, type Ref } from "kmiri/rt";
import {
  PAGE_SIZE, PteFlags, VMALLOC_BASE, activate_page_table, alloc_pages, memory_regions, memset_volatile, page_walk,
  paddr_to_vaddr, phys_ptr, pte_index, pte_new, pte_paddr, retype_pages,
} from "kmiri/mirch";

const HUGE_SIZE = 0x20_0000;
const PERCPU_VA = VMALLOC_BASE + 0x4000_0000;

let next_pa = 0;
function alloc_frames(count: number): number {
  if (next_pa === 0) next_pa = Math.ceil(memory_regions().find((r) => r.kind === "ram")!.start / PAGE_SIZE) * PAGE_SIZE;
  const pa = next_pa;
  next_pa += count * PAGE_SIZE;
  unsafe: {
    alloc_pages(pa, count);
  }
  return pa;
}
function new_table(): number {
  const pa = alloc_frames(1);
  unsafe: {
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
function entry_at(root: number, va: number, level: number): Ref<number> {
  let table = root;
  for (let l = 4; l > level; l--) {
    const e = entry(table, va, l);
    if (e.load("Acquire") === 0) e.store(pte_new(new_table(), PteFlags.VALID | PteFlags.WRITABLE), "Release");
    table = pte_paddr(e.load("Acquire"));
  }
  return entry(table, va, level);
}

export function main(): void {
  const root = new_table();
  const l2 = entry_at(root, PERCPU_VA, 2); // the tables first, then the area
  next_pa = Math.ceil(next_pa / HUGE_SIZE) * HUGE_SIZE; // align the next allocation to 2 MiB
  const area = alloc_frames(HUGE_SIZE / PAGE_SIZE);
  l2.store(pte_new(area, PteFlags.VALID | PteFlags.READABLE | PteFlags.WRITABLE | PteFlags.GLOBAL | PteFlags.HUGE), "Release");
  unsafe: {
    activate_page_table(root);
  }
  const walk = page_walk(PERCPU_VA + 0x1_2345)!;
  console.log("per-CPU area misalignment", area % HUGE_SIZE, "- walk finds +", (walk.paddr - area).toString(16));
}
