// The fix, Asterinas 69abc09f5 ("Add missing TLB flushes to `VmSpace`"): `VmSpace::unmap` (and
// `map`, `protect`, `clear`) flush the TLB entries of the range they changed, on this CPU — the only
// CPU a `VmSpace` could be active on then. The next access misses the TLB, walks the table and
// faults: the copy returns EFAULT.
import { AtomicUsize, u64, type Ref } from "kmiri/rt";
import {
  PAGE_SIZE, PteFlags, activate_page_table, alloc_pages, boot_page_table, dealloc_pages, memcpy_fallible,
  memory_regions, memset_volatile, paddr_to_vaddr, phys_ptr, pte_index, pte_new, pte_paddr, retype_pages,
  tlb_flush_addr_range,
} from "kmiri/mirch";

const USER_RW = PteFlags.VALID | PteFlags.READABLE | PteFlags.WRITABLE | PteFlags.USER;
const HEAP = 0x1000_0000;

let next_pa = 0;
function alloc_frame(type?: "page-table"): number {
  if (next_pa === 0) next_pa = Math.ceil(memory_regions().find((r) => r.kind === "ram")!.start / PAGE_SIZE) * PAGE_SIZE;
  const pa = next_pa;
  next_pa += PAGE_SIZE;
  unsafe: {
    alloc_pages(pa, 1);
    memset_volatile(paddr_to_vaddr(pa), 0, PAGE_SIZE);
    if (type !== undefined) retype_pages(pa, 1, type);
  }
  return pa;
}

/** A frame handle with a reference count (`VmFrame`): the last drop frees the frame. */
class Frame {
  private constructor(readonly paddr: number, private readonly refs: { n: number }) {}
  static alloc(): Frame { return new Frame(alloc_frame(), { n: 1 }); }
  clone(): Frame { this.refs.n++; return new Frame(this.paddr, this.refs); }
  drop(): void {
    if (--this.refs.n === 0) unsafe: { dealloc_pages(this.paddr, 1); }
  }
}

/** A user address space: a 4-level page table whose leaves hold a reference to their frames. */
class VmSpace {
  readonly root = alloc_frame("page-table");
  private readonly tables = [this.root];
  private readonly mapped = new Map<number, Frame>();
  private entry(va: number, level: number, create: boolean): Ref<number> | null {
    let table = this.root;
    for (let l = 4; l > level; l--) {
      let e: Ref<number>;
      unsafe: { e = phys_ptr(table + 8 * pte_index(va, l), AtomicUsize).as_ref(); }
      if (e.load("Acquire") === 0) {
        if (!create) return null;
        const t = alloc_frame("page-table");
        this.tables.push(t);
        e.store(pte_new(t, PteFlags.VALID | PteFlags.WRITABLE | PteFlags.USER), "Release");
      }
      table = pte_paddr(e.load("Acquire"));
    }
    unsafe: { return phys_ptr(table + 8 * pte_index(va, level), AtomicUsize).as_ref(); }
  }
  activate(): void {
    unsafe: { activate_page_table(this.root); }
  }
  map(va: number, frame: Frame): void {
    this.entry(va, 1, true)!.store(pte_new(frame.paddr, USER_RW), "Release");
    this.mapped.set(va, frame);
  }
  /** Unmaps [start, end): clears the leaves and drops their frames. */
  unmap(start: number, end: number): void {
    for (let va = start; va < end; va += PAGE_SIZE) {
      const e = this.entry(va, 1, false);
      if (e === null || e.load("Acquire") === 0) continue;
      e.store(0, "Release");
      this.mapped.get(va)!.drop();
      this.mapped.delete(va);
    }
    tlb_flush_addr_range(start, end);
  }
  drop(): void {
    this.unmap(HEAP, HEAP + PAGE_SIZE);
    for (const t of this.tables) unsafe: { dealloc_pages(t, 1); }
  }
}

/** A `read(2)`-style copy of 8 user bytes into the kernel page `kbuf`: the value, or EFAULT. */
function copy_from_user(kbuf: number, uva: number): bigint | "EFAULT" {
  unsafe: {
    const left = memcpy_fallible(paddr_to_vaddr(kbuf), uva, 8);
    return left === 0 ? phys_ptr(kbuf, u64).read_volatile() : "EFAULT";
  }
}

export function main(): void {
  const kbuf = alloc_frame();
  const vm_space = new VmSpace();
  const vmo_frame = Frame.alloc(); // an anonymous VMO's page
  unsafe: { phys_ptr(vmo_frame.paddr, u64).write_volatile(42n); }
  vm_space.map(HEAP, vmo_frame.clone());
  vm_space.activate(); // the process runs on this CPU
  console.log("read before munmap:", copy_from_user(kbuf, HEAP)); // the TLB caches the translation
  // munmap(HEAP, PAGE_SIZE): the mapping goes, and with it the VMO's last reference.
  vm_space.unmap(HEAP, HEAP + PAGE_SIZE);
  vmo_frame.drop();
  console.log("read after munmap:", copy_from_user(kbuf, HEAP)); // must fault
  unsafe: { activate_page_table(boot_page_table()); }
  vm_space.drop();
  unsafe: { dealloc_pages(kbuf, 1); }
}
