// Asterinas commit 78831bc80 ("Fix that `Cursor::take_next` reports the wrong VAs"), before the
// fix (ostd/src/mm/page_table/cursor.rs, ostd/src/mm/vm_space.rs). `CursorMut::take_next` unmaps
// the next mapped page and returns it as `PageTableItem::Mapped { va, page, prop }`, but it moved
// the cursor forward *before* building the item, so `va` is the address of the page after the
// one it unmapped. `VmSpace`'s unmap loop hands exactly that `va` to the TLB flusher
// (`issue_tlb_flush_with(TlbFlushOp::Address(va), page)`), which flushes the wrong page and then
// frees the frame. The unmapped address still translates through this CPU's TLB, to a freed
// frame: the next copy from user space at that address reads it instead of faulting.
import { AtomicUsize, type Ref } from "kmiri/rt";
import {
  PAGE_SIZE, PteFlags, activate_page_table, alloc_pages, dealloc_pages, memcpy_fallible, memory_regions,
  memset_volatile, paddr_to_vaddr, phys_ptr, pte_index, pte_new, pte_paddr, retype_pages,
  set_user_page_fault_handler, tlb_flush_addr,
} from "kmiri/mirch";

const USER_RW = PteFlags.VALID | PteFlags.READABLE | PteFlags.WRITABLE | PteFlags.USER;
const MMAP_BASE = 0x1000_0000;

let next_pa = 0;
function alloc_frame(type?: "page-table"): number {
  if (next_pa === 0) next_pa = memory_regions().find((r) => r.kind === "ram")!.start;
  const pa = next_pa;
  next_pa += PAGE_SIZE;
  unsafe: {
    alloc_pages(pa, 1);
    memset_volatile(paddr_to_vaddr(pa), 0, PAGE_SIZE);
    if (type !== undefined) retype_pages(pa, 1, type);
  }
  return pa;
}
/** The leaf entry of `va` in the table rooted at `root` (missing tables are made). */
function leaf(root: number, va: number): Ref<number> {
  let table = root;
  for (let level = 4; ; level--) {
    let e: Ref<number>;
    unsafe: {
      e = phys_ptr(table + 8 * pte_index(va, level), AtomicUsize).as_ref();
    }
    if (level === 1) return e;
    if (e.load("Acquire") === 0) e.store(pte_new(alloc_frame("page-table"), PteFlags.VALID | PteFlags.WRITABLE | PteFlags.USER), "Release");
    table = pte_paddr(e.load("Acquire"));
  }
}

type PageTableItem = { kind: "Mapped"; va: number; page: number } | { kind: "NotMapped"; va: number };

/** `CursorMut` over the last level of a user page table (enough for single pages). */
class CursorMut {
  constructor(private readonly root: number, public va: number) {}
  private move_forward(): void {
    this.va += PAGE_SIZE;
  }
  /** `take_next(len)`: unmaps the next mapped page in `[va, va + len)` and returns it. */
  take_next(len: number): PageTableItem {
    const start = this.va;
    const end = start + len;
    while (this.va < end) {
      const cur_entry = leaf(this.root, this.va);
      if (cur_entry.load("Relaxed") === 0) {
        this.move_forward();
        continue;
      }
      const old = cur_entry.swap(0, "Release"); // `cur_entry.replace(Child::None)`
      this.move_forward();
      return { kind: "Mapped", va: this.va, page: pte_paddr(old) };
    }
    return { kind: "NotMapped", va: start };
  }
}

/** `VmSpace`'s `CursorMut::unmap(len)`, with its `TlbFlusher` (this CPU only here). */
function unmap(cursor: CursorMut, len: number): void {
  const end_va = cursor.va + len;
  const pending: { va: number; page: number }[] = [];
  for (;;) {
    const item = cursor.take_next(end_va - cursor.va);
    if (item.kind === "NotMapped") break;
    pending.push(item); // `issue_tlb_flush_with(TlbFlushOp::Address(va), page)`
  }
  // `dispatch_tlb_flush`: flush, then drop the frames.
  for (const { va, page } of pending) {
    tlb_flush_addr(va);
    unsafe: {
      dealloc_pages(page, 1);
    }
  }
}

/** `copy_from_user` of `len` bytes at `uaddr`: false on a fault (EFAULT). */
function copy_from_user(dst: number, uaddr: number, len: number): boolean {
  unsafe: {
    return memcpy_fallible(dst, uaddr, len) === 0; //~ ERROR: stale-tlb
  }
}

export function main(): void {
  const root = alloc_frame("page-table");
  for (let i = 0; i < 2; i++) leaf(root, MMAP_BASE + i * PAGE_SIZE).store(pte_new(alloc_frame(), USER_RW), "Release");
  set_user_page_fault_handler(() => false); // nothing is mapped on demand
  const buf = alloc_frame(); // a kernel buffer
  unsafe: {
    activate_page_table(root);
  }
  // The process has used both pages: the kernel copied from each (they are in the TLB now).
  console.log(copy_from_user(paddr_to_vaddr(buf), MMAP_BASE, 64), copy_from_user(paddr_to_vaddr(buf), MMAP_BASE + PAGE_SIZE, 64));
  unmap(new CursorMut(root, MMAP_BASE), PAGE_SIZE); // munmap(MMAP_BASE, PAGE_SIZE)
  // A later read(2) into the unmapped page must fail with EFAULT.
  console.log(copy_from_user(paddr_to_vaddr(buf), MMAP_BASE, 64));
}
