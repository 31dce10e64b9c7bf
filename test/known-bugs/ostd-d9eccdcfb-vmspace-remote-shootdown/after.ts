//@ flags: --many-seeds 0..16
// The fix, Asterinas d9eccdcfb ("Implement remote TLB flush on `VmSpace`"): `CursorMut::unmap`
// hands each page to a `TlbFlusher` (`issue_tlb_flush_with`): every other CPU the address space is
// active on gets the flush queued and a clone of the page to keep, and an IPI
// (`dispatch_tlb_flush`); that CPU flushes, then drops its clone. The page is freed only when the
// last CPU that may cache it has flushed. (The queues' locks disable IRQs, as after 5313689d6.)
import {
  AtomicBool, AtomicU32, AtomicUsize, array, cell, fence, lock_acquired, lock_released, spawn, spin_loop, static_, struct,
  u32, u64, usize, yield_now, type Ref,
} from "kmiri/rt";
import {
  PAGE_SIZE, PteFlags, activate_page_table, alloc_pages, boot_page_table, dealloc_pages, memcpy_fallible,
  memory_regions, memset_volatile, paddr_to_vaddr, phys_ptr, pte_index, pte_new, pte_paddr, retype_pages,
  cpu_local, current_cpu, inter_processor_call, irq_disable, irq_restore, tlb_flush_addr,
} from "kmiri/mirch";

const USER_RW = PteFlags.VALID | PteFlags.READABLE | PteFlags.WRITABLE | PteFlags.USER;
const HEAP = 0x1000_0000;
/** The CPUs the address space has been activated on (`VmSpace`'s CPU set), a bit each. */
const ACTIVE_CPUS = static_(AtomicU32, 0, { name: "VM_SPACE_CPUS" });
/** The unmapped frame's reference count (its metadata): the page table's, plus one per keeping CPU. */
const FRAME_REFS = static_(AtomicU32, 1, { name: "FRAME_REFS" });
// Each CPU's pending flushes and the pages kept until they are done (FLUSH_OPS and PAGE_KEEPER).
const Pending = struct("Pending", { nr_ops: u32, ops: array(usize, 8), nr_pages: u32, pages: array(usize, 8) });
const PendingLock = struct("SpinLock<Pending>", { locked: AtomicBool, val: cell(Pending) });
const PENDING = cpu_local(PendingLock, { locked: false, val: { nr_ops: 0, ops: new Array<number>(8).fill(0), nr_pages: 0, pages: new Array<number>(8).fill(0) } });
type PendingRef = Ref<{ locked: boolean; val: { nr_ops: number; ops: number[]; nr_pages: number; pages: number[] } }>;

/** This CPU's or another's queue (per-CPU storage lives as long as the machine). */
function pending_on(cpu: number): PendingRef {
  unsafe: { return PENDING.on_cpu(cpu).as_ref(); }
}

/** `SpinLock<_, LocalIrqDisabled>::lock`: returns whether interrupts were enabled. */
function lock(l: PendingRef): boolean {
  const was = irq_disable();
  while (!l.field("locked").compare_exchange(false, true, "Acquire", "Relaxed").ok) spin_loop();
  lock_acquired(l, "FLUSH_OPS");
  return was;
}
function unlock(l: PendingRef, was: boolean): void {
  lock_released(l);
  l.field("locked").store(false, "Release");
  irq_restore(was);
}

/** Drops one reference to the frame; the last frees it. */
function drop_frame(frame: number): void {
  if (FRAME_REFS.as_ref().fetch_sub(1, "Release") !== 1) return;
  fence("Acquire");
  unsafe: { dealloc_pages(frame, 1); }
}

/** The flush IPI's handler (`do_remote_flush`): flush this CPU's queue, then let the kept pages go. */
function do_remote_flush(): void {
  const q = pending_on(current_cpu());
  const was = lock(q);
  unsafe: {
    const p = q.field("val").get();
    for (let i = 0; i < p.field("nr_ops").read(); i++) tlb_flush_addr(p.field("ops").cast(usize).add(i).read());
    p.field("nr_ops").write(0);
    for (let i = 0; i < p.field("nr_pages").read(); i++) drop_frame(p.field("pages").cast(usize).add(i).read());
    p.field("nr_pages").write(0);
  }
  unlock(q, was);
}

/** `TlbFlusher::issue_tlb_flush_with(TlbFlushOp::Address(va), page)` and `dispatch_tlb_flush`. */
function flush_then_drop(va: number, frame: number): void {
  const me = current_cpu();
  const targets = ACTIVE_CPUS.as_ref().load("SeqCst");
  if ((targets & (1 << me)) !== 0) tlb_flush_addr(va); // need_self_flush
  const remote = [0, 1, 2, 3].filter((cpu) => cpu !== me && (targets & (1 << cpu)) !== 0);
  for (const cpu of remote) {
    const q = pending_on(cpu);
    const was = lock(q);
    unsafe: {
      const p = q.field("val").get();
      p.field("ops").cast(usize).add(p.field("nr_ops").read()).write(va);
      p.field("nr_ops").write(p.field("nr_ops").read() + 1);
      FRAME_REFS.as_ref().fetch_add(1, "Relaxed"); // the page's clone, kept for that CPU
      p.field("pages").cast(usize).add(p.field("nr_pages").read()).write(frame);
      p.field("nr_pages").write(p.field("nr_pages").read() + 1);
    }
    unlock(q, was);
  }
  drop_frame(frame); // the page table's reference
  if (remote.length > 0) inter_processor_call(do_remote_flush, remote);
}

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
    flush_then_drop(va, pte_paddr(pte));
  }
  drop(): void {
    for (const t of this.tables) unsafe: { dealloc_pages(t, 1); }
  }
}

/** Copies 8 user bytes into the kernel page `kbuf` (`VmReader<Fallible>`): the value, or EFAULT. */
function copy_from_user(kbuf: number, uva: number): bigint | "EFAULT" {
  unsafe: {
    const left = memcpy_fallible(paddr_to_vaddr(kbuf), uva, 8);
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
