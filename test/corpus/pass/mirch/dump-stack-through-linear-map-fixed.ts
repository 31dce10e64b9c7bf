// A kernel stack (two typed `stack` pages) is mapped in the vmalloc area above a guard page and
// used there. On a panic, `dump_stack` reads the saved words at the same vmalloc addresses the
// task used, so each typed page is only ever accessed at one kernel virtual address. No UB.
import { AtomicUsize, ptr_from_exposed, u64, type Ref } from "kmiri/rt";
import {
  PAGE_SIZE, PteFlags, VMALLOC_BASE, activate_page_table, alloc_pages, memory_regions, memset_volatile,
  paddr_to_vaddr, phys_ptr, pte_index, pte_new, pte_paddr, retype_pages,
} from "kmiri/mirch";

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
  const root = new_table();
  const stack = alloc_frames(2);
  const bottom = VMALLOC_BASE + PAGE_SIZE; // VMALLOC_BASE itself is the guard page
  const top = bottom + 2 * PAGE_SIZE;
  unsafe: {
    retype_pages(stack, 2, "stack");
    for (let i = 0; i < 2; i++) {
      leaf(root, bottom + i * PAGE_SIZE).store(pte_new(stack + i * PAGE_SIZE, PteFlags.VALID | PteFlags.READABLE | PteFlags.WRITABLE), "Release");
    }
    activate_page_table(root);
    // the task runs: three return addresses pushed at the top of its stack
    for (let i = 1; i <= 3; i++) ptr_from_exposed(top - 8 * i, u64).write(0xffff_8000_0010_0000n + BigInt(i * 0x40));
    // panic: dump_stack walks the same words through the linear map
    for (let i = 1; i <= 3; i++) {
      const ret = ptr_from_exposed(top - 8 * i, u64).read();
      console.log("  #" + i, ret.toString(16));
    }
  }
}
