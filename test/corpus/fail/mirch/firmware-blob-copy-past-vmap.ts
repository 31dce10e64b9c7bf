// A firmware blob of 8 KiB + 16 bytes is mapped into the vmalloc area page by page, with the page
// count computed by a floor division: only two pages are mapped. Copying the whole blob out runs
// into the unmapped third page, a kernel page fault: `page-table` at the copy.
import { AtomicUsize, u8, type Ref } from "kmiri/rt";
import {
  PAGE_SIZE, PteFlags, VMALLOC_BASE, activate_page_table, alloc_pages, memcpy_volatile, memory_regions,
  memset_volatile, paddr_to_vaddr, phys_ptr, pte_index, pte_new, pte_paddr, retype_pages,
} from "kmiri/mirch";

const BLOB_LEN = 2 * PAGE_SIZE + 16;

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
  unsafe: {
    activate_page_table(root);
  }
  const pages = Math.floor(BLOB_LEN / PAGE_SIZE); // bug: should round up
  for (let i = 0; i < pages; i++) {
    const frame = alloc_frames(1);
    unsafe: {
      memset_volatile(paddr_to_vaddr(frame), i + 1, PAGE_SIZE); // loaded from the initramfs
    }
    leaf(root, VMALLOC_BASE + i * PAGE_SIZE).store(pte_new(frame, PteFlags.VALID | PteFlags.READABLE), "Release");
  }
  const dst = alloc_frames(3); // the device's firmware staging buffer
  unsafe: {
    memcpy_volatile(paddr_to_vaddr(dst), VMALLOC_BASE, BLOB_LEN); //~ ERROR: page-table
    console.log(phys_ptr(dst + BLOB_LEN - 1, u8).read_volatile());
  }
}
