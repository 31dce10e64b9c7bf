// OSTD's `mm/kspace/test.rs` (asterinas/asterinas, ostd/src/mm/kspace/test.rs) as kmiri ktests with
// their names, the ones the KernMiri branch had besides, and kmiri's own: accesses through an area
// on one and two CPUs, and the kernel page table's mappings. Every test boots first (`init()`) and
// frees what it allocates.
import { AtomicUsize, assert, assert_eq, ktest, panic, spawn, spin_loop, static_, u64 } from "kmiri/rt";
import { init } from "../../boot.js";
import {
  PAGE_SIZE, PteFlags, boot_page_table_paddr, current_page_table_paddr, page_state, page_walk as arch_page_walk,
  pte_flags, pte_new, tlb_flush_addr_range, type Paddr, type Vaddr,
} from "../../arch/mm.js";
import { current_cpu, inter_processor_call } from "../../sync/cpu.js";
import { disable_preempt } from "../../sync/preempt.js";
import { VmReader, VmWriter, unwrap as unwrap_io } from "../io.js";
import { Frame, FrameAllocOptions, UnitMeta, max_paddr, type Segment } from "../frame/index.js";
import { frame_to_meta, unwrap } from "../frame/meta.js";
import { page_walk, range, unwrap as unwrap_pt } from "../page_table/index.js";
import { rcu_barrier } from "../page_table/rcu_drop.js";
import { CachePolicy, PageFlags, PageProperty, PrivilegedPageFlags } from "../page_table/page_prop.js";
import {
  FRAME_METADATA_BASE_VADDR, KERNEL_CODE_BASE_VADDR, KERNEL_PAGE_TABLE, KernelPtConfig, LINEAR_MAPPING_BASE_VADDR,
  VMALLOC_VADDR_RANGE, activate_kernel_page_table, paddr_to_vaddr, type MappedItemRef,
} from "./index.js";
import { KVirtArea } from "./kvirt_area.js";

function default_prop(): PageProperty {
  return PageProperty.new_user(PageFlags.RW, CachePolicy.Writeback);
}

/** `let MappedItemRef::Tracked(page, prop) = item else { panic!(..) }`. */
function expect_tracked(item: MappedItemRef | null): Extract<MappedItemRef, { kind: "Tracked" }> {
  if (item === null || item.kind !== "Tracked") return panic("Expected a tracked page");
  return item;
}

function expect_untracked(item: MappedItemRef | null): Extract<MappedItemRef, { kind: "Untracked" }> {
  if (item === null || item.kind !== "Untracked") return panic("Expected a untracked page");
  return item;
}

/** `n` zeroed untyped frames (`alloc_segment_with(n, |_| ())`). */
function frames_of(n: number): Segment<undefined> {
  return unwrap(FrameAllocOptions.new().alloc_segment_with(n, () => UnitMeta.of(undefined)));
}

function two_frames(): Segment<undefined> {
  return frames_of(2);
}

/** The reference count of the frame at `pa`, in use (not counting the handle taken to read it). */
function ref_count_of(pa: Paddr): bigint {
  const f = unwrap(Frame.from_in_use(pa));
  const count = f.reference_count() - 1n;
  f.drop();
  return count;
}

/** How the kernel maps its own data: read-write, write-back, global. */
function kernel_prop(): PageProperty {
  return { flags: PageFlags.RW, cache: CachePolicy.Writeback, priv_flags: PrivilegedPageFlags.GLOBAL };
}

/** Reads a `u64` at a kernel address (an infallible, volatile kernel reader). */
function read_u64(vaddr: Vaddr): bigint {
  unsafe: {
    // SAFETY (callers): the address is mapped to untyped memory the test owns.
    return unwrap_io(VmReader.from_kernel_space(vaddr, 8).read_val(u64));
  }
}

/** Writes a `u64` at a kernel address. */
function write_u64(vaddr: Vaddr, value: bigint): void {
  unsafe: {
    // SAFETY (callers): the address is mapped to untyped memory the test owns.
    unwrap_io(VmWriter.from_kernel_space(vaddr, 8).write_val(u64, value));
  }
}

// ───────────────────────────── OSTD's tests ─────────────────────────────

ktest("kvirt_area_tracked_map_pages", () => {
  init();
  const size = 2 * PAGE_SIZE;
  const frames = two_frames();
  const paddr = frames.paddr();

  const kvirt_area = KVirtArea.map_frames(size, 0, frames, default_prop());

  assert_eq(kvirt_area.size(), size);
  assert(kvirt_area.start() >= VMALLOC_VADDR_RANGE.start);
  assert(kvirt_area.end() <= VMALLOC_VADDR_RANGE.end);

  const guard = disable_preempt();
  for (let i = 0; i < 2; i++) {
    const addr = kvirt_area.start() + i * PAGE_SIZE;
    const { frame: page, prop } = expect_tracked(kvirt_area.query(addr));
    assert_eq(page.paddr(), paddr + i * PAGE_SIZE);
    assert_eq(prop.flags, default_prop().flags);
    assert_eq(prop.cache, default_prop().cache);
  }
  guard.release();
  kvirt_area.drop();
  rcu_barrier();
});

ktest("kvirt_area_untracked_map_pages", () => {
  init();
  const max = max_paddr();
  const size = 2 * PAGE_SIZE;
  const pa_range = { start: max, end: max + 2 * PAGE_SIZE };

  let kvirt_area: KVirtArea;
  unsafe: {
    kvirt_area = KVirtArea.map_untracked_frames(size, 0, pa_range, default_prop());
  }

  assert_eq(kvirt_area.size(), size);
  assert(kvirt_area.start() >= VMALLOC_VADDR_RANGE.start);
  assert(kvirt_area.end() <= VMALLOC_VADDR_RANGE.end);

  const guard = disable_preempt();
  for (let i = 0; i < 2; i++) {
    const addr = kvirt_area.start() + i * PAGE_SIZE;
    const { paddr: pa, level, prop } = expect_untracked(kvirt_area.query(addr));
    assert_eq(pa, pa_range.start + i * PAGE_SIZE);
    assert_eq(level, 1);
    assert(PageProperty.eq(prop, default_prop()));
  }
  guard.release();
  kvirt_area.drop();
});

ktest("kvirt_area_tracked_drop", () => {
  init();
  const size = 2 * PAGE_SIZE;
  const frames = two_frames();

  const kvirt_area = KVirtArea.map_frames(size, 0, frames, default_prop());
  kvirt_area.drop();

  // After the drop, the range is free again and nothing is mapped in it.
  const empty: Frame<undefined>[] = [];
  const kvirt_area2 = KVirtArea.map_frames(size, 0, empty, default_prop());
  const guard = disable_preempt();
  assert(kvirt_area2.query(kvirt_area2.start()) === null);
  guard.release();
  kvirt_area2.drop();
  rcu_barrier();
});

ktest("kvirt_area_untracked_drop", () => {
  init();
  const max = max_paddr();
  const size = 2 * PAGE_SIZE;
  const pa_range = { start: max, end: max + 2 * PAGE_SIZE };

  let kvirt_area: KVirtArea;
  unsafe: {
    kvirt_area = KVirtArea.map_untracked_frames(size, 0, pa_range, default_prop());
  }
  kvirt_area.drop();

  // After the drop, the range is free again and nothing is mapped in it.
  let kvirt_area2: KVirtArea;
  unsafe: {
    kvirt_area2 = KVirtArea.map_untracked_frames(size, 0, { start: 0, end: 0 }, default_prop());
  }
  const guard = disable_preempt();
  assert(kvirt_area2.query(kvirt_area2.start()) === null);
  guard.release();
  kvirt_area2.drop();
});

ktest("manual_paddr_to_vaddr", () => {
  init();
  const pa: Paddr = 0x1000;
  const va = paddr_to_vaddr(pa);
  assert_eq(va, LINEAR_MAPPING_BASE_VADDR + pa);
});

// ───────────────────────────── the KernMiri branch's tests ─────────────────────────────

// Its `KVirtArea::<Tracked>::new(size)`: an area with nothing mapped yet (here: no frames).
ktest("test_kvirt_area_tracked_alloc", () => {
  init();
  const size = 2 * PAGE_SIZE;
  const kvirt_area = KVirtArea.map_frames(size, 0, [] as Frame<undefined>[], default_prop());
  assert_eq(kvirt_area.size(), size);
  assert(kvirt_area.start() >= VMALLOC_VADDR_RANGE.start);
  assert(kvirt_area.end() <= VMALLOC_VADDR_RANGE.end);
  kvirt_area.drop();
});

// Its `KVirtArea::<Untracked>::new(size)`: the `0..0` physical range.
ktest("kvirt_area_untracked_alloc", () => {
  init();
  const size = 2 * PAGE_SIZE;
  let kvirt_area: KVirtArea;
  unsafe: {
    kvirt_area = KVirtArea.map_untracked_frames(size, 0, { start: 0, end: 0 }, default_prop());
  }
  assert_eq(kvirt_area.size(), size);
  assert(kvirt_area.start() >= VMALLOC_VADDR_RANGE.start);
  assert(kvirt_area.end() <= VMALLOC_VADDR_RANGE.end);
  assert_eq(kvirt_area.range().end - kvirt_area.range().start, size);
  kvirt_area.drop();
});

// Its `should_map_as_tracked` split the vmalloc area in two; OSTD now tells tracked from untracked
// mappings by a PTE bit (AVAIL1), set only for tracked frames: check it in the entries.
ktest("map_as_tracked", () => {
  init();
  const frames = frames_of(1);
  const tracked = KVirtArea.map_frames(PAGE_SIZE, 0, frames, kernel_prop());
  let untracked: KVirtArea;
  unsafe: {
    // An MMIO hole: not tracked memory.
    untracked = KVirtArea.map_untracked_frames(PAGE_SIZE, 0, { start: 0xfe00_0000, end: 0xfe00_1000 }, kernel_prop());
  }
  const kpt = KERNEL_PAGE_TABLE.get_for_kernel();
  const t = kpt.page_walk(tracked.start());
  const u = kpt.page_walk(untracked.start());
  assert(t !== null && u !== null);
  assert((t![1].priv_flags & PrivilegedPageFlags.AVAIL1) !== 0, "a tracked mapping has AVAIL1");
  assert((u![1].priv_flags & PrivilegedPageFlags.AVAIL1) === 0, "an untracked one has not");
  // The MMU's view (Mirch's walk of the active table, the kernel table) agrees.
  const hw_t = arch_page_walk(tracked.start());
  const hw_u = arch_page_walk(untracked.start());
  assert(hw_t !== null && hw_u !== null);
  assert_eq(pte_flags(pte_new(0, hw_t!.flags)) & PteFlags.AVAIL1, PteFlags.AVAIL1);
  assert_eq(pte_flags(pte_new(0, hw_u!.flags)) & PteFlags.AVAIL1, 0);
  assert_eq(hw_u!.paddr, 0xfe00_0000);
  expect_tracked(tracked.query(tracked.start()));
  expect_untracked(untracked.query(untracked.start()));
  untracked.drop();
  tracked.drop();
  rcu_barrier();
});

// ───────────────────────────── kmiri's own ─────────────────────────────

// Reads and writes through an area's addresses, which the current CPU translates through the
// kernel page table and its TLB, after the flush the area's contract asks for. The pages are the
// frames' (the linear map sees the same bytes); a map offset leaves the first page unmapped; the
// drop gives the table's references to the frames back.
ktest("kvirt_area_read_write", () => {
  init();
  const frames = two_frames();
  const mine = frames.clone();
  const pa = frames.paddr();
  const kva = KVirtArea.map_frames(3 * PAGE_SIZE, PAGE_SIZE, frames, kernel_prop());
  tlb_flush_addr_range(kva.start(), kva.end());
  assert_eq(current_page_table_paddr(), KERNEL_PAGE_TABLE.get_for_kernel().root_paddr());
  assert(kva.query(kva.start()) === null, "the page before the map offset is not mapped");
  assert_eq(expect_tracked(kva.query(kva.start() + PAGE_SIZE)).frame.paddr(), pa);
  assert_eq(expect_tracked(kva.query(kva.start() + 2 * PAGE_SIZE + 8)).frame.paddr(), pa + PAGE_SIZE);
  // Each frame: the table's reference and ours.
  assert_eq(ref_count_of(pa), 2n);
  assert_eq(ref_count_of(pa + PAGE_SIZE), 2n);

  // Through the area, seen in the linear map; and back.
  write_u64(kva.start() + PAGE_SIZE + 16, 0x1122_3344_5566_7788n);
  write_u64(kva.start() + 2 * PAGE_SIZE + PAGE_SIZE - 8, 0xdead_beefn);
  assert_eq(read_u64(paddr_to_vaddr(pa + 16)), 0x1122_3344_5566_7788n);
  assert_eq(read_u64(paddr_to_vaddr(pa + 2 * PAGE_SIZE - 8)), 0xdead_beefn);
  write_u64(paddr_to_vaddr(pa + PAGE_SIZE), 42n);
  assert_eq(read_u64(kva.start() + 2 * PAGE_SIZE), 42n);
  // A read crossing the two pages of the area (two translations).
  const r = unwrap_io(mine.reader().skip(PAGE_SIZE - 8).read_val(u64));
  assert_eq(r, read_u64(kva.start() + 2 * PAGE_SIZE - 8));

  const va = kva.start();
  kva.drop();
  tlb_flush_addr_range(va, va + 3 * PAGE_SIZE);
  rcu_barrier();
  assert_eq(ref_count_of(pa), 1n);
  assert_eq(ref_count_of(pa + PAGE_SIZE), 1n);
  assert(KERNEL_PAGE_TABLE.get_for_kernel().page_walk(va + PAGE_SIZE) === null);
  mine.drop();
  assert_eq(page_state(pa).state, "free");
});


/** What the two CPUs of `kvirt_area_on_two_cpus` tell each other. */
const STAGE = static_(AtomicUsize, 0, { name: "KSPACE_TEST_STAGE" });
const OTHER_CPU = static_(AtomicUsize, 0, { name: "KSPACE_TEST_OTHER_CPU" });
const FLUSHED = static_(AtomicUsize, 0, { name: "KSPACE_TEST_FLUSHED" });

function wait_for_stage(stage: number): void {
  while (STAGE.as_ref().load("Acquire") !== stage) spin_loop();
}

// An area used on a second CPU, which runs the kernel table from its start (OSTD's AP entry). The
// area is dropped and its range, reused by a new area, holds another frame: before the second CPU
// reads it again, its TLB, which holds the old translation (to a frame freed since), is flushed by
// an inter-processor call — the TLB coherence the area's contract leaves to its user. Without the
// flush, the second read is `stale-tlb`.
ktest("kvirt_area_on_two_cpus", () => {
  init();
  const f1 = frames_of(1);
  const f2 = frames_of(1);
  write_u64(paddr_to_vaddr(f2.paddr()), 0x2222n);
  const first = KVirtArea.map_frames(PAGE_SIZE, 0, f1, kernel_prop());
  const va = first.start();
  tlb_flush_addr_range(va, va + PAGE_SIZE);
  write_u64(va, 0x1111n);

  const t = spawn(() => {
    unsafe: {
      // SAFETY: once on this CPU, before it uses kernel virtual addresses (`ap_early_entry`).
      activate_kernel_page_table();
    }
    OTHER_CPU.as_ref().store(current_cpu(), "Relaxed");
    STAGE.as_ref().store(1, "Release");
    wait_for_stage(2);
    assert_eq(read_u64(va), 0x1111n);
    STAGE.as_ref().store(3, "Release");
    wait_for_stage(4);
    assert_eq(read_u64(va), 0x2222n);
  });

  wait_for_stage(1);
  assert_eq(OTHER_CPU.as_ref().load("Relaxed"), 1);
  STAGE.as_ref().store(2, "Release");
  wait_for_stage(3);
  first.drop();
  const second = KVirtArea.map_frames(PAGE_SIZE, 0, f2, kernel_prop());
  assert_eq(second.start(), va, "the freed range is reused");
  // The TLB shootdown: the other CPU flushes the range in an interrupt handler; then this one.
  inter_processor_call(() => {
    tlb_flush_addr_range(va, va + PAGE_SIZE);
    FLUSHED.as_ref().fetch_add(1, "Release");
  }, [1]);
  while (FLUSHED.as_ref().load("Acquire") !== 1) spin_loop();
  tlb_flush_addr_range(va, va + PAGE_SIZE);
  assert_eq(read_u64(va), 0x2222n);
  STAGE.as_ref().store(4, "Release");
  t.join();
  second.drop();
  rcu_barrier();
});

// The kernel page table's own mappings, seen by `page_walk`, a cursor's `query` and the MMU: the
// linear map with 2 MiB pages up to the end of tracked memory, the frame metadata where the boot
// page table has it, and the kernel image where firmware put it; nothing in the vmalloc area.
ktest("kernel_page_table_mappings", () => {
  init();
  assert(!KERNEL_PAGE_TABLE.is_completed(), "built lazily");
  const kpt = KERNEL_PAGE_TABLE.get_for_kernel();
  assert(KERNEL_PAGE_TABLE.is_completed());
  const boot_root = boot_page_table_paddr();
  assert_eq(current_page_table_paddr(), kpt.root_paddr(), "the kernel table took over");
  const max = max_paddr();
  const kprop = kernel_prop();

  // The linear map.
  const lin = kpt.page_walk(paddr_to_vaddr(0x12_3456));
  assert(lin !== null && lin[0] === 0x12_3456 && PageProperty.eq(lin[1], kprop));
  assert(kpt.page_walk(paddr_to_vaddr(max - 8)) !== null);
  assert(kpt.page_walk(paddr_to_vaddr(max)) === null, "nothing past the tracked memory");
  const guard = disable_preempt();
  const cursor = unwrap_pt(kpt.cursor(guard, range(LINEAR_MAPPING_BASE_VADDR, LINEAR_MAPPING_BASE_VADDR + max)));
  unwrap_pt(cursor.jump(LINEAR_MAPPING_BASE_VADDR + 0x40_0000));
  const [slot, item] = unwrap_pt(cursor.query());
  const u = expect_untracked(item);
  assert_eq(u.level, 2, "2 MiB pages");
  assert_eq(u.paddr, 0x40_0000);
  assert_eq(slot.end - slot.start, 0x20_0000);
  cursor.drop();
  guard.release();

  // The metadata pages: where the boot page table maps them, and the MMU agrees.
  for (const frame of [0, max / 2, max - PAGE_SIZE]) {
    const va = frame_to_meta(frame);
    let in_boot: [Paddr, PageProperty] | null;
    unsafe: {
      // SAFETY: the boot page table is alive (no one frees it here).
      in_boot = page_walk(KernelPtConfig, boot_root, va);
    }
    const in_kernel = kpt.page_walk(va);
    assert(in_boot !== null && in_kernel !== null);
    assert_eq(in_kernel![0], in_boot![0]);
    assert(PageProperty.eq(in_kernel![1], kprop));
    assert_eq(arch_page_walk(va)!.paddr, in_kernel![0]);
    assert_eq(page_state(in_kernel![0]).state, "typed");
  }
  assert(kpt.page_walk(FRAME_METADATA_BASE_VADDR + (max / PAGE_SIZE) * 64 + PAGE_SIZE) === null);

  // The kernel image: where firmware's table has it, read-write-execute.
  for (const off of [0, 0x1000, 0x1f_f000]) {
    let in_boot: [Paddr, PageProperty] | null;
    unsafe: {
      in_boot = page_walk(KernelPtConfig, boot_root, KERNEL_CODE_BASE_VADDR + off);
    }
    const in_kernel = kpt.page_walk(KERNEL_CODE_BASE_VADDR + off);
    assert(in_boot !== null && in_kernel !== null);
    assert_eq(in_kernel![0], in_boot![0]);
    assert_eq(in_kernel![1].flags, PageFlags.RWX);
  }

  // Nothing in the vmalloc area yet.
  assert(kpt.page_walk(VMALLOC_VADDR_RANGE.end - PAGE_SIZE) === null);
  assert(arch_page_walk(VMALLOC_VADDR_RANGE.end - PAGE_SIZE) === null);
});

// A user table made from the kernel table shares its kernel half: the kernel's mappings, made
// before or after the user table, are seen through it, and the MMU sees them while it is active.
ktest("create_user_page_table_shares_kernel_half", () => {
  init();
  const before = KVirtArea.map_frames(PAGE_SIZE, 0, frames_of(1), kernel_prop());
  const user_pt = KERNEL_PAGE_TABLE.create_user_page_table();
  const after = KVirtArea.map_frames(PAGE_SIZE, 0, frames_of(1), kernel_prop());
  const kpt = KERNEL_PAGE_TABLE.get_for_kernel();
  for (const va of [before.start(), after.start(), paddr_to_vaddr(0x30_0000), frame_to_meta(0), KERNEL_CODE_BASE_VADDR]) {
    const k = kpt.page_walk(va);
    const u = user_pt.page_walk(va);
    assert(k !== null && u !== null && k[0] === u[0] && PageProperty.eq(k[1], u[1]));
  }
  // The user half is the user table's own.
  assert(user_pt.page_walk(0x40_0000) === null);
  unsafe: {
    // SAFETY: the user table shares the kernel half.
    user_pt.activate();
  }
  tlb_flush_addr_range(after.start(), after.end());
  write_u64(after.start() + 8, 7n);
  assert_eq(arch_page_walk(after.start())!.paddr, kpt.page_walk(after.start())![0]);
  assert_eq(read_u64(after.start() + 8), 7n);
  // Back to the kernel table: the CPU's reference to the user root goes with the switch.
  unsafe: {
    kpt.activate();
  }
  assert_eq(current_page_table_paddr(), kpt.root_paddr());
  user_pt.drop();
  after.drop();
  before.drop();
  rcu_barrier();
});

// `Split`: two areas from one, each unmapping its own half when dropped; the range allocator
// merges the freed halves again.
ktest("kvirt_area_split", () => {
  init();
  const frames = frames_of(3);
  const pa = frames.paddr();
  const area = KVirtArea.map_frames(4 * PAGE_SIZE, 0, frames, kernel_prop());
  const whole = area.range();
  const [left, right] = area.split(PAGE_SIZE);
  assert_eq(left.start(), whole.start);
  assert_eq(left.end(), right.start());
  assert_eq(right.end(), whole.end);
  assert_eq(expect_tracked(left.query(left.start())).frame.paddr(), pa);
  assert_eq(expect_tracked(right.query(right.start() + PAGE_SIZE)).frame.paddr(), pa + 2 * PAGE_SIZE);
  assert(right.query(right.end() - PAGE_SIZE) === null);
  right.drop();
  assert_eq(expect_tracked(left.query(left.start())).frame.paddr(), pa);
  left.drop();
  rcu_barrier();
  assert_eq(page_state(pa + 2 * PAGE_SIZE).state, "free");
  // The two halves came back as one range: an area of the whole size takes it again.
  const again = KVirtArea.map_frames(4 * PAGE_SIZE, 0, [] as Frame<undefined>[], kernel_prop());
  assert_eq(again.start(), whole.start);
  again.drop();
});

ktest.should_panic("kvirt_area_untracked_range_too_large", () => {
  init();
  unsafe: {
    KVirtArea.map_untracked_frames(PAGE_SIZE, PAGE_SIZE, { start: 0xfe00_0000, end: 0xfe00_1000 }, kernel_prop());
  }
}, "assertion failed");

// Two CPUs make, use and drop areas at the same time, before anyone built the kernel table: one
// builds it while the other waits, the range allocator and the page-table locks keep them apart.
// (Run with `--many-seeds`.)
ktest("kvirt_area_concurrent", () => {
  init();
  const work = (value: bigint) => () => {
    const frames = frames_of(2);
    const pa = frames.paddr();
    const area = KVirtArea.map_frames(2 * PAGE_SIZE, 0, frames, kernel_prop());
    tlb_flush_addr_range(area.start(), area.end());
    write_u64(area.start() + PAGE_SIZE, value);
    assert_eq(read_u64(paddr_to_vaddr(pa + PAGE_SIZE)), value);
    assert_eq(expect_tracked(area.query(area.start())).frame.paddr(), pa);
    const r = area.range();
    area.drop();
    return r;
  };
  const a = spawn(work(0xaaaan));
  const b = spawn(work(0xbbbbn));
  const ra = a.join();
  const rb = b.join();
  for (const r of [ra, rb]) assert(VMALLOC_VADDR_RANGE.start <= r.start && r.end <= VMALLOC_VADDR_RANGE.end);
  rcu_barrier();
});
