// Compaction on CPU 1 migrates a vmalloc page that CPU 0 uses: it copies it, points the leaf at the
// new frame, flushes its own TLB and CPU 0's (an inter-processor call it waits for), and only then
// frees the old frame. CPU 0's next read is translated afresh. No UB.
import { AtomicBool, AtomicUsize, ptr_from_exposed, spawn, spin_loop, static_, u32, type Ref } from "kmiri/rt";
import {
  PAGE_SIZE, PteFlags, VMALLOC_BASE, activate_page_table, alloc_pages, dealloc_pages, memcpy_volatile, memory_regions,
  inter_processor_call, memset_volatile, paddr_to_vaddr, phys_ptr, pte_index, pte_new, pte_paddr, retype_pages, tlb_flush_addr,
} from "kmiri/mirch";

const KERNEL_RW = PteFlags.VALID | PteFlags.READABLE | PteFlags.WRITABLE;
const MIGRATED = static_(AtomicBool, false, { name: "MIGRATED" });
const FLUSHED = static_(AtomicBool, false, { name: "FLUSHED" });

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

/** CPU 1: moves the page behind `va` from `old` to a new frame. */
function migrate(root: number, va: number, old: number): void {
  const frame = alloc_frames(1);
  unsafe: {
    activate_page_table(root);
    memcpy_volatile(paddr_to_vaddr(frame), paddr_to_vaddr(old), PAGE_SIZE);
    leaf(root, va).store(pte_new(frame, KERNEL_RW), "Release");
    tlb_flush_addr(va);
  }
  inter_processor_call(() => {
    tlb_flush_addr(va);
    FLUSHED.as_ref().store(true, "Release");
  }, [0]);
  while (!FLUSHED.as_ref().load("Acquire")) spin_loop();
  unsafe: {
    dealloc_pages(old, 1);
  }
  MIGRATED.as_ref().store(true, "Release");
}

export function main(): void {
  const root = alloc_frames(1, "page-table");
  const va = VMALLOC_BASE;
  const old = alloc_frames(1);
  leaf(root, va).store(pte_new(old, KERNEL_RW), "Release");
  unsafe: {
    activate_page_table(root);
    ptr_from_exposed(va, u32).write_volatile(21); // CPU 0's TLB now holds the translation
  }
  const cpu1 = spawn(() => migrate(root, va, old));
  while (!MIGRATED.as_ref().load("Acquire")) spin_loop();
  unsafe: {
    const value = ptr_from_exposed(va, u32).read_volatile();
    console.log("after migration", value);
  }
  cpu1.join();
}
