// Tests of the TLB flusher (`mm/tlb`), kmiri's own: OSTD has no ktests for `mm/tlb.rs`. What they
// check: the packing of `TlbFlushOp`; a flush dispatched to another CPU runs there (in its
// interrupt handler) and the frames it keeps are freed only after it ran and an RCU grace period
// passed; many pending pages turn into one flush of everything; `sync_tlb_flush` refuses to wait
// with interrupts off; and the shootdown that `VmSpace`'s unmap relies on — a CPU that cached a
// user translation must not reach the frame once the unmapping CPU has freed it (kmiri would
// report `stale-tlb`).
import { AtomicUsize, Box, assert, assert_eq, ktest, spawn, spin_loop, u64 } from "kmiri/rt";
import { irq_disable_local } from "../../arch/irq.js";
import { PAGE_SIZE, page_state, type Vaddr } from "../../arch/mm.js";
import { init } from "../../boot.js";
import { Arc } from "../../sync/arc.js";
import { disable_preempt } from "../../sync/preempt.js";
import { RcuDrop, synchronize_rcu } from "../../sync/rcu.js";
import { FrameAllocOptions, type UFrame } from "../frame/index.js";
import { Error, unwrap } from "../io.js";
import { KERNEL_PAGE_TABLE } from "../kspace/index.js";
import { range } from "../page_table/index.js";
import { CachePolicy, PageFlags, PageProperty } from "../page_table/page_prop.js";
import { VmSpace, deactivate_for_test } from "../vm_space/index.js";
import { AtomicCpuSet, CpuSet, FLUSH_ALL_PAGES_THRESHOLD, TlbFlushOp, TlbFlusher, type KeptFrame } from "./index.js";

const U32_MAX = 0xffff_ffff;

function new_frame(): UFrame {
  return unwrap(FrameAllocOptions.new().alloc_frame()).into_uframe();
}

ktest("tlb_flush_op_encoding", () => {
  init();
  const single = TlbFlushOp.for_single(0x5000);
  assert_eq(single.value, 0x5001);
  assert_eq(single.num_pages(), 1);
  const ranged = TlbFlushOp.for_range(range(0x8000_0000, 0x8000_3000));
  assert_eq(ranged.value, 0x8000_0003);
  assert_eq(ranged.num_pages(), 3);
  // One page less than the threshold stays ranged; at the threshold it flushes everything.
  const below = TlbFlushOp.for_range(range(0, (FLUSH_ALL_PAGES_THRESHOLD - 1) * PAGE_SIZE));
  assert_eq(below.num_pages(), FLUSH_ALL_PAGES_THRESHOLD - 1);
  const big = TlbFlushOp.for_range(range(0x10_0000, 0x10_0000 + FLUSH_ALL_PAGES_THRESHOLD * PAGE_SIZE));
  assert(big.eq(TlbFlushOp.for_all()));
  assert_eq(big.num_pages(), U32_MAX);
  assert(!single.eq(ranged));
  // A high user address keeps its page count apart from its bits.
  const high = TlbFlushOp.for_range(range(0x7fff_ffff_0000, 0x7fff_ffff_2000));
  assert_eq(high.value - 2, 0x7fff_ffff_0000);
  for (const op of [single, ranged, big, high]) op.perform_on_current();
});

ktest.should_panic(
  "tlb_flush_op_rejects_unaligned_range",
  () => {
    init();
    TlbFlushOp.for_range(range(0x1000, 0x1800));
  },
  "range end must be page-aligned",
);

ktest.should_panic(
  "sync_tlb_flush_with_irqs_disabled_panics",
  () => {
    init();
    const flusher = new TlbFlusher(new AtomicCpuSet(CpuSet.new_empty()), disable_preempt());
    irq_disable_local();
    flusher.sync_tlb_flush();
  },
  "waiting for remote inter-processor calls with IRQs disabled",
);

// A flusher aimed at CPUs 0 and 1: the flush runs here at dispatch and on CPU 1 in its interrupt
// handler (CPU 1 spins with interrupts on); the frame, kept by both, is freed only after both
// flushed and an RCU grace period passed.
ktest("remote_flush_keeps_frames_until_flushed", () => {
  init();
  const stage = Box.new(AtomicUsize, 0);
  const flag = stage.as_ref();
  const t = spawn(() => {
    flag.store(1, "Release");
    while (flag.load("Acquire") !== 2) spin_loop();
  });
  while (flag.load("Acquire") !== 1) spin_loop();
  const cpus = CpuSet.new_empty();
  cpus.add(0);
  cpus.add(1);
  const target = new AtomicCpuSet(cpus);
  assert(target.contains(1, "Relaxed") && target.load("Acquire").iter().join() === "0,1");
  const frame = new_frame();
  const paddr = frame.paddr();
  const flusher = new TlbFlusher(target, disable_preempt());
  flusher.issue_tlb_flush_with(TlbFlushOp.for_single(0x1000), new RcuDrop<KeptFrame>(frame));
  flusher.issue_tlb_flush(TlbFlushOp.for_range(range(0x4000, 0x6000)));
  flusher.dispatch_tlb_flush();
  // Nothing left to dispatch: a second dispatch sends nothing.
  flusher.dispatch_tlb_flush();
  flusher.sync_tlb_flush();
  // CPU 1 flushed; the frame waits for the grace period.
  assert_eq(page_state(paddr).state, "untyped");
  // A flush of everything, sent to CPU 1 as such.
  flusher.issue_tlb_flush(TlbFlushOp.for_all());
  flusher.dispatch_tlb_flush();
  flusher.sync_tlb_flush();
  flusher.drop();
  synchronize_rcu();
  assert_eq(page_state(paddr).state, "free");
  // A flusher aimed at CPU 1 alone: nothing to flush here.
  target.remove(0, "Relaxed");
  const remote_only = new TlbFlusher(target, disable_preempt());
  remote_only.issue_tlb_flush(TlbFlushOp.for_single(0x3000));
  remote_only.dispatch_tlb_flush();
  remote_only.sync_tlb_flush();
  remote_only.drop();
  flag.store(2, "Release");
  t.join();
  target.drop();
  stage.drop();
});

// ───────────────────────────── through a VmSpace ─────────────────────────────

const USER_VA: Vaddr = 0x40_0000;
const RW = PageProperty.new_user(PageFlags.RW, CachePolicy.Writeback);

/** A space active on this CPU with a fresh frame mapped RW at `USER_VA`, holding `value`. */
function active_space_with_page(value: bigint): [Arc<VmSpace>, number] {
  const vmspace = Arc.new_value(VmSpace.new());
  const frame = new_frame();
  const paddr = frame.paddr();
  unwrap(frame.writer().write_val(u64, value));
  const guard = disable_preempt();
  const c = unwrap(vmspace.value.cursor_mut(guard, range(USER_VA, USER_VA + PAGE_SIZE)));
  c.map(frame, RW);
  c.drop();
  guard.release();
  VmSpace.activate(vmspace);
  return [vmspace, paddr];
}

// More pending pages than the threshold become one flush of everything: the page made read-only
// is not among the pages named, yet its writable translation, cached by a write, is gone.
ktest("many_pending_pages_flush_everything", () => {
  init();
  const [vmspace, paddr] = active_space_with_page(1n);
  const space = vmspace.value;
  unwrap(unwrap(space.writer(USER_VA, 8)).write_val(u64, 2n));
  const guard = disable_preempt();
  const c = unwrap(space.cursor_mut(guard, range(USER_VA, USER_VA + PAGE_SIZE)));
  c.protect_next(PAGE_SIZE, (p) => {
    p.flags = PageFlags.R;
  });
  for (let i = 0; i < FLUSH_ALL_PAGES_THRESHOLD; i++) c.flusher().issue_tlb_flush(TlbFlushOp.for_single(0x100_0000 + i * PAGE_SIZE));
  c.flusher().issue_tlb_flush(TlbFlushOp.for_single(0x200_0000));
  c.flusher().dispatch_tlb_flush();
  c.drop();
  guard.release();
  const w = unwrap(space.writer(USER_VA, 8)).write_val(u64, 3n);
  assert(!w.ok && w.error === Error.PageFault, "a stale writable translation survived the flush");
  assert_eq(unwrap(unwrap(space.reader(USER_VA, 8)).read_val(u64)), 2n);
  deactivate_for_test();
  vmspace.drop();
  assert_eq(page_state(paddr).state, "free");
});

// The shootdown. CPU 1 has the space active and has read the page (its TLB caches the
// translation); CPU 0 unmaps the page — the unmap dispatches a flush to CPU 1 —, waits for the
// flush, and lets the frame go (grace period). CPU 1 then reads the address again: the read must
// fault, not go through a stale translation to the freed frame. Without the flush CPU 1 would
// reach the freed frame through its TLB, and kmiri reports `stale-tlb`.
ktest("tlb_shootdown_no_stale_translation", () => {
  init();
  const [vmspace, paddr] = active_space_with_page(0xdead_beefn);
  const space = vmspace.value;
  const stage = Box.new(AtomicUsize, 0);
  const flag = stage.as_ref();
  const t = spawn(() => {
    // This CPU's early boot: the kernel page table takes over (OSTD's `ap_early_entry`).
    KERNEL_PAGE_TABLE.get_for_kernel();
    VmSpace.activate(vmspace);
    assert_eq(unwrap(unwrap(space.reader(USER_VA, 8)).read_val(u64)), 0xdead_beefn);
    flag.store(1, "Release");
    // Interrupts are on: the flush request runs here.
    while (flag.load("Acquire") !== 2) spin_loop();
    const again = unwrap(space.reader(USER_VA, 8)).read_val(u64);
    assert(!again.ok && again.error === Error.PageFault, "CPU 1 read an unmapped page");
    deactivate_for_test();
  });
  while (flag.load("Acquire") !== 1) spin_loop();
  const guard = disable_preempt();
  const c = unwrap(space.cursor_mut(guard, range(USER_VA, USER_VA + PAGE_SIZE)));
  assert_eq(c.unmap(PAGE_SIZE), 1);
  c.flusher().sync_tlb_flush();
  c.drop();
  guard.release();
  synchronize_rcu();
  // The frame is freed: from now on only a stale TLB entry could reach it.
  assert_eq(page_state(paddr).state, "free");
  flag.store(2, "Release");
  t.join();
  // This CPU too reads nothing there any more.
  const mine = unwrap(space.reader(USER_VA, 8)).read_val(u64);
  assert(!mine.ok && mine.error === Error.PageFault);
  deactivate_for_test();
  vmspace.drop();
  stage.drop();
});
