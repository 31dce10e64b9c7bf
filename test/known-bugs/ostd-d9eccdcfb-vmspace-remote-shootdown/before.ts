//@ flags: --many-seeds 0..16
// Asterinas OSTD `ostd/src/mm/vm_space.rs` before d9eccdcfb (2024-08-30): `CursorMut::unmap` clears
// each leaf, flushes the entry from the *current* CPU's TLB only ("TODO: Ask other processors to
// flush the TLB before we release the page back to the allocator") and drops the page. Another CPU
// running a thread of the same process keeps the translation in its TLB and reads the freed frame.
import { AtomicU32, AtomicUsize, spawn, spin_loop, static_, u64, yield_now, type Ref } from "kmiri/rt";
import {
  PAGE_SIZE, PteFlags, activate_page_table, alloc_pages, boot_page_table, dealloc_pages, memcpy_fallible,
  memory_regions, memset_volatile, paddr_to_vaddr, phys_ptr, pte_index, pte_new, pte_paddr, retype_pages,
  current_cpu, tlb_flush_addr,
} from "kmiri/mirch";

const USER_RW = PteFlags.VALID | PteFlags.READABLE | PteFlags.WRITABLE | PteFlags.USER;
const HEAP = 0x1000_0000;
/** The CPUs the address space has been activated on (`VmSpace`'s CPU set), a bit each. */
const ACTIVE_CPUS = static_(AtomicU32, 0, { name: "VM_SPACE_CPUS" });

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

/** A user address space: a 4-level page table owning the frames its leaves map. */
class VmSpace {
  readonly root = alloc_frame("page-table");
  private readonly tables = [this.root];
  private entry(va: number, create: boolean): Ref<number> | null {
    let table = this.root;
    for (let l = 4; ; l--) {
      let e: Ref<number>;
      unsafe: { e = phys_ptr(table + 8 * pte_index(va, l), AtomicUsize).as_ref(); }
      if (l === 1) return e;
      if (e.load("Acquire") === 0) {
        if (!create) return null;
        const t = alloc_frame("page-table");
        this.tables.push(t);
        e.store(pte_new(t, PteFlags.VALID | PteFlags.WRITABLE | PteFlags.USER), "Release");
      }
      table = pte_paddr(e.load("Acquire"));
    }
  }
  activate(): void {
    ACTIVE_CPUS.as_ref().fetch_or(1 << current_cpu(), "SeqCst");
    unsafe: { activate_page_table(this.root); }
  }
  map(va: number, frame: number): void {
    this.entry(va, true)!.store(pte_new(frame, USER_RW), "Release");
  }
  /** `CursorMut::unmap` of one page. */
  unmap(va: number): void {
    const e = this.entry(va, false);
    const pte = e === null ? 0 : e.swap(0, "SeqCst");
    if (pte === 0) return;
    unsafe: {
      tlb_flush_addr(va); // this CPU only
      dealloc_pages(pte_paddr(pte), 1); // drop(page): the last reference
    }
  }
  drop(): void {
    for (const t of this.tables) unsafe: { dealloc_pages(t, 1); }
  }
}

/** Copies 8 user bytes into the kernel page `kbuf` (`VmReader<Fallible>`): the value, or EFAULT. */
function copy_from_user(kbuf: number, uva: number): bigint | "EFAULT" {
  unsafe: {
    const left = memcpy_fallible(paddr_to_vaddr(kbuf), uva, 8); //~ ERROR: stale-tlb
    return left === 0 ? phys_ptr(kbuf, u64).read_volatile() : "EFAULT";
  }
}

/** A thread of the process on CPU 1: it reads its heap until the page is gone. */
function user_thread(vm: VmSpace, kbuf: number): void {
  vm.activate();
  for (let i = 0; i < 20; i++) {
    if (copy_from_user(kbuf, HEAP) === "EFAULT") break; // the page is gone
    yield_now();
  }
  unsafe: { activate_page_table(boot_page_table()); }
}

export function main(): void {
  const kbuf = [alloc_frame(), alloc_frame()];
  const vm = new VmSpace();
  const frame = alloc_frame(); // an anonymous page, owned by the mapping
  unsafe: { phys_ptr(frame, u64).write_volatile(42n); }
  vm.map(HEAP, frame);
  vm.activate(); // CPU 0 runs the process too
  const cpu1 = spawn(() => user_thread(vm, kbuf[1]!));
  while ((ACTIVE_CPUS.as_ref().load("SeqCst") & 2) === 0) spin_loop(); // the process runs on CPU 1
  for (let i = 0; i < 3; i++) yield_now(); // CPU 0 does other work first
  vm.unmap(HEAP); // then munmap(2)
  cpu1.join();
  console.log("munmap done");
  unsafe: {
    activate_page_table(boot_page_table());
    for (const k of kbuf) dealloc_pages(k, 1);
  }
  vm.drop();
}
