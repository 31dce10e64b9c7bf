// OSTD's `mm/test.rs` `mod vmspace` (asterinas/asterinas, ostd/src/mm/test.rs) as ktests with
// OSTD's names, then kmiri's own: user memory through a space's readers and writers, protection
// changes that take effect once flushed, unmapping a whole sub-tree, `map_iomem`'s edge cases, and
// cursors on overlapping ranges from two CPUs that both have the space active.
//
// Differences: Rust's drops are explicit (`drop()`, `release()`); a test frees what it allocates
// (the space, kept `IoMem`s, frames after an RCU grace period: `synchronize_rcu`) and switches its
// CPUs back to the kernel page table (`deactivate_for_test`). OSTD's `IOMEM_PADDR` (16 TiB) is
// past Mirch's physical map: Mirch's second MMIO hole, at 1 TiB, is used.
import { assert, assert_eq, ktest, panic, spawn, u64 } from "kmiri/rt";
import { PAGE_SIZE, page_state, type Paddr, type Vaddr } from "../../arch/mm.js";
import { init } from "../../boot.js";
import { init as io_init } from "../../io/init.js";
import { IoMem } from "../../io/io_mem/index.js";
import { Arc } from "../../sync/arc.js";
import { disable_preempt } from "../../sync/preempt.js";
import { synchronize_rcu } from "../../sync/rcu.js";
import { FrameAllocOptions, type UFrame } from "../frame/index.js";
import { Error, unwrap, type Result } from "../io.js";
import { KERNEL_PAGE_TABLE } from "../kspace/index.js";
import { range, type Range } from "../page_table/index.js";
import { CachePolicy, PageFlags, PageProperty } from "../page_table/page_prop.js";
import { rcu_barrier } from "../page_table/rcu_drop.js";
import { TlbFlushOp } from "../tlb/index.js";
import { Cursor, CursorMut, VmQueriedItem, VmSpace, deactivate_for_test, get_activated_vm_space } from "./index.js";

// ───────────────────────────── helpers ─────────────────────────────

/** `Result::expect`. */
function expect<T>(r: Result<T>, msg: string): T {
  if (!r.ok) return panic(`${msg}: ${r.error}`);
  return r.value;
}

/** A dummy `UFrame` (`create_dummy_frame`). */
function create_dummy_frame(): UFrame {
  const r = FrameAllocOptions.new().alloc_frame();
  if (!r.ok) return panic(`called \`Result::unwrap()\` on an \`Err\` value: ${String(r.error)}`);
  return r.value.into_uframe();
}

function range_eq(a: Range, b: Range): boolean {
  return a.start === b.start && a.end === b.end;
}

/** `assert_matches_mapped!(cursor, range, frame, prop)`. */
function assert_matches_mapped(cursor: Cursor | CursorMut, r: Range, frame: { paddr(): Paddr }, prop: PageProperty): void {
  const [va, item] = unwrap(cursor.query());
  assert(
    range_eq(va, r) && item !== null && item.kind === "MappedRam" && item.frame.paddr() === frame.paddr() && PageProperty.eq(item.prop, prop),
    "the slot does not map the frame with the property",
  );
}

/** `assert!(matches!(cursor.query().unwrap(), (r, None) if r == range))`. */
function assert_unmapped(cursor: Cursor | CursorMut, r: Range): void {
  const [va, item] = unwrap(cursor.query());
  assert(range_eq(va, r) && item === null, "the slot is mapped");
}

/** Frees what unmapped frames are waiting for: an RCU grace period (and the page table's own). */
function finish_grace_periods(): void {
  synchronize_rcu();
  rcu_barrier();
}

const R_WB = PageProperty.new_user(PageFlags.R, CachePolicy.Writeback);
const RW_WB = PageProperty.new_user(PageFlags.RW, CachePolicy.Writeback);

// ───────────────────────────── OSTD's tests ─────────────────────────────

ktest("vmspace_creation", () => {
  init();
  const vmspace = VmSpace.new();
  const r = range(0x0, 0x1000);
  const preempt_guard = disable_preempt();
  const cursor = expect(vmspace.cursor(preempt_guard, r), "failed to create the cursor");
  const q = cursor.query();
  assert(q.ok && range_eq(q.value[0], r) && q.value[1] === null);
  cursor.drop();
  preempt_guard.release();
  vmspace.drop();
});

ktest("vmspace_map_unmap", () => {
  init();
  const vmspace = VmSpace.default();
  const r = range(0x1000, 0x2000);
  const frame = create_dummy_frame();
  const prop = R_WB;
  const preempt_guard = disable_preempt();
  {
    const cursor_mut = expect(vmspace.cursor_mut(preempt_guard, r), "failed to create the mutable cursor");
    // Initially, the page is not mapped.
    assert_unmapped(cursor_mut, r);
    cursor_mut.map(frame.clone(), prop);
    cursor_mut.drop();
  }
  {
    const cursor = expect(vmspace.cursor(preempt_guard, r), "failed to create the cursor");
    assert_eq(cursor.virt_addr(), r.start);
    assert_matches_mapped(cursor, r, frame, prop);
    cursor.drop();
  }
  {
    const cursor_mut = expect(vmspace.cursor_mut(preempt_guard, r), "failed to create the mutable cursor");
    // OSTD passes `range.start` (0x1000) as the length: one page.
    assert_eq(cursor_mut.unmap(r.start), 1);
    cursor_mut.drop();
  }
  const cursor = expect(vmspace.cursor(preempt_guard, r), "failed to create the cursor");
  assert_unmapped(cursor, r);
  cursor.drop();
  preempt_guard.release();
  frame.drop();
  vmspace.drop();
  finish_grace_periods();
});

ktest.should_panic(
  "vmspace_map_twice",
  () => {
    init();
    const vmspace = VmSpace.default();
    const r = range(0x1000, 0x2000);
    const frame = create_dummy_frame();
    const prop = R_WB;
    const preempt_guard = disable_preempt();
    {
      const cursor_mut = expect(vmspace.cursor_mut(preempt_guard, r), "failed to create the mutable cursor");
      cursor_mut.map(frame.clone(), prop);
      cursor_mut.drop();
    }
    {
      const cursor = expect(vmspace.cursor(preempt_guard, r), "failed to create the cursor");
      assert_matches_mapped(cursor, r, frame, prop);
      cursor.drop();
    }
    const cursor_mut = expect(vmspace.cursor_mut(preempt_guard, r), "failed to create the mutable cursor");
    cursor_mut.map(frame.clone(), prop);
  },
  "mapping over an already mapped page",
);

ktest("vmspace_unmap_twice", () => {
  init();
  const vmspace = VmSpace.default();
  const r = range(0x1000, 0x2000);
  const frame = create_dummy_frame();
  const preempt_guard = disable_preempt();
  {
    const cursor_mut = expect(vmspace.cursor_mut(preempt_guard, r), "failed to create the mutable cursor");
    cursor_mut.map(frame.clone(), R_WB);
    cursor_mut.drop();
  }
  for (const expected of [1, 0]) {
    const cursor_mut = expect(vmspace.cursor_mut(preempt_guard, r), "failed to create the mutable cursor");
    assert_eq(cursor_mut.unmap(r.start), expected);
    cursor_mut.drop();
  }
  const cursor = expect(vmspace.cursor(preempt_guard, r), "failed to create the cursor");
  assert_unmapped(cursor, r);
  cursor.drop();
  preempt_guard.release();
  frame.drop();
  vmspace.drop();
  finish_grace_periods();
});

ktest("vmspace_activate", () => {
  init();
  const vmspace = Arc.new_value(VmSpace.new());
  // Activates the space.
  VmSpace.activate(vmspace);
  assert_eq(get_activated_vm_space().addr(), vmspace.as_ptr().addr());
  // Activating it again changes nothing.
  VmSpace.activate(vmspace);
  assert_eq(get_activated_vm_space().addr(), vmspace.as_ptr().addr());
  assert_eq(Arc.strong_count(vmspace), 2);
  // Another space replaces it (and drops the CPU's reference to it).
  const vmspace2 = Arc.new_value(VmSpace.new());
  VmSpace.activate(vmspace2);
  assert_eq(get_activated_vm_space().addr(), vmspace2.as_ptr().addr());
  assert_eq(Arc.strong_count(vmspace), 1);
  assert(!vmspace.value.cpus.contains(0, "Relaxed") && vmspace2.value.cpus.contains(0, "Relaxed"));
  deactivate_for_test();
  assert(get_activated_vm_space().is_null());
  vmspace.drop();
  vmspace2.drop();
});

ktest("cursor_mut_flusher", () => {
  init();
  const vmspace = VmSpace.new();
  const r = range(0x4000, 0x5000);
  const frame = create_dummy_frame();
  const prop = R_WB;
  const preempt_guard = disable_preempt();
  {
    const cursor_mut = expect(vmspace.cursor_mut(preempt_guard, r), "failed to create the mutable cursor");
    cursor_mut.map(frame.clone(), prop);
    cursor_mut.drop();
  }
  {
    // The mapping exists.
    const cursor = expect(vmspace.cursor(preempt_guard, r), "failed to create the cursor");
    assert_matches_mapped(cursor, r, frame, prop);
    cursor.drop();
  }
  {
    // Flushes the TLB through a mutable cursor.
    const cursor_mut = expect(vmspace.cursor_mut(preempt_guard, r), "failed to create the mutable cursor");
    cursor_mut.flusher().issue_tlb_flush(TlbFlushOp.for_all());
    cursor_mut.flusher().dispatch_tlb_flush();
    cursor_mut.drop();
  }
  {
    // The mapping still exists.
    const cursor = expect(vmspace.cursor(preempt_guard, r), "failed to create the cursor");
    assert_matches_mapped(cursor, r, frame, prop);
    cursor.drop();
  }
  preempt_guard.release();
  frame.drop();
  vmspace.drop();
});

ktest("vmspace_reader_writer", () => {
  init();
  const vmspace = Arc.new_value(VmSpace.new());
  const r = range(0x4000, 0x5000);
  const preempt_guard = disable_preempt();
  {
    const cursor_mut = expect(vmspace.value.cursor_mut(preempt_guard, r), "failed to create the mutable cursor");
    cursor_mut.map(create_dummy_frame(), R_WB);
    cursor_mut.drop();
  }
  preempt_guard.release();
  // The space is not the current CPU's yet.
  assert(!vmspace.value.reader(0x4000, 0x1000).ok);
  assert(!vmspace.value.writer(0x4000, 0x1000).ok);
  VmSpace.activate(vmspace);
  assert(vmspace.value.reader(0x4000, 0x1000).ok);
  assert(vmspace.value.writer(0x4000, 0x1000).ok);
  // Out of user space (`usize::MAX` bytes).
  assert(!vmspace.value.reader(0x4000, Number.MAX_SAFE_INTEGER).ok);
  assert(!vmspace.value.writer(0x4000, Number.MAX_SAFE_INTEGER).ok);
  deactivate_for_test();
  vmspace.drop();
});

ktest("overlapping_cursors", () => {
  init();
  const vmspace = VmSpace.new();
  const range1 = range(0x5000, 0x6000);
  const range2 = range(0x5800, 0x6800); // Overlaps range1.
  const preempt_guard = disable_preempt();
  const cursor1 = expect(vmspace.cursor(preempt_guard, range1), "failed to create first cursor");
  // The second, overlapping cursor is refused (its range is not page-aligned).
  const cursor2_result = vmspace.cursor(preempt_guard, range2);
  assert(!cursor2_result.ok);
  cursor1.drop();
  preempt_guard.release();
  vmspace.drop();
});

ktest("protect_next", () => {
  init();
  const vmspace = VmSpace.new();
  const r = range(0x7000, 0x8000);
  const frame = create_dummy_frame();
  const preempt_guard = disable_preempt();
  {
    const cursor_mut = expect(vmspace.cursor_mut(preempt_guard, r), "failed to create the mutable cursor");
    cursor_mut.map(frame.clone(), RW_WB);
    expect(cursor_mut.jump(r.start), "failed to jump cursor");
    const protected_range = cursor_mut.protect_next(0x1000, (p) => {
      p.flags = PageFlags.R;
    });
    assert(protected_range !== null && range_eq(protected_range, range(0x7000, 0x8000)));
    cursor_mut.drop();
  }
  // The property was updated.
  const cursor = expect(vmspace.cursor(preempt_guard, r), "failed to create the cursor");
  assert_matches_mapped(cursor, r, frame, R_WB);
  cursor.drop();
  preempt_guard.release();
  frame.drop();
  vmspace.drop();
});

ktest.should_panic("unaligned_unmap_panics", () => {
  init();
  const vmspace = VmSpace.new();
  const r = range(0xa000, 0xb000);
  const preempt_guard = disable_preempt();
  const cursor_mut = expect(vmspace.cursor_mut(preempt_guard, r), "failed to create the mutable cursor");
  cursor_mut.unmap(0x800); // Not page-aligned.
});

ktest.should_panic("protect_out_range_page", () => {
  init();
  const vmspace = VmSpace.new();
  const r = range(0xb000, 0xc000);
  const preempt_guard = disable_preempt();
  const cursor_mut = expect(vmspace.cursor_mut(preempt_guard, r), "failed to create the mutable cursor");
  cursor_mut.protect_next(0x2000, () => {}); // Past the cursor's range.
});

/** Mirch's second MMIO hole (OSTD's test uses 16 TiB, "beyond typical physical memory"). */
const IOMEM_PADDR = 0x100_0000_0000;

/** A query's `MappedIoMem` at `paddr` with `prop`'s flags and cache policy. */
function assert_mapped_iomem(item: VmQueriedItem | null, paddr: Paddr, prop: PageProperty): void {
  assert(
    item !== null && item.kind === "MappedIoMem" && item.paddr === paddr && item.prop.flags === prop.flags && item.prop.cache === prop.cache,
    "the slot does not map the I/O memory",
  );
}

/** `find_iomem_by_paddr(paddr)` is `Some((iomem, offset))` with that `IoMem`'s range. */
function assert_found_iomem(cursor_mut: CursorMut, paddr: Paddr, start: Paddr, size: number, offset: number): void {
  const found = cursor_mut.find_iomem_by_paddr(paddr);
  if (found === null) return panic("called `Option::unwrap()` on a `None` value");
  const [found_iomem, found_offset] = found;
  assert_eq(found_iomem.paddr(), start);
  assert_eq(found_iomem.size(), size);
  assert_eq(found_offset, offset);
  found_iomem.drop();
}

ktest("vmspace_map_query_iomem", () => {
  init();
  io_init();
  const vmspace = VmSpace.new();
  const r = range(0x1000, 0x2000);
  const iomem = unwrap(IoMem.acquire(IOMEM_PADDR, IOMEM_PADDR + 0x1000));
  const prop = PageProperty.new_user(PageFlags.RW, CachePolicy.Uncacheable);
  const preempt_guard = disable_preempt();
  {
    const cursor_mut = expect(vmspace.cursor_mut(preempt_guard, r), "failed to create the mutable cursor");
    assert_unmapped(cursor_mut, r);
    cursor_mut.map_iomem(iomem.clone(), prop, 0x1000, 0);
    cursor_mut.drop();
  }
  {
    const cursor = expect(vmspace.cursor(preempt_guard, r), "failed to create the cursor");
    assert_eq(cursor.virt_addr(), r.start);
    const [query_range, query_item] = unwrap(cursor.query());
    assert(range_eq(query_range, r));
    assert_mapped_iomem(query_item, IOMEM_PADDR, prop);
    cursor.drop();
  }
  {
    const cursor_mut = expect(vmspace.cursor_mut(preempt_guard, r), "failed to create the mutable cursor");
    assert_found_iomem(cursor_mut, IOMEM_PADDR, IOMEM_PADDR, 0x1000, 0);
    // With an offset.
    assert_found_iomem(cursor_mut, IOMEM_PADDR + 0x80, IOMEM_PADDR, 0x1000, 0x80);
    // An address no kept `IoMem` holds.
    assert(cursor_mut.find_iomem_by_paddr(IOMEM_PADDR + 0x1000) === null);
    cursor_mut.drop();
  }
  preempt_guard.release();
  iomem.drop();
  vmspace.drop();
});

ktest("vmspace_map_iomem_with_offset", () => {
  init();
  io_init();
  const vmspace = VmSpace.new();
  const r = range(0x2000, 0x3000);
  const iomem = unwrap(IoMem.acquire(IOMEM_PADDR + 0x1000, IOMEM_PADDR + 0x3000));
  const prop = PageProperty.new_user(PageFlags.RW, CachePolicy.Uncacheable);
  const preempt_guard = disable_preempt();
  {
    const cursor_mut = expect(vmspace.cursor_mut(preempt_guard, r), "failed to create the mutable cursor");
    cursor_mut.map_iomem(iomem.clone(), prop, 0x1000, 0x1000);
    cursor_mut.drop();
  }
  {
    const cursor = expect(vmspace.cursor(preempt_guard, r), "failed to create the cursor");
    const [query_range, query_item] = unwrap(cursor.query());
    assert(range_eq(query_range, r));
    assert_mapped_iomem(query_item, IOMEM_PADDR + 0x2000, prop);
    cursor.drop();
  }
  {
    const cursor_mut = expect(vmspace.cursor_mut(preempt_guard, r), "failed to create the mutable cursor");
    assert_found_iomem(cursor_mut, IOMEM_PADDR + 0x2000, IOMEM_PADDR + 0x1000, 0x2000, 0x1000);
    cursor_mut.drop();
  }
  preempt_guard.release();
  iomem.drop();
  vmspace.drop();
});

ktest("vmspace_iomem_persistence", () => {
  init();
  io_init();
  const vmspace = VmSpace.new();
  const r = range(0x3000, 0x4000);
  const iomem = unwrap(IoMem.acquire(IOMEM_PADDR + 0x3000, IOMEM_PADDR + 0x4000));
  const prop = PageProperty.new_user(PageFlags.RW, CachePolicy.Uncacheable);
  const preempt_guard = disable_preempt();
  const with_cursor_mut = (f: (c: CursorMut) => void): void => {
    const cursor_mut = expect(vmspace.cursor_mut(preempt_guard, r), "failed to create the mutable cursor");
    f(cursor_mut);
    cursor_mut.drop();
  };
  with_cursor_mut((c) => c.map_iomem(iomem.clone(), prop, 0x1000, 0));
  // The space keeps the `IoMem`.
  with_cursor_mut((c) => assert_found_iomem(c, IOMEM_PADDR + 0x3000, IOMEM_PADDR + 0x3000, 0x1000, 0));
  // Unmapping it (I/O memory is not a frame: 0 frames unmapped) ...
  with_cursor_mut((c) => assert_eq(c.unmap(0x1000), 0));
  // ... keeps it in the space.
  with_cursor_mut((c) => assert_found_iomem(c, IOMEM_PADDR + 0x3000, IOMEM_PADDR + 0x3000, 0x1000, 0));
  preempt_guard.release();
  iomem.drop();
  // The range stays claimed while the space keeps it: a new acquisition fails.
  assert(!IoMem.acquire(IOMEM_PADDR + 0x3000, IOMEM_PADDR + 0x4000).ok);
  vmspace.drop();
  // Dropping the space gives it back.
  unwrap(IoMem.acquire(IOMEM_PADDR + 0x3000, IOMEM_PADDR + 0x4000)).drop();
});

// ───────────────────────────── kmiri's own ─────────────────────────────

const USER_VA: Vaddr = 0x40_0000;

/** A space, active on this CPU, with one fresh frame mapped RW at `USER_VA`; the frame's address. */
function active_space_with_page(): [Arc<VmSpace>, Paddr] {
  const vmspace = Arc.new_value(VmSpace.new());
  const frame = create_dummy_frame();
  const paddr = frame.paddr();
  const guard = disable_preempt();
  const c = expect(vmspace.value.cursor_mut(guard, range(USER_VA, USER_VA + PAGE_SIZE)), "failed to create the mutable cursor");
  c.map(frame, RW_WB);
  c.drop();
  guard.release();
  VmSpace.activate(vmspace);
  return [vmspace, paddr];
}

// User memory through the space: what a writer puts at a user address is in the frame mapped
// there, and a reader reads it back; past the mapping, both fault.
ktest("vmspace_user_access_through_mapping", () => {
  init();
  const [vmspace, paddr] = active_space_with_page();
  const space = vmspace.value;
  unwrap(unwrap(space.writer(USER_VA + 8, 8)).write_val(u64, 0x1122_3344_5566_7788n));
  assert_eq(unwrap(unwrap(space.reader(USER_VA + 8, 8)).read_val(u64)), 0x1122_3344_5566_7788n);
  const [reader, writer] = unwrap(space.reader_writer(USER_VA + PAGE_SIZE, 8));
  const rr = reader.read_val(u64);
  assert(!rr.ok && rr.error === Error.PageFault);
  const wr = writer.write_val(u64, 1n);
  assert(!wr.ok && wr.error === Error.PageFault);
  assert(!space.reader_writer(MAX_USER_END, PAGE_SIZE).ok);
  // The frame holds what was written, seen from the kernel through the linear map.
  const guard = disable_preempt();
  const cursor = expect(space.cursor(guard, range(USER_VA, USER_VA + PAGE_SIZE)), "failed to create the cursor");
  const [, item] = unwrap(cursor.query());
  assert(item !== null && item.kind === "MappedRam" && item.frame.paddr() === paddr);
  if (item !== null && item.kind === "MappedRam") {
    const r = item.frame.deref().reader();
    r.skip(8);
    assert_eq(unwrap(r.read_val(u64)), 0x1122_3344_5566_7788n);
  }
  cursor.drop();
  guard.release();
  deactivate_for_test();
  vmspace.drop();
});

/** The last user page (a range reaching past it is not user space). */
const MAX_USER_END = 0x7fff_ffff_f000;

// `protect_next` does not flush: the CPU's TLB may keep the writable translation until the cursor's
// flusher flushes it; after that, a write faults.
ktest("protect_takes_effect_after_flush", () => {
  init();
  const [vmspace, paddr] = active_space_with_page();
  const space = vmspace.value;
  // A write fills this CPU's TLB with a writable translation.
  unwrap(unwrap(space.writer(USER_VA, 8)).write_val(u64, 7n));
  const guard = disable_preempt();
  const c = expect(space.cursor_mut(guard, range(USER_VA, USER_VA + PAGE_SIZE)), "failed to create the mutable cursor");
  const protected_range = c.protect_next(PAGE_SIZE, (p) => {
    p.flags = PageFlags.R;
  });
  assert(protected_range !== null && range_eq(protected_range, range(USER_VA, USER_VA + PAGE_SIZE)));
  // This CPU is in the space's set: the flush is done here, at dispatch.
  c.flusher().issue_tlb_flush(TlbFlushOp.for_range(protected_range!));
  c.flusher().dispatch_tlb_flush();
  c.flusher().sync_tlb_flush();
  c.drop();
  guard.release();
  const w = unwrap(space.writer(USER_VA, 8)).write_val(u64, 8n);
  assert(!w.ok && w.error === Error.PageFault, "a write to a read-only page went through");
  assert_eq(unwrap(unwrap(space.reader(USER_VA, 8)).read_val(u64)), 7n);
  deactivate_for_test();
  vmspace.drop();
  assert_eq(page_state(paddr).state, "free");
});

// Unmapping a whole 2 MiB region takes its level-1 table out as one fragment (`StrayPageTable`,
// flushed as a range, the table and its frames freed after the grace period); a partial unmap
// takes pages one by one. A read-only cursor then finds nothing there.
ktest("unmap_whole_subtree", () => {
  init();
  const vmspace = VmSpace.new();
  const HUGE = PAGE_SIZE * 512;
  const base = HUGE * 4;
  // Two 2 MiB regions: the cursor's top node is the level-2 one, whose entry for `base` the unmap
  // takes out whole.
  const r = range(base, base + 2 * HUGE);
  const pages = [0, 1, 5, 511].map((i) => base + i * PAGE_SIZE);
  const paddrs: Paddr[] = [];
  const guard = disable_preempt();
  {
    const c = expect(vmspace.cursor_mut(guard, r), "failed to create the mutable cursor");
    for (const va of pages) {
      expect(c.jump(va), "failed to jump cursor");
      const f = create_dummy_frame();
      paddrs.push(f.paddr());
      c.map(f, RW_WB);
    }
    // A partial range: only the page at `base + PAGE_SIZE` is in it.
    expect(c.jump(base + PAGE_SIZE), "failed to jump cursor");
    assert_eq(c.unmap(3 * PAGE_SIZE), 1);
    expect(c.jump(base), "failed to jump cursor");
    assert_eq(c.find_next(HUGE), base);
    c.drop();
  }
  {
    // A new cursor starts at its top node: both regions are one sub-tree with the 3 frames left,
    // and nothing in the second.
    const c = expect(vmspace.cursor_mut(guard, r), "failed to create the mutable cursor");
    assert_eq(c.unmap(2 * HUGE), 3);
    c.drop();
  }
  {
    const c = expect(vmspace.cursor(guard, r), "failed to create the cursor");
    assert(c.find_next(2 * HUGE) === null);
    expect(c.jump(base + 5 * PAGE_SIZE), "failed to jump cursor");
    assert_unmapped(c, range(base, base + HUGE));
    assert(!c.jump(base + 2 * HUGE).ok, "a jump out of the cursor's range");
    c.drop();
  }
  guard.release();
  finish_grace_periods();
  for (const pa of paddrs) assert_eq(page_state(pa).state, "free");
  vmspace.drop();
});

// `map_iomem` past the end of the `IoMem` maps what there is; at an offset past it, nothing (and
// the `IoMem` handed over is dropped); the same range twice is kept once.
ktest("map_iomem_edges", () => {
  init();
  io_init();
  const vmspace = VmSpace.new();
  const iomem = unwrap(IoMem.acquire(IOMEM_PADDR + 0x8000, IOMEM_PADDR + 0xa000));
  const prop = PageProperty.new_user(PageFlags.R, CachePolicy.Uncacheable);
  const guard = disable_preempt();
  const c = expect(vmspace.cursor_mut(guard, range(0x10_0000, 0x10_8000)), "failed to create the mutable cursor");
  // 4 pages asked from offset 0x1000: one is left.
  c.map_iomem(iomem.clone(), prop, 4 * PAGE_SIZE, 0x1000);
  assert_eq(c.virt_addr(), 0x10_1000);
  // Offset past the end: nothing mapped, nothing kept.
  c.map_iomem(iomem.clone(), prop, PAGE_SIZE, 0x2000);
  assert_eq(c.virt_addr(), 0x10_1000);
  // The same range again: mapped, kept once.
  c.map_iomem(iomem.clone(), prop, 2 * PAGE_SIZE, 0);
  assert_eq(c.virt_addr(), 0x10_3000);
  expect(c.jump(0x10_0000), "failed to jump cursor");
  const [, first] = unwrap(c.query());
  assert_mapped_iomem(first, IOMEM_PADDR + 0x9000, prop);
  expect(c.jump(0x10_2000), "failed to jump cursor");
  const [, third] = unwrap(c.query());
  assert_mapped_iomem(third, IOMEM_PADDR + 0x9000, prop);
  assert_eq(VmQueriedItem.prop(third!).cache, CachePolicy.Uncacheable);
  c.drop();
  guard.release();
  iomem.drop();
  vmspace.drop();
  // Every `IoMem` of the acquisition is gone: the range is free again.
  unwrap(IoMem.acquire(IOMEM_PADDR + 0x8000, IOMEM_PADDR + 0xa000)).drop();
});

// Two CPUs with the space active, each working with cursors on overlapping ranges: CPU 1 maps a
// page and unmaps it in one cursor, again and again; CPU 0 locks a larger range around it, sees
// either nothing or only its own mappings (a cursor's changes are one transaction), maps and
// unmaps there. Each unmap sends a flush to the other CPU, which may be spinning for a node lock.
ktest("overlapping_cursors_on_two_cpus", () => {
  init();
  const vmspace = Arc.new_value(VmSpace.new());
  const space = vmspace.value;
  const whole = range(0x20_0000, 0x20_0000 + 4 * PAGE_SIZE);
  const small = range(0x20_1000, 0x20_2000);
  VmSpace.activate(vmspace);
  const t = spawn(() => {
    // This CPU's early boot: the kernel page table takes over (OSTD's `ap_early_entry`).
    KERNEL_PAGE_TABLE.get_for_kernel();
    VmSpace.activate(vmspace);
    for (let round = 0; round < 3; round++) {
      const guard = disable_preempt();
      const c = expect(space.cursor_mut(guard, small), "failed to create the mutable cursor");
      const frame = create_dummy_frame();
      const paddr = frame.paddr();
      c.map(frame, RW_WB);
      expect(c.jump(small.start), "failed to jump cursor");
      const [, item] = unwrap(c.query());
      assert(item !== null && item.kind === "MappedRam" && item.frame.paddr() === paddr, "a cursor saw another cursor's change");
      expect(c.jump(small.start), "failed to jump cursor");
      assert_eq(c.unmap(PAGE_SIZE), 1);
      c.drop();
      guard.release();
    }
    deactivate_for_test();
  });
  for (let round = 0; round < 3; round++) {
    const guard = disable_preempt();
    const c = expect(space.cursor_mut(guard, whole), "failed to create the mutable cursor");
    assert(c.find_next(4 * PAGE_SIZE) === null, "a cursor saw another cursor's half-done work");
    expect(c.jump(whole.start), "failed to jump cursor");
    for (let i = 0; i < 4; i++) c.map(create_dummy_frame(), R_WB);
    expect(c.jump(whole.start), "failed to jump cursor");
    assert_eq(c.unmap(4 * PAGE_SIZE), 4);
    c.drop();
    guard.release();
  }
  t.join();
  deactivate_for_test();
  vmspace.drop();
  finish_grace_periods();
});
