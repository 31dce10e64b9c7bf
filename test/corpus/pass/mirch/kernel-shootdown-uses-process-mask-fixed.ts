// Unmapping a vmalloc page (kernel memory, which any CPU may have in its TLB) sends the shootdown
// to every other CPU, not only to the CPUs in the process's CPU mask, and waits for all of them
// before the old frame is freed. CPU 0's next read is translated afresh, into the new frame. No UB.
import { AtomicBool, AtomicU32, AtomicUsize, ptr_from_exposed, spawn, spin_loop, static_, u32, type Ref } from "kmiri/rt";
import {
  PAGE_SIZE, PteFlags, VMALLOC_BASE, activate_page_table, alloc_pages, current_cpu, dealloc_pages, inter_processor_call,
  memory_regions, memset_volatile, num_cpus, paddr_to_vaddr, phys_ptr, pte_index, pte_new, pte_paddr, retype_pages, tlb_flush_addr,
} from "kmiri/mirch";

const KERNEL_RW = PteFlags.VALID | PteFlags.READABLE | PteFlags.WRITABLE;
const FLUSHED = static_(AtomicU32, 0, { name: "FLUSHED" });
const REMAPPED = static_(AtomicBool, false, { name: "REMAPPED" });

let next_pa = 0;
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
function leaf(root: number, va: number): Ref<number> {
  let table = root;
  for (let level = 4; ; level--) {
    let e: Ref<number>;
    unsafe: {
      e = phys_ptr(table + 8 * pte_index(va, level), AtomicUsize).as_ref();
    }
    if (level === 1) return e;
    if (e.load("Acquire") === 0) e.store(pte_new(alloc_frames(1, "page-table"), PteFlags.VALID | PteFlags.WRITABLE), "Release");
    table = pte_paddr(e.load("Acquire"));
  }
}
function read_va(root: number, va: number): number {
  unsafe: {
    activate_page_table(root);
    return ptr_from_exposed(va, u32).read_volatile();
  }
}

/** CPU 2: replaces the page behind `va`, shooting down the other CPUs in `mask`. */
function remap(root: number, va: number, old: number, mask: number[]): void {
  const targets = mask.filter((cpu) => cpu !== current_cpu());
  const frame = alloc_frames(1);
  unsafe: {
    phys_ptr(frame, u32).write_volatile(7);
    leaf(root, va).store(pte_new(frame, KERNEL_RW), "Release");
    tlb_flush_addr(va);
  }
  inter_processor_call(() => {
    tlb_flush_addr(va);
    FLUSHED.as_ref().fetch_add(1, "Release");
  }, targets);
  while (FLUSHED.as_ref().load("Acquire") < targets.length) spin_loop();
  unsafe: {
    dealloc_pages(old, 1);
  }
  REMAPPED.as_ref().store(true, "Release");
}

export function main(): void {
  const root = alloc_frames(1, "page-table");
  const va = VMALLOC_BASE;
  const old = alloc_frames(1);
  leaf(root, va).store(pte_new(old, KERNEL_RW), "Release");
  unsafe: {
    phys_ptr(old, u32).write_volatile(5);
  }
  const before = read_va(root, va); // CPU 0's TLB now holds the translation
  const seen_by_cpu1 = spawn(() => read_va(root, va)).join(); // a task of the process, on CPU 1
  const every_cpu = [...Array(num_cpus()).keys()];
  const cpu2 = spawn(() => remap(root, va, old, every_cpu));
  while (!REMAPPED.as_ref().load("Acquire")) spin_loop();
  unsafe: {
    const after = ptr_from_exposed(va, u32).read_volatile();
    console.log("cpu1 saw", seen_by_cpu1, "- cpu0 saw", before, "then", after);
  }
  cpu2.join();
}
