// The vDSO data page (the clock values user space reads without a syscall) is an untyped frame,
// written by the kernel with volatile stores and mapped USER, read-only, into a process. Switching
// to that address space is fine. No UB.
import { AtomicUsize, u64, type Ref } from "kmiri/rt";
import {
  PAGE_SIZE, PteFlags, activate_page_table, alloc_pages, boot_page_table, memory_regions, memset_volatile,
  page_walk, paddr_to_vaddr, phys_ptr, pte_index, pte_new, pte_paddr, retype_pages,
} from "kmiri/mirch";

const VDSO_DATA_VA = 0x7fff_f000_0000;

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
    if (e.load("Acquire") === 0) e.store(pte_new(new_table(), PteFlags.VALID | PteFlags.WRITABLE | PteFlags.USER), "Release");
    table = pte_paddr(e.load("Acquire"));
  }
  return entry(table, va, 1);
}

export function main(): void {
  const vdso_data = alloc_frames(1);
  unsafe: {
    memset_volatile(paddr_to_vaddr(vdso_data), 0, PAGE_SIZE);
    phys_ptr(vdso_data, u64).write_volatile(1_700_000_000n); // the wall clock, in seconds
  }
  const root = new_table(); // a new process
  leaf(root, VDSO_DATA_VA).store(pte_new(vdso_data, PteFlags.VALID | PteFlags.READABLE | PteFlags.USER), "Release");
  unsafe: {
    activate_page_table(root);
    const walk = page_walk(VDSO_DATA_VA + 8)!;
    console.log("vdso data mapped:", walk.paddr === vdso_data + 8, "user:", (walk.flags & PteFlags.USER) !== 0);
    activate_page_table(boot_page_table());
  }
}
