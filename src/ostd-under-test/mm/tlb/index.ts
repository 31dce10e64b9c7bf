// OSTD's `mm/tlb.rs` (asterinas/asterinas, ostd/src/mm/tlb.rs, MPL-2.0), re-written for kmiri: TLB
// flush operations, the per-CPU queues of pending remote flushes, and `TlbFlusher`, which flushes
// the TLBs of a set of CPUs — the local one at once, the others through inter-processor calls — and
// keeps the frames whose mappings it flushes alive until every targeted TLB has let go of them.
//
// On Mirch every CPU has a TLB that caches translations; using a translation whose page-table
// entry changed, after the page it mapped was freed, is `stale-tlb`. So the flusher's promise is
// checked: a frame unmapped from an address space that another CPU has active must not be freed
// before that CPU flushed its TLB.
//
// What differs from OSTD, and why:
// - `TlbFlushOp` packs an operation into one `usize` as OSTD does (a page-aligned start with the
//   page count in the low bits), but "flush all" is `2^53 - 1` instead of `usize::MAX`, the largest
//   address a JavaScript number holds exactly (its low bits are all ones too, so it never reads as
//   a ranged operation).
// - OSTD's IPI layer (`smp::inter_processor_call`, which returns `PendingIpis`) is not ported:
//   Mirch's `inter_processor_call` returns nothing. `PendingIpis` here counts, per CPU, the flush
//   requests sent to it and not yet handled (OSTD's `HAS_PENDING_IPIS` flag, as a counter: a
//   handler run may take the queued work of several requests, and the count says when every
//   request sent so far has been handled). OSTD's `ipi_sender: Option<&IpiSender>` is always
//   present on Mirch (no early-boot phase without IPIs), so its `None` paths are left out.
// - The per-CPU queues (`FLUSH_OPS`) keep their operations in CPU-local kmiri memory, under a
//   spin lock that disables local interrupts (`SpinLock<OpsStack, LocalIrqDisabled>`); the frames
//   they keep (`frame_keeper`, a `Vec<Frame>` in OSTD) are JavaScript handles next to them,
//   protected by the same lock.
// - Frames let go of after a flush are dropped after an RCU grace period through `sync/rcu.ts`'s
//   `RcuDrop` (OSTD's `RcuDrop::new(frame_keeper)`), whose queue is IRQ-safe: the remote flush runs
//   in interrupt context.
import { AtomicUsize, array, assert, panic, spin_loop, struct, u32, usize, type Ptr } from "kmiri/rt";
import { cpu_local, current_cpu, inter_processor_call, num_cpus } from "../../arch/cpu.js";
import { is_local_enabled } from "../../arch/irq.js";
import { PAGE_SIZE, tlb_flush_addr, tlb_flush_addr_range, tlb_flush_all_excluding_global, type Vaddr } from "../../arch/mm.js";
import { DisabledLocalIrqGuard } from "../../sync/guard.js";
import { RcuDrop } from "../../sync/rcu.js";
import { SpinLock } from "../../sync/spin.js";
import { AtomicCpuSet, CpuSet } from "./cpu_set.js";

export { AtomicCpuSet, CpuSet };

/**
 * What a flusher may keep until a flush is done: a frame handle (`Frame<dyn AnyFrameMeta>` in
 * OSTD: an unmapped `UFrame`, or a page-table node taken out of a table). Cloning it is one more
 * reference; dropping the last one frees the frame.
 */
export interface KeptFrame {
  clone(): KeptFrame;
  drop(): void;
}

/** A guard that keeps the caller on its CPU (`PinCurrentCpu`): preemption or IRQs disabled. */
export interface PinCurrentCpu {
  release(): unknown;
}

/**
 * If more pages than this are pending, the whole TLB is flushed instead of page by page
 * (`FLUSH_ALL_PAGES_THRESHOLD`).
 */
export const FLUSH_ALL_PAGES_THRESHOLD = 32;

/** `u32::MAX`: `num_pages()` of a flush-all operation, and `num_pages_to_flush` of a full stack. */
const U32_MAX = 0xffff_ffff;

// ───────────────────────────── TlbFlushOp ─────────────────────────────

/**
 * `TlbFlushOp`: one flush — everything but global entries, the entry of one page, or the entries
 * of a range of pages — packed into a `Vaddr`. The start is page-aligned, so the low bits hold the
 * number of pages (below `FLUSH_ALL_PAGES_THRESHOLD`, and never 0).
 */
export class TlbFlushOp {
  /** Flush everything but global entries (OSTD: `Vaddr::MAX`; see the top of this file). */
  static readonly FLUSH_ALL_VAL: Vaddr = 2 ** 53 - 1;
  /** The low bits that hold the page count: `(1 << (64 - FLUSH_ALL_PAGES_THRESHOLD.leading_zeros())) - 1`. */
  static readonly FLUSH_RANGE_NPAGES_MASK: Vaddr = 2 ** (Math.floor(Math.log2(FLUSH_ALL_PAGES_THRESHOLD)) + 1) - 1;

  private constructor(
    /** The packed value. */
    readonly value: Vaddr,
  ) {}

  /** The start and page count of a ranged operation (bitwise `&` is 32-bit in JavaScript). */
  private split(): { start: Vaddr; num_pages: number } {
    const num_pages = this.value % (TlbFlushOp.FLUSH_RANGE_NPAGES_MASK + 1);
    return { start: this.value - num_pages, num_pages };
  }

  /** `perform_on_current`: flushes the current CPU's TLB as this operation says. */
  perform_on_current(): void {
    if (this.value === TlbFlushOp.FLUSH_ALL_VAL) {
      tlb_flush_all_excluding_global();
      return;
    }
    const { start, num_pages } = this.split();
    assert(this.value % PAGE_SIZE < FLUSH_ALL_PAGES_THRESHOLD);
    assert(num_pages !== 0);
    if (num_pages === 1) tlb_flush_addr(start);
    else tlb_flush_addr_range(start, start + num_pages * PAGE_SIZE);
  }

  /** `for_all()`: flush every entry but the global ones. */
  static for_all(): TlbFlushOp {
    return new TlbFlushOp(TlbFlushOp.FLUSH_ALL_VAL);
  }

  /** `for_single(addr)`: flush the entry of the page at `addr` (`addr | 1`). */
  static for_single(addr: Vaddr): TlbFlushOp {
    return new TlbFlushOp(addr % 2 === 1 ? addr : addr + 1);
  }

  /**
   * `for_range(range)`: flush the pages of `[start, end)`; every entry but the global ones when
   * the range has `FLUSH_ALL_PAGES_THRESHOLD` pages or more.
   *
   * Panics if the range is not page-aligned or is empty.
   */
  static for_range(range: { readonly start: Vaddr; readonly end: Vaddr }): TlbFlushOp {
    assert(range.start % PAGE_SIZE === 0, "range start must be page-aligned");
    assert(range.end % PAGE_SIZE === 0, "range end must be page-aligned");
    assert(range.start < range.end, "range must not be empty");
    const num_pages = (range.end - range.start) / PAGE_SIZE;
    if (num_pages >= FLUSH_ALL_PAGES_THRESHOLD) return TlbFlushOp.for_all();
    return new TlbFlushOp(range.start + num_pages);
  }

  /** @internal an operation read back from a queue in memory. */
  static from_raw(value: Vaddr): TlbFlushOp {
    return new TlbFlushOp(value);
  }

  /**
   * `num_pages()`: the pages to flush, or `u32::MAX` for every entry (otherwise below
   * `FLUSH_ALL_PAGES_THRESHOLD`, and not 0).
   */
  num_pages(): number {
    if (this.value === TlbFlushOp.FLUSH_ALL_VAL) return U32_MAX;
    assert(this.value % PAGE_SIZE < FLUSH_ALL_PAGES_THRESHOLD);
    const { num_pages } = this.split();
    assert(num_pages !== 0);
    return num_pages;
  }

  /** `PartialEq`. */
  eq(other: TlbFlushOp): boolean {
    return this.value === other.value;
  }
}

// `const_assert!`: the page count fits in a page's offset bits.
assert(TlbFlushOp.FLUSH_RANGE_NPAGES_MASK < PAGE_SIZE && (PAGE_SIZE - 1) % (TlbFlushOp.FLUSH_RANGE_NPAGES_MASK + 1) === TlbFlushOp.FLUSH_RANGE_NPAGES_MASK);

// ───────────────────────────── OpsStack ─────────────────────────────

/** An `OpsStack`'s scalar part, as it is kept in a CPU's queue in memory. */
interface OpsStackV {
  /** Entries `0..num_ops` are operations (OSTD: `MaybeUninit`; zeroed here, never read past `num_ops`). */
  ops: number[];
  num_ops: number;
  /** `u32::MAX`: flush everything, whatever `ops` holds (then `num_ops` is 0); else the pages in `ops`. */
  num_pages_to_flush: number;
}

const OpsStackLayout = struct("OpsStack", {
  ops: array(usize, FLUSH_ALL_PAGES_THRESHOLD),
  num_ops: u32,
  num_pages_to_flush: u32,
});

/** `OpsStack`: pending flush operations, and the frames to drop once they are done. */
class OpsStack {
  private ops: number[];
  private num_ops: number;
  private num_pages_to_flush: number;
  /** Frames to drop after the flush (and an RCU grace period); never changed once pushed. */
  private frame_keeper: KeptFrame[];

  private constructor(v: OpsStackV, frame_keeper: KeptFrame[]) {
    this.ops = v.ops;
    this.num_ops = v.num_ops;
    this.num_pages_to_flush = v.num_pages_to_flush;
    this.frame_keeper = frame_keeper;
  }

  /** `OpsStack::new()`. */
  static new(): OpsStack {
    return new OpsStack(OpsStack.empty_value(), []);
  }

  static empty_value(): OpsStackV {
    return { ops: new Array<number>(FLUSH_ALL_PAGES_THRESHOLD).fill(0), num_ops: 0, num_pages_to_flush: 0 };
  }

  /** A stack from its parts (a CPU queue's memory and frames). */
  static from_parts(v: OpsStackV, frame_keeper: KeptFrame[]): OpsStack {
    return new OpsStack(v, frame_keeper);
  }

  /** Its parts: what a CPU queue keeps in memory, and its frames. */
  into_parts(): [OpsStackV, KeptFrame[]] {
    const parts: [OpsStackV, KeptFrame[]] = [
      { ops: this.ops, num_ops: this.num_ops, num_pages_to_flush: this.num_pages_to_flush },
      this.frame_keeper,
    ];
    this.frame_keeper = [];
    return parts;
  }

  /** `mem::swap(self, &mut OpsStack::new())`: this stack's contents, leaving it empty. */
  take(): OpsStack {
    const [v, frames] = this.into_parts();
    const e = OpsStack.empty_value();
    this.ops = e.ops;
    this.num_ops = e.num_ops;
    this.num_pages_to_flush = e.num_pages_to_flush;
    return new OpsStack(v, frames);
  }

  is_empty(): boolean {
    return this.num_ops === 0 && this.num_pages_to_flush === 0;
  }

  need_flush_all(): boolean {
    return this.num_pages_to_flush === U32_MAX;
  }

  /** `push(op, drop_after_flush)`. */
  push(op: TlbFlushOp, drop_after_flush: RcuDrop<KeptFrame> | null): void {
    if (drop_after_flush !== null) {
      unsafe: {
        // SAFETY: the frame goes to `frame_keeper`, which is dropped only after the flush and an
        // RCU grace period (`clear_without_flush`, `drop`), so its grace period is kept.
        this.frame_keeper.push(RcuDrop.into_inner(drop_after_flush));
      }
    }
    if (this.need_flush_all()) return;
    const op_num_pages = op.num_pages();
    if (op.eq(TlbFlushOp.for_all()) || this.num_pages_to_flush + op_num_pages >= FLUSH_ALL_PAGES_THRESHOLD) {
      this.num_pages_to_flush = U32_MAX;
      this.num_ops = 0;
      return;
    }
    this.ops[this.num_ops] = op.value;
    this.num_ops += 1;
    this.num_pages_to_flush += op_num_pages;
  }

  /** `push_from(other)`: `other`'s operations, and clones of its frames. */
  push_from(other: OpsStack): void {
    for (const f of other.frame_keeper) this.frame_keeper.push(f.clone());
    if (this.need_flush_all()) return;
    if (other.need_flush_all() || this.num_pages_to_flush + other.num_pages_to_flush >= FLUSH_ALL_PAGES_THRESHOLD) {
      this.num_pages_to_flush = U32_MAX;
      this.num_ops = 0;
      return;
    }
    for (const other_op of other.ops_iter()) {
      this.ops[this.num_ops] = other_op.value;
      this.num_ops += 1;
    }
    this.num_pages_to_flush += other.num_pages_to_flush;
  }

  /** `flush_all()`: performs every operation on the current CPU, then clears the stack. */
  flush_all(): void {
    if (this.need_flush_all()) tlb_flush_all_excluding_global();
    else for (const op of this.ops_iter()) op.perform_on_current();
    this.clear_without_flush();
  }

  /** `clear_without_flush()`: forgets the operations; the frames are dropped after a grace period. */
  clear_without_flush(): void {
    this.num_pages_to_flush = 0;
    this.num_ops = 0;
    this.drop_frames();
  }

  private drop_frames(): void {
    if (this.frame_keeper.length === 0) return;
    const frames = this.frame_keeper;
    this.frame_keeper = [];
    new RcuDrop({ drop: () => frames.forEach((f) => f.drop()) }).drop();
  }

  /** The operations `0..num_ops`. */
  private ops_iter(): TlbFlushOp[] {
    const out: TlbFlushOp[] = [];
    for (let i = 0; i < this.num_ops; i++) out.push(TlbFlushOp.from_raw(this.ops[i]!));
    return out;
  }

  /** `Drop`: the frames are dropped after a grace period (without a flush). */
  drop(): void {
    this.drop_frames();
  }
}

// ───────────────────────────── the per-CPU queues ─────────────────────────────

/**
 * `FLUSH_OPS`: each CPU's queue of flushes that other CPUs asked it for (`cpu_local!` of a
 * `SpinLock<OpsStack, LocalIrqDisabled>`). The operations are in CPU-local memory; the lock's value
 * points there and holds the frames.
 */
interface FlushQueue {
  readonly mem: Ptr<OpsStackV>;
  frames: KeptFrame[];
}

const FLUSH_OPS_MEM = cpu_local(OpsStackLayout, OpsStack.empty_value());

/** One lock per CPU, all of one lockdep class, taken with local interrupts disabled. */
const FLUSH_OPS: SpinLock<FlushQueue>[] = [];
for (let cpu = 0; cpu < num_cpus(); cpu++) {
  FLUSH_OPS.push(SpinLock.static_<FlushQueue>({ mem: FLUSH_OPS_MEM.on_cpu(cpu), frames: [] }, "tlb::FLUSH_OPS"));
}

/** Runs `f` on CPU `cpu`'s queue, as a stack, with its lock held. */
function with_flush_ops<R>(cpu: number, f: (stack: OpsStack) => R): R {
  const guard = FLUSH_OPS[cpu]!.disable_irq().lock();
  const q = guard.value;
  let stack: OpsStack;
  unsafe: {
    // SAFETY: the queue's memory is CPU-local storage, never freed; the lock is held, so no other
    // CPU (or handler) accesses it.
    stack = OpsStack.from_parts(q.mem.read(), q.frames);
  }
  const r = f(stack);
  const [v, frames] = stack.into_parts();
  unsafe: {
    // SAFETY: as above.
    q.mem.write(v);
  }
  q.frames = frames;
  guard.release();
  return r;
}

/**
 * The number of flush requests sent to each CPU and not handled yet (OSTD's `HAS_PENDING_IPIS`,
 * counted). Incremented by the sender with the CPU's queue locked, decremented (Release) by the
 * CPU's handler once it has flushed, waited for (Acquire) by `PendingIpis::wait`.
 */
const PENDING_FLUSH_IPIS = cpu_local(AtomicUsize, 0);

function pending_of(cpu: number) {
  unsafe: {
    // SAFETY: CPU-local storage, never freed, only accessed atomically.
    return PENDING_FLUSH_IPIS.on_cpu(cpu).as_ref();
  }
}

/**
 * `do_remote_flush`: the inter-processor call. Takes this CPU's queue (leaving an empty one), and
 * flushes outside the lock, to keep the lock short.
 */
function do_remote_flush(): void {
  // Interrupt context, so the CPU cannot change under us.
  const cpu = current_cpu();
  const new_op_queue = with_flush_ops(cpu, (queue) => queue.take());
  new_op_queue.flush_all();
  pending_of(cpu).fetch_sub(1, "Release");
}

/** `PendingIpis`: the CPUs whose flush requests a flusher sent and may wait for. */
class PendingIpis {
  private constructor(private readonly cpus: CpuSet) {}

  static new_empty(): PendingIpis {
    return new PendingIpis(CpuSet.new_empty());
  }

  extend(other: CpuSet): void {
    for (const cpu of other.iter()) this.cpus.add(cpu);
  }

  /**
   * `wait()`: until every request sent to these CPUs so far has been handled. Panics with local
   * interrupts disabled: two CPUs waiting for each other's flush would deadlock.
   */
  wait(): void {
    assert(is_local_enabled(), "waiting for remote inter-processor calls with IRQs disabled");
    for (const cpu of this.cpus.iter()) {
      while (pending_of(cpu).load("Acquire") !== 0) spin_loop();
    }
  }
}

// ───────────────────────────── TlbFlusher ─────────────────────────────

/**
 * `TlbFlusher`: flushes the TLBs of the CPUs in a set (`target_cpus`, read when the flushes are
 * dispatched). It sticks to the current CPU (`pin_current_guard`). Drop it with {@link drop}.
 */
export class TlbFlusher {
  private pending_ipis = PendingIpis.new_empty();
  private readonly ops_stack = OpsStack.new();
  private dropped = false;

  /**
   * `TlbFlusher::new(target_cpus, pin_current_guard)`. The flusher owns the guard (released by
   * `drop`).
   */
  constructor(
    private readonly target_cpus: AtomicCpuSet,
    private readonly pin_current: PinCurrentCpu,
  ) {}

  /**
   * `issue_tlb_flush(op)`: records a flush. Nothing is flushed, here or on other CPUs, before
   * {@link dispatch_tlb_flush}.
   */
  issue_tlb_flush(op: TlbFlushOp): void {
    this.ops_stack.push(op, null);
  }

  /**
   * `issue_tlb_flush_with(op, drop_after_flush)`: records a flush that must happen before the frame
   * is dropped — a page removed from a page table may be recycled only after no TLB of any CPU
   * can still reach it. The frame is dropped after the flushes and an RCU grace period.
   */
  issue_tlb_flush_with(op: TlbFlushOp, drop_after_flush: RcuDrop<KeptFrame>): void {
    this.ops_stack.push(op, drop_after_flush);
  }

  /**
   * `dispatch_tlb_flush()`: starts every flush issued so far — at once on this CPU, by an
   * inter-processor call on the others, which get clones of the frames to keep until they have
   * flushed. It does not wait: the TLBs may still be incoherent when it returns.
   */
  dispatch_tlb_flush(): void {
    const irq_guard = DisabledLocalIrqGuard.disable_local();
    if (this.ops_stack.is_empty()) {
      irq_guard.release();
      return;
    }
    // Release: our page-table changes are visible to a CPU that activates the table after adding
    // itself to the set (its Acquire `add`).
    const target_cpus = this.target_cpus.load("Release");
    const cur_cpu = current_cpu();
    let need_flush_on_self = false;
    if (target_cpus.contains(cur_cpu)) {
      target_cpus.remove(cur_cpu);
      need_flush_on_self = true;
    }
    const remote = target_cpus.iter();
    for (const cpu of remote) {
      with_flush_ops(cpu, (flush_ops) => {
        flush_ops.push_from(this.ops_stack);
        // Counted with the queue locked, so the handler that takes this work is counted.
        pending_of(cpu).fetch_add(1, "Relaxed");
      });
    }
    if (remote.length !== 0) inter_processor_call(do_remote_flush, remote);
    this.pending_ipis.extend(target_cpus);
    // Flush ourselves after sending the requests, to overlap with the other CPUs.
    if (need_flush_on_self) this.ops_stack.flush_all();
    else this.ops_stack.clear_without_flush();
    irq_guard.release();
  }

  /**
   * `sync_tlb_flush()`: waits until every flush dispatched so far has been done on every CPU it
   * was sent to. Flushes issued but not dispatched are not waited for.
   *
   * Panics if local interrupts are disabled (remote flushes run in interrupt handlers, so two CPUs
   * waiting for each other could deadlock).
   */
  sync_tlb_flush(): void {
    this.pending_ipis.wait();
    this.pending_ipis = PendingIpis.new_empty();
  }

  /** `Drop`: frames still kept are dropped after a grace period; the pin guard is released. */
  drop(): void {
    if (this.dropped) panic("a TLB flusher dropped twice");
    this.dropped = true;
    this.ops_stack.drop();
    this.pin_current.release();
  }
}
