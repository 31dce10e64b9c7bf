// Collapsing 512 small vmalloc pages into one 2 MiB mapping (as khugepaged does): the contents are
// copied into a 2 MiB-aligned run of frames, a HUGE leaf to it replaces the level-1 table, the range
// is flushed, and only then are the old frames and table freed. No UB.
import { AtomicUsize, ptr_from_exposed, u8, type Ref } from "kmiri/rt";
import {
  PAGE_SIZE, PteFlags, VMALLOC_BASE, activate_page_table, alloc_pages, dealloc_pages, memcpy_volatile, memory_regions, memset_volatile,
  paddr_to_vaddr, phys_ptr, pte_index, pte_new, pte_paddr, retype_pages, tlb_flush_addr_range,
} from "kmiri/mirch";

const HUGE_SIZE = 0x20_0000;
const KERNEL_RW = PteFlags.VALID | PteFlags.READABLE | PteFlags.WRITABLE;

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
/** The entry of `va` at `level`, making the tables above it. */
function entry_at(root: number, va: number, level: number): Ref<number> {
  let table = root;
  for (let l = 4; ; l--) {
    let e: Ref<number>;
    unsafe: {
      e = phys_ptr(table + 8 * pte_index(va, l), AtomicUsize).as_ref();
    }
    if (l === level) return e;
    if (e.load("Acquire") === 0) e.store(pte_new(alloc_frames(1, "page-table"), PteFlags.VALID | PteFlags.WRITABLE), "Release");
    table = pte_paddr(e.load("Acquire"));
  }
}

export function main(): void {
  const root = alloc_frames(1, "page-table");
  unsafe: {
    activate_page_table(root);
  }
  const va = VMALLOC_BASE + HUGE_SIZE;
  const frames = alloc_frames(HUGE_SIZE / PAGE_SIZE); // a big module's data, page by page
  for (let i = 0; i < HUGE_SIZE / PAGE_SIZE; i++) entry_at(root, va + i * PAGE_SIZE, 1).store(pte_new(frames + i * PAGE_SIZE, KERNEL_RW), "Release");
  unsafe: {
    memset_volatile(va + PAGE_SIZE, 0x5a, 16);
  }
  // collapse: one HUGE leaf instead of the level-1 table
  const l2 = entry_at(root, va, 2);
  const l1_table = pte_paddr(l2.load("Acquire"));
  next_pa = Math.ceil(next_pa / HUGE_SIZE) * HUGE_SIZE;
  const huge = alloc_frames(HUGE_SIZE / PAGE_SIZE);
  unsafe: {
    memcpy_volatile(paddr_to_vaddr(huge), paddr_to_vaddr(frames), HUGE_SIZE);
  }
  l2.store(pte_new(huge, KERNEL_RW | PteFlags.HUGE), "Release");
  tlb_flush_addr_range(va, va + HUGE_SIZE);
  unsafe: {
    dealloc_pages(l1_table, 1);
    dealloc_pages(frames, HUGE_SIZE / PAGE_SIZE);
    const byte = ptr_from_exposed(va + PAGE_SIZE, u8).read_volatile();
    console.log("after the collapse", byte.toString(16));
  }
}
