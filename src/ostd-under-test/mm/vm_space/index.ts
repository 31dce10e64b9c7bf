// OSTD's `mm/vm_space.rs` (asterinas/asterinas, ostd/src/mm/vm_space.rs, MPL-2.0), re-written for
// kmiri: `VmSpace`, a user address space — a user page table that shares the kernel half of the
// kernel page table, the set of CPUs where it is active, and the I/O memory mapped into it — with
// its cursors. `Cursor` and `CursorMut` wrap the page table's cursors (each locks its range of the
// table); `CursorMut` owns a `TlbFlusher` aimed at the CPUs where the space is active, so that an
// unmapped frame is freed only once no TLB can reach it any more.
//
// Memory isolation: only untyped frames (`UFrame`) and I/O memory are mapped into user space, and
// readers and writers of user memory are fallible (`VmReader<Fallible>`): whatever user mappings
// say, the kernel's own memory stays safe.
//
// What differs from OSTD, and why:
// - `VmItem`, `VmItemRef` and `UserPtConfig` stay in `mm/page_table/configs.ts`, where the page
//   table's port put them before this module existed (moving them means editing that module);
//   they are re-exported here.
// - `new()` makes its table with `KERNEL_PAGE_TABLE.create_user_page_table()` (OSTD's very call):
//   on kmiri it shares the kernel half's present top-level entries only, not all 256 (see
//   `mm/kspace`: making the other shared nodes costs seconds of checking per test).
// - `activate(self: &Arc<Self>)` is `VmSpace.activate(arc)`. The per-CPU `ACTIVATED_VM_SPACE` cell
//   holds, in CPU-local memory, the pointer OSTD keeps there (`Arc::into_raw` of a clone); since a
//   JavaScript handle cannot be rebuilt from an address, the clone itself is kept next to it.
// - `deactivate_for_test` (kmiri's): OSTD never switches a CPU back from a user space (the next
//   activation replaces it); a test must free what it allocates, so it switches the CPU to the
//   kernel page table and releases the space.
// - `Drop` is `drop()`: the page table (and, through it, every frame still mapped), the CPU set and
//   the kept `IoMem`s.
import { null_mut, panic, ptr, unit, type Ptr } from "kmiri/rt";
import { cpu_local, current_cpu, num_cpus } from "../../arch/cpu.js";
import { MAX_USERSPACE_VADDR, PAGE_SIZE, current_page_table_paddr, type Paddr, type Vaddr } from "../../arch/mm.js";
import type { IoMem } from "../../io/io_mem/index.js";
import type { Arc } from "../../sync/arc.js";
import { disable_preempt } from "../../sync/preempt.js";
import { RcuDrop } from "../../sync/rcu.js";
import { SpinLock } from "../../sync/spin.js";
import type { DynMeta, FrameRef, UFrame } from "../frame/index.js";
import { Err, Error, Ok, VmReader, VmWriter, type Fallible, type Result } from "../io.js";
import { KERNEL_PAGE_TABLE } from "../kspace/index.js";
import { UserPtConfig, VmItem, type VmItemRef } from "../page_table/configs.js";
import type { Cursor as PtCursor, CursorMut as PtCursorMut } from "../page_table/cursor/index.js";
import { range, type AtomicModeGuard, type PageTable, type PtResult, type Range } from "../page_table/index.js";
import type { CachePolicy, PageFlags, PageProperty } from "../page_table/page_prop.js";
import { RcuDrop as PtRcuDrop } from "../page_table/rcu_drop.js";
import { AtomicCpuSet, CpuSet, TlbFlushOp, TlbFlusher, type KeptFrame } from "../tlb/index.js";

export { UserPtConfig, VmItem, type VmItemRef };

/** `From<PageTableError> for Error`: every page-table error is `AccessDenied`. */
function from_pt<T>(r: PtResult<T>): Result<T> {
  return r.ok ? Ok(r.value) : Err(Error.AccessDenied);
}

// ───────────────────────────── VmSpace ─────────────────────────────

/**
 * `VmSpace`: a user address space. A new one maps nothing; map untyped frames and I/O memory with
 * a {@link CursorMut}. Activation is per CPU (`VmSpace.activate`): it stays active on a CPU until
 * another space is activated there, and keeping the right one active for the running task is the
 * kernel's job — if it does not, user accesses may go to the wrong space, which is wrong but never
 * breaks the kernel's memory safety.
 */
export class VmSpace {
  private readonly pt: PageTable<typeof UserPtConfig>;
  /** The CPUs where this space is active (may be a superset: see `CursorMut`). */
  readonly cpus: AtomicCpuSet;
  /** The `IoMem`s mapped into this space, kept until it is dropped. */
  private readonly iomems: SpinLock<IoMem[]>;
  private dropped = false;

  private constructor() {
    this.pt = KERNEL_PAGE_TABLE.create_user_page_table();
    this.cpus = new AtomicCpuSet(CpuSet.new_empty());
    this.iomems = new SpinLock<IoMem[]>([], "VmSpace::iomems");
  }

  /** `VmSpace::new()`. */
  static new(): VmSpace {
    return new VmSpace();
  }

  /** `Default::default()`. */
  static default(): VmSpace {
    return VmSpace.new();
  }

  /**
   * `cursor(guard, va)`: a cursor that queries `va`. It locks the range (a sub-tree of the table)
   * until dropped, and waits while another cursor holds an overlapping range.
   */
  cursor(guard: AtomicModeGuard, va: Range): Result<Cursor> {
    const r = from_pt(this.pt.cursor(guard, va));
    return r.ok ? Ok(new Cursor(r.value)) : r;
  }

  /**
   * `cursor_mut(guard, va)`: a cursor that may change the mappings of `va`; locks as
   * {@link cursor} does. Its changes may also wait for, or be overridden by, another cursor's.
   */
  cursor_mut(guard: AtomicModeGuard, va: Range): Result<CursorMut> {
    const r = from_pt(this.pt.cursor_mut(guard, va));
    return r.ok ? Ok(new CursorMut(r.value, new TlbFlusher(this.cpus, disable_preempt()), this)) : r;
  }

  /** `activate(self: &Arc<Self>)`: makes the space the current CPU's address space. */
  static activate(self: Arc<VmSpace>): void {
    const preempt_guard = disable_preempt();
    const cpu = current_cpu();
    const slot = activated_slot();
    const last_ptr = load_activated(slot);
    if (last_ptr.addr() === self.as_ptr().addr()) {
      preempt_guard.release();
      return;
    }
    const space = self.value;
    // Record this CPU in the set and in the CPU's cell. Acquire: the table changes that cursors
    // published with their Release load of the set are visible to this CPU.
    space.cpus.add(cpu, "Acquire");
    const kept = self.clone();
    store_activated(slot, kept.as_ptr().cast(unit));
    const last = ACTIVATED_ARCS[cpu] ?? null;
    ACTIVATED_ARCS[cpu] = kept;
    if (!last_ptr.is_null()) {
      // The previous space's reference, taken when it was activated here, is restored and dropped
      // once (its pointer was in the cell, and is not any more).
      if (last === null || last.as_ptr().addr() !== last_ptr.addr()) panic("ACTIVATED_VM_SPACE lost its Arc");
      last.value.cpus.remove(cpu, "Relaxed");
      last.drop();
    }
    unsafe: {
      // SAFETY: a user page table shares the kernel half of the kernel page table, so the kernel
      // stays mapped as it must be (OSTD's safe `PageTable<UserPtConfig>::activate`).
      space.pt.activate();
    }
    preempt_guard.release();
  }

  /**
   * `reader(vaddr, len)`: a reader of user memory. `Err(AccessDenied)` unless this space is the
   * current CPU's and the range is user space. The caller keeps the space active while the reader
   * is used.
   */
  reader(vaddr: Vaddr, len: number): Result<VmReader<Fallible>> {
    const checked = this.check_user_range(vaddr, len);
    if (!checked.ok) return checked;
    unsafe: {
      // SAFETY: the range is in user space, as checked.
      return Ok(VmReader.from_user_space(vaddr, len));
    }
  }

  /** `writer(vaddr, len)`: a writer of user memory; as {@link reader}. */
  writer(vaddr: Vaddr, len: number): Result<VmWriter<Fallible>> {
    const checked = this.check_user_range(vaddr, len);
    if (!checked.ok) return checked;
    unsafe: {
      // SAFETY: the range is in user space, as checked. A writer does not outlive the task (Rust:
      // `!Send`), so the space stays active while it is used.
      return Ok(VmWriter.from_user_space(vaddr, len));
    }
  }

  /** `reader_writer(vaddr, len)`: both, checked once. */
  reader_writer(vaddr: Vaddr, len: number): Result<[VmReader<Fallible>, VmWriter<Fallible>]> {
    const checked = this.check_user_range(vaddr, len);
    if (!checked.ok) return checked;
    unsafe: {
      // SAFETY: the range is in user space, as checked.
      return Ok([VmReader.from_user_space(vaddr, len), VmWriter.from_user_space(vaddr, len)]);
    }
  }

  /** The checks of `reader`/`writer`: this is the current CPU's space; the range is user space. */
  private check_user_range(vaddr: Vaddr, len: number): Result<void> {
    if (current_page_table_paddr() !== this.pt.root_paddr()) return Err(Error.AccessDenied);
    // `vaddr.saturating_add(len) > MAX_USERSPACE_VADDR`.
    if (vaddr + len > MAX_USERSPACE_VADDR) return Err(Error.AccessDenied);
    return Ok(undefined);
  }

  /** `find_iomem_by_paddr` (private in OSTD): the kept `IoMem` holding `paddr`, and the offset. */
  find_iomem_by_paddr(paddr: Paddr): [IoMem, number] | null {
    const iomems = this.iomems.lock();
    let found: [IoMem, number] | null = null;
    for (const iomem of iomems.value) {
      const start = iomem.paddr();
      const end = start + iomem.size();
      if (paddr >= start && paddr < end) {
        found = [iomem.clone(), paddr - start];
        break;
      }
    }
    iomems.release();
    return found;
  }

  /** Keeps `io_mem` unless an `IoMem` of the same range is kept already (then it is dropped). */
  keep_iomem(io_mem: IoMem): void {
    const iomems = this.iomems.lock();
    if (iomems.value.some((iomem) => iomem.paddr() === io_mem.paddr() && iomem.size() === io_mem.size())) {
      io_mem.drop();
    } else {
      iomems.value.push(io_mem);
    }
    iomems.release();
  }

  /** `Drop`: the page table with what it maps, the CPU set, the kept `IoMem`s. */
  drop(): void {
    if (this.dropped) panic("a VmSpace dropped twice");
    this.dropped = true;
    this.pt.drop();
    this.cpus.drop();
    for (const iomem of this.iomems.get_mut()) iomem.drop();
    this.iomems.drop();
  }
}

// ───────────────────────────── ACTIVATED_VM_SPACE ─────────────────────────────

/**
 * `ACTIVATED_VM_SPACE` (a `cpu_local_cell!`): the `Arc` pointer of the space active on each CPU,
 * null when the CPU runs the kernel page table. Only its own CPU touches it, with preemption off.
 */
const ACTIVATED_VM_SPACE = cpu_local(ptr(unit), null_mut(unit));
/** The `Arc` handles behind those pointers (see the top of this file). */
const ACTIVATED_ARCS: (Arc<VmSpace> | null)[] = new Array<Arc<VmSpace> | null>(num_cpus()).fill(null);

function activated_slot(): Ptr<Ptr<undefined>> {
  unsafe: {
    // SAFETY: the current CPU's cell; callers have preemption disabled.
    return ACTIVATED_VM_SPACE.as_ptr();
  }
}

function load_activated(slot: Ptr<Ptr<undefined>>): Ptr<undefined> {
  unsafe: {
    // SAFETY: CPU-local storage, never freed, only used by its own CPU.
    return slot.read();
  }
}

function store_activated(slot: Ptr<Ptr<undefined>>, p: Ptr<undefined>): void {
  unsafe: {
    // SAFETY: as in `load_activated`.
    slot.write(p);
  }
}

/** `get_activated_vm_space()` (OSTD's, for ktests): the pointer of the space active on this CPU. */
export function get_activated_vm_space(): Ptr<undefined> {
  const g = disable_preempt();
  const p = load_activated(activated_slot());
  g.release();
  return p;
}

/**
 * kmiri's, for tests (see the top of this file): switches this CPU back to the kernel page table
 * and releases the space that was active on it. Nothing happens when none was.
 */
export function deactivate_for_test(): void {
  const g = disable_preempt();
  const cpu = current_cpu();
  const slot = activated_slot();
  const last = ACTIVATED_ARCS[cpu] ?? null;
  if (last !== null) {
    unsafe: {
      // SAFETY: the kernel page table maps the kernel half as every table must; it replaces the
      // user table, whose root reference held by this CPU is dropped.
      KERNEL_PAGE_TABLE.get_for_kernel().activate();
    }
    store_activated(slot, null_mut(unit));
    ACTIVATED_ARCS[cpu] = null;
    last.value.cpus.remove(cpu, "Relaxed");
    last.drop();
  }
  g.release();
}

// ───────────────────────────── the cursors ─────────────────────────────

/** `VmQueriedItem`: what a slot maps — a frame of RAM, or a page of I/O memory. */
export type VmQueriedItem =
  | { readonly kind: "MappedRam"; readonly frame: FrameRef<DynMeta>; readonly prop: PageProperty }
  | { readonly kind: "MappedIoMem"; readonly paddr: Paddr; readonly prop: PageProperty };

export const VmQueriedItem = {
  /** `prop()`: the property of the mapping. */
  prop(item: VmQueriedItem): PageProperty {
    return item.prop;
  },
  /** `From<VmItemRef>`. */
  from(item: VmItemRef): VmQueriedItem {
    if (item.kind === "TrackedFrame") return { kind: "MappedRam", frame: item.frame, prop: item.prop };
    if (item.level !== 1) panic("I/O memory is mapped with base pages only");
    return { kind: "MappedIoMem", paddr: item.paddr, prop: item.prop };
  },
};

function query_of(r: PtResult<[Range, VmItemRef | null]>): Result<[Range, VmQueriedItem | null]> {
  if (!r.ok) return Err(Error.AccessDenied);
  const [va, item] = r.value;
  return Ok([va, item === null ? null : VmQueriedItem.from(item)]);
}

/**
 * `Cursor`: queries the space over a range it locks (even read-only cursors exclude each other
 * there). Drop it with {@link drop}.
 */
export class Cursor {
  /** @internal made by `VmSpace.cursor`. */
  constructor(private readonly inner: PtCursor<typeof UserPtConfig>) {}

  /** `query()`: the current slot's range and what it maps. */
  query(): Result<[Range, VmQueriedItem | null]> {
    return query_of(this.inner.query());
  }

  /**
   * `find_next(len)`: moves to the next mapped address within `len` bytes and returns it; else
   * `null`, the cursor stopping somewhere after `len` bytes. Panics if `len` goes past the range.
   */
  find_next(len: number): Vaddr | null {
    return this.inner.find_next(len);
  }

  /** `jump(va)`: `Err` outside the range; panics when `va` is not aligned. */
  jump(va: Vaddr): Result<void> {
    return from_pt(this.inner.jump(va));
  }

  /** `virt_addr()`: the current slot's address. */
  virt_addr(): Vaddr {
    return this.inner.virt_addr();
  }

  /** `Drop`: unlocks the range. */
  drop(): void {
    this.inner.drop();
  }
}

/**
 * `CursorMut`: changes the mappings of a range it locks. Its flusher targets the CPUs where the
 * space is active, as read when it dispatches: a superset of those that may cache a translation
 * the cursor changed — a CPU that activates the space later starts from a TLB flushed by the CR3
 * write, and sees the changes (the flusher's Release read of the set, the CPU's Acquire `add`).
 */
export class CursorMut {
  /** @internal made by `VmSpace.cursor_mut`. */
  constructor(
    private readonly pt_cursor: PtCursorMut<typeof UserPtConfig>,
    private readonly flusher_: TlbFlusher,
    private readonly vmspace: VmSpace,
  ) {}

  /** `query()`, as `Cursor`'s. */
  query(): Result<[Range, VmQueriedItem | null]> {
    return query_of(this.pt_cursor.query());
  }

  /** `find_next(len)`, as `Cursor`'s. */
  find_next(len: number): Vaddr | null {
    return this.pt_cursor.find_next(len);
  }

  /** `jump(va)`, as `Cursor`'s. */
  jump(va: Vaddr): Result<void> {
    return from_pt(this.pt_cursor.jump(va));
  }

  virt_addr(): Vaddr {
    return this.pt_cursor.virt_addr();
  }

  /** `flusher()`: the cursor's TLB flusher. */
  flusher(): TlbFlusher {
    return this.flusher_;
  }

  /**
   * `map(frame, prop)`: maps the frame at the current slot and moves past it. Panics if the slot
   * is mapped already.
   */
  map(frame: UFrame, prop: PageProperty): void {
    const item = VmItem.new_tracked(frame, prop);
    unsafe: {
      // SAFETY: mapping untyped memory into user space cannot break the kernel's memory safety.
      this.pt_cursor.map(item);
    }
  }

  /**
   * `map_iomem(io_mem, prop, len, offset)`: maps `[offset, offset + len)` of the `IoMem` (up to
   * its end) from the current slot on, and moves past it. The space keeps the `IoMem` until it is
   * dropped — unmapping the pages does not release it.
   *
   * Panics if `len` or `offset` is not page-aligned, or a slot is mapped already.
   */
  map_iomem(io_mem: IoMem, prop: PageProperty, len: number, offset: number): void {
    if (len % PAGE_SIZE !== 0) panic(`assertion \`left == right\` failed: ${len % PAGE_SIZE} != 0`);
    if (offset % PAGE_SIZE !== 0) panic(`assertion \`left == right\` failed: ${offset % PAGE_SIZE} != 0`);
    if (offset >= io_mem.size()) {
      io_mem.drop();
      return;
    }
    const paddr_begin = io_mem.paddr() + offset;
    const paddr_end = io_mem.size() - offset < len ? io_mem.paddr() + io_mem.size() : io_mem.paddr() + len + offset;
    for (let current_paddr = paddr_begin; current_paddr < paddr_end; current_paddr += PAGE_SIZE) {
      unsafe: {
        // SAFETY: mapping I/O memory into user space cannot break the kernel's memory safety.
        this.pt_cursor.map(VmItem.new_untracked_io(current_paddr, prop));
      }
    }
    // Keep the `IoMem` (once per range), so that its range stays claimed while it may be mapped.
    this.vmspace.keep_iomem(io_mem);
  }

  /**
   * `find_iomem_by_paddr(paddr)`: the `IoMem` that `map_iomem` mapped and that holds `paddr`, and
   * the offset of `paddr` in it; `null` if none. Found for any address a query returned as
   * `MappedIoMem`; after an unmap, it may or may not still be found.
   */
  find_iomem_by_paddr(paddr: Paddr): [IoMem, number] | null {
    return this.vmspace.find_iomem_by_paddr(paddr);
  }

  /**
   * `unmap(len)`: removes the mappings of `len` bytes from the current slot on (absent ones are
   * skipped), moves past them, and returns the number of frames unmapped. The TLB flushes are
   * issued and dispatched here — without them, a CPU could still reach a frame after it is freed.
   * One large `unmap` costs less than many small ones.
   *
   * Panics if `len` goes past the range or is not page-aligned.
   */
  unmap(len: number): number {
    const end_va = this.virt_addr() + len;
    let num_unmapped = 0;
    for (;;) {
      let frag;
      unsafe: {
        // SAFETY: unmapping user memory cannot break the kernel's memory safety, and what is taken
        // out is dropped only after the TLBs are flushed (below).
        frag = this.pt_cursor.take_next(end_va - this.virt_addr());
      }
      if (frag === null) break; // Nothing more is mapped in the range.
      if (frag.kind === "Mapped") {
        let item: VmItem;
        unsafe: {
          // SAFETY: a frame is dropped only after an RCU grace period (`issue_tlb_flush_with`); I/O
          // memory is a plain address.
          item = PtRcuDrop.into_inner(frag.item);
        }
        if (item.kind === "TrackedFrame") {
          num_unmapped += 1;
          const rcu_frame = new RcuDrop<KeptFrame>(item.frame);
          this.flusher_.issue_tlb_flush_with(TlbFlushOp.for_single(frag.va), rcu_frame);
        } else {
          // Only the TLB entry is flushed: the `IoMem` stays with the space, as the page may be
          // a part of a larger `IoMem` mapped as a whole.
          this.flusher_.issue_tlb_flush(TlbFlushOp.for_single(frag.va));
        }
      } else {
        num_unmapped += frag.num_frames;
        let pt;
        unsafe: {
          // SAFETY: the sub-tree is dropped after the flush and an RCU grace period, as below.
          pt = PtRcuDrop.into_inner(frag.pt);
        }
        this.flusher_.issue_tlb_flush_with(TlbFlushOp.for_range(range(frag.va, frag.va + frag.len)), new RcuDrop<KeptFrame>(pt));
      }
    }
    this.flusher_.dispatch_tlb_flush();
    return num_unmapped;
  }

  /**
   * `protect_next(len, op)`: applies `op` to the flags and cache policy of the next mapped slot
   * within `len` bytes, moves past it and returns its range; `null` (the cursor at the end) if
   * nothing is mapped there. It does NOT flush the TLB: use {@link flusher}.
   *
   * Panics if `len` goes past the range.
   */
  protect_next(len: number, op: (p: { flags: PageFlags; cache: CachePolicy }) => void): Range | null {
    unsafe: {
      // SAFETY: changing the flags and cache policy of user memory cannot break the kernel's memory
      // safety (the privileged flags are not handed to `op`).
      return this.pt_cursor.protect_next(len, (prop) => {
        const fc = { flags: prop.flags, cache: prop.cache };
        op(fc);
        prop.flags = fc.flags;
        prop.cache = fc.cache;
      });
    }
  }

  /** `Drop`: unlocks the range, then drops the flusher (frames it still keeps wait for RCU). */
  drop(): void {
    this.pt_cursor.drop();
    this.flusher_.drop();
  }
}
