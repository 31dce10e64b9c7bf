// A kernel stack of two typed `stack` pages is mapped in the vmalloc area above an unmapped guard
// page (OSTD's `KernelStack`). A recursive path-walk pushes a 1 KiB frame per level; nine levels
// do not fit in 8 KiB, and the ninth frame lands in the guard page: a kernel page fault, `page-table`.
import { AtomicUsize, ptr_from_exposed, u64, type Ref } from "kmiri/rt";
import {
  PAGE_SIZE, PteFlags, VMALLOC_BASE, activate_page_table, alloc_pages, memory_regions, memset_volatile,
  paddr_to_vaddr, phys_ptr, pte_index, pte_new, pte_paddr, retype_pages,
} from "kmiri/mirch";

const FRAME = 1024;

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

/** One level of the walk: its frame holds the component count, then it recurses. */
function walk_path(sp: number, depth: number): number {
  const fp = sp - FRAME;
  unsafe: {
    ptr_from_exposed(fp, u64).write(BigInt(depth)); //~ ERROR: page-table
  }
  return depth === 0 ? 0 : depth + walk_path(fp, depth - 1);
}

export function main(): void {
  const root = alloc_frames(1, "page-table");
  const stack = alloc_frames(2);
  const bottom = VMALLOC_BASE + PAGE_SIZE; // the page below is the guard page
  unsafe: {
    retype_pages(stack, 2, "stack");
  }
  for (let i = 0; i < 2; i++) {
    leaf(root, bottom + i * PAGE_SIZE).store(pte_new(stack + i * PAGE_SIZE, PteFlags.VALID | PteFlags.READABLE | PteFlags.WRITABLE), "Release");
  }
  unsafe: {
    activate_page_table(root);
  }
  console.log("walked", walk_path(bottom + 2 * PAGE_SIZE, 8));
}
