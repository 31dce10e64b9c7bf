// A shrinker unmaps a vmalloc log page and hands its frame straight to the slab (retyped to `slab`)
// without flushing the TLB entry. The log area is repopulated with a fresh frame; its next write is
// served by the stale entry, into the page that now holds slab objects: `stale-tlb`.
import { AtomicUsize, u32, type Ref } from "kmiri/rt";
import {
  PAGE_SIZE, PteFlags, VMALLOC_BASE, activate_page_table, alloc_pages, memory_regions, memset_volatile,
  paddr_to_vaddr, phys_ptr, pte_index, pte_new, pte_paddr, retype_pages,
} from "kmiri/mirch";

const LOG_VA = VMALLOC_BASE + 0x8000;

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
function leaf(root: number, va: number): Ref<number> {
  let table = root;
  for (let level = 4; ; level--) {
    let e: Ref<number>;
    unsafe: {
      e = phys_ptr(table + 8 * pte_index(va, level), AtomicUsize).as_ref();
    }
    if (level === 1) return e;
    if (e.load("Acquire") === 0) e.store(pte_new(new_table(), PteFlags.VALID | PteFlags.WRITABLE), "Release");
    table = pte_paddr(e.load("Acquire"));
  }
}

function log_append(seq: number): void {
  unsafe: {
    memset_volatile(LOG_VA + 4 * seq, seq & 0xff, 4); //~ ERROR: stale-tlb
  }
}

export function main(): void {
  const root = new_table();
  unsafe: {
    activate_page_table(root);
  }
  const log_frame = alloc_frames(1);
  leaf(root, LOG_VA).store(pte_new(log_frame, PteFlags.VALID | PteFlags.READABLE | PteFlags.WRITABLE), "Release");
  log_append(1); // fills the TLB
  // the shrinker: unmap, and give the frame to the slab
  leaf(root, LOG_VA).store(0, "Release");
  unsafe: {
    retype_pages(log_frame, 1, "slab", 64);
  }
  // the logger's area is repopulated on its next use
  const fresh = alloc_frames(1);
  leaf(root, LOG_VA).store(pte_new(fresh, PteFlags.VALID | PteFlags.READABLE | PteFlags.WRITABLE), "Release");
  log_append(2);
  unsafe: {
    console.log(phys_ptr(fresh + 8, u32).read_volatile());
  }
}
