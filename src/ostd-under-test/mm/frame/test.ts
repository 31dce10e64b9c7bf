// OSTD's frame tests (ostd/src/mm/frame/test.rs, and `test_alloc_dealloc` of allocator.rs) as
// kmiri ktests with their names, plus multi-CPU tests of the reference-count protocol (run them
// with `--many-seeds`). Every test boots first (`init()`) and frees what it allocates.
import {
  AtomicU32, array, assert, assert_eq, alloc_zeroed, dealloc, ktest, spawn, spin_loop, static_, struct, u32, u8, yield_now,
  type JoinHandle,
} from "kmiri/rt";
import { init, set_mem_limit } from "../../boot.js";
import {
  PAGE_SIZE, PteFlags, activate_page_table, boot_page_table_paddr, current_page_table_paddr, page_state, page_walk,
  pte_flags, pte_new, pte_paddr, tlb_flush_addr, tlb_flush_addr_range, tlb_flush_all_excluding_global,
  tlb_flush_all_including_global,
} from "../../arch/mm.js";
import { current_cpu, num_cpus } from "../../arch/cpu.js";
import { range_difference_all } from "./allocator.js";
import { VmReader, VmWriter } from "../io.js";
import {
  Frame, FrameAllocOptions, Link, LinkedList, NonNullPtr, Segment, UniqueFrame, impl_frame_meta_for,
  impl_untyped_frame_meta_for, type DynMeta, type Error, type FrameRef, type UFrame, type USegment,
} from "./index.js";
import { MetaPageMeta, frame_to_meta, is_initialized, unwrap, type Result } from "./meta.js";

/** Typed mock metadata. */
const MockFrameMeta = impl_frame_meta_for("MockFrameMeta", struct("MockFrameMeta", { value: u32 }));
/** Untyped mock metadata. */
const MockUFrameMeta = impl_untyped_frame_meta_for("MockUFrameMeta", struct("MockUFrameMeta", { value: u32 }));

/** `Result::unwrap_err`. */
function unwrap_err<T, E>(r: Result<T, E>): E {
  if (r.ok) throw new Error("called `Result::unwrap_err()` on an `Ok` value");
  return r.error;
}

function expect<T>(r: Result<T, unknown>, msg: string): T {
  return unwrap(r, msg);
}

// ───────────────────────────── frame ─────────────────────────────

ktest("frame_allocation", () => {
  init();
  const frame = expect(FrameAllocOptions.new().alloc_frame_with(MockFrameMeta.of({ value: 42 })), "Failed to allocate single frame");
  assert_eq(frame.meta().read().value, 42);
  assert_eq(frame.reference_count(), 1n);
  assert_eq(frame.size(), PAGE_SIZE);
  assert_eq(frame.map_level(), 1);
  frame.drop();
});

ktest("frame_clone", () => {
  init();
  const frame1 = expect(FrameAllocOptions.new().alloc_frame_with(MockFrameMeta.of({ value: 42 })), "Failed to allocate single frame");
  const frame2 = frame1.clone();
  assert_eq(frame1.paddr(), frame2.paddr());
  assert_eq(frame1.meta().read().value, frame2.meta().read().value);
  assert_eq(frame1.reference_count(), 2n);
  assert_eq(frame2.reference_count(), 2n);
  frame2.drop();
  frame1.drop();
});

ktest("frame_drop", () => {
  init();
  const frame = expect(FrameAllocOptions.new().alloc_frame_with(MockFrameMeta.of({ value: 42 })), "Failed to allocate single frame");
  const ref_count_before = frame.reference_count();
  const paddr_before = frame.paddr();
  assert_eq(ref_count_before, 1n);
  frame.drop();
  // Freed: the page is free again for Mirch, and the allocator's cache hands it out next.
  assert_eq(page_state(paddr_before).state, "free");
  const new_frame = expect(FrameAllocOptions.new().alloc_frame_with(MockFrameMeta.of({ value: 42 })), "Failed to allocate single frame");
  assert_eq(new_frame.paddr(), paddr_before);
  assert_eq(new_frame.reference_count(), 1n);
  assert_eq(new_frame.meta().read().value, 42);
  new_frame.drop();
});

ktest("frame_to_uframe", () => {
  init();
  const frame = unwrap(FrameAllocOptions.new().alloc_frame_with(MockUFrameMeta.of({ value: 42 })));
  const uframe: UFrame = frame.into_uframe();
  assert_eq(uframe.size(), PAGE_SIZE);
  uframe.drop();
});

ktest("frame_conversions", () => {
  init();
  const frame = unwrap(FrameAllocOptions.new().alloc_frame_with(MockFrameMeta.of({ value: 42 })));
  const dyn_frame: Frame<DynMeta> = frame.into_dyn();
  assert(!dyn_frame.dyn_meta().is_untyped());
  // Not untyped: `UFrame::try_from` gives it back.
  const back = unwrap_err(Frame.try_into_uframe(dyn_frame));
  // Not of another type either.
  const wrong = unwrap_err(Frame.try_from(back, MockUFrameMeta));
  const result = Frame.try_from(wrong, MockFrameMeta);
  assert(result.ok);
  const typed = unwrap(result);
  assert_eq(typed.meta().read().value, 42);
  typed.drop();
});

// ───────────────────────────── linked_list ─────────────────────────────

function link_frame(value: number): Frame<ReturnType<typeof Link.new<{ value: number }>>["value"]> {
  return unwrap(FrameAllocOptions.new().alloc_frame_with(Link.new(MockUFrameMeta.of({ value }))));
}

function to_unique<M>(frame: Frame<M>): UniqueFrame<M> {
  return unwrap(UniqueFrame.try_from(frame));
}

ktest("linked_list_push_pop", () => {
  init();
  const frame1 = link_frame(1);
  const frame2 = link_frame(2);
  const frame3 = link_frame(3);

  const list = LinkedList.new(MockUFrameMeta);
  assert(list.is_empty());
  list.push_front(to_unique(frame1)); // 1
  list.push_front(to_unique(frame2)); // 2 1
  list.push_back(to_unique(frame3)); // 2 1 3
  assert_eq(list.size(), 3);

  const cursor = list.cursor_front_mut();
  assert_eq(cursor.current_meta()!.read().value, 2);
  cursor.move_next();
  assert_eq(cursor.current_meta()!.read().value, 1);
  cursor.move_next();
  assert_eq(cursor.current_meta()!.read().value, 3);
  cursor.move_next();
  assert(cursor.current_meta() === null);
  assert_eq(cursor.as_list().size(), 3);

  const a = list.pop_front()!;
  assert_eq(a.meta().read().meta.value, 2);
  assert_eq(list.size(), 2);
  const b = list.pop_back()!;
  assert_eq(b.meta().read().meta.value, 3);
  assert_eq(list.size(), 1);
  const c = list.pop_front()!;
  assert_eq(c.meta().read().meta.value, 1);
  assert_eq(list.size(), 0);
  assert(list.pop_front() === null);
  a.drop();
  b.drop();
  c.drop();
  list.drop();
});

ktest("linked_list_cursor_at", () => {
  init();
  const frame1 = link_frame(1);
  const frame1_addr = frame1.paddr();
  const frame2 = link_frame(2);
  const frame2_addr = frame2.paddr();
  const frame3 = link_frame(3);
  const frame3_addr = frame3.paddr();
  const frame_outside = link_frame(4);

  const list = LinkedList.new(MockUFrameMeta);
  list.push_front(to_unique(frame1));
  list.push_front(to_unique(frame2));
  list.push_front(to_unique(frame3));

  assert(!list.contains(frame_outside.paddr()));
  assert(list.cursor_mut_at(frame_outside.paddr()) === null);
  assert(!list.contains(frame1_addr + 1)); // not a frame address
  assert(list.cursor_mut_at(frame1_addr + 1) === null);

  assert(list.contains(frame1_addr));
  assert(list.contains(frame2_addr));
  assert(list.contains(frame3_addr));

  assert_eq(list.cursor_mut_at(frame1_addr)!.current_meta()!.read().value, 1);
  assert_eq(list.cursor_mut_at(frame2_addr)!.current_meta()!.read().value, 2);
  assert_eq(list.cursor_mut_at(frame3_addr)!.current_meta()!.read().value, 3);

  frame_outside.drop();
  list.drop();
});

ktest("linked_list_cursor_ops", () => {
  init();
  const [frame1, frame2, frame3, frame4, frame5] = [1, 2, 3, 4, 5].map(link_frame);

  const list = LinkedList.new(MockUFrameMeta);
  assert(list.is_empty());
  list.push_front(to_unique(frame1!)); // 1 *()
  list.push_front(to_unique(frame2!)); // 2 *1 ()
  assert_eq(list.size(), 2);

  let cursor = list.cursor_front_mut(); // *2 1 ()
  assert_eq(cursor.current_meta()!.read().value, 2);
  cursor.move_next(); // 2 *1 ()
  assert_eq(cursor.current_meta()!.read().value, 1);
  cursor.insert_before(to_unique(frame3!)); // 2 3 *1 ()
  assert_eq(cursor.current_meta()!.read().value, 1);
  cursor.insert_before(to_unique(frame4!)); // 2 3 4 *1 ()
  assert_eq(cursor.current_meta()!.read().value, 1);
  cursor.move_next(); // 2 3 4 1 *()
  assert(cursor.current_meta() === null);
  cursor.insert_before(to_unique(frame5!)); // 2 3 4 1 5 *()
  assert(cursor.current_meta() === null);
  assert_eq(cursor.as_list().size(), 5);

  cursor = list.cursor_front_mut();
  for (const v of [2, 3, 4, 1, 5]) {
    assert_eq(cursor.current_meta()!.read().value, v);
    cursor.move_next();
  }
  assert(cursor.current_meta() === null); // 2 3 4 1 5 *()

  cursor.move_prev(); // 2 3 4 1 *5 ()
  assert_eq(cursor.current_meta()!.read().value, 5);
  cursor.move_prev(); // 2 3 4 *1 5 ()
  assert_eq(cursor.current_meta()!.read().value, 1);

  const f1 = cursor.take_current()!; // 2 3 4 *5 ()
  assert_eq(f1.meta().read().meta.value, 1);
  assert_eq(cursor.current_meta()!.read().value, 5);
  cursor.move_next(); // 2 3 4 5 *()
  assert(cursor.current_meta() === null);
  for (const v of [5, 4, 3, 2]) {
    cursor.move_prev();
    assert_eq(cursor.current_meta()!.read().value, v);
  }
  // *2 3 4 5 ()
  const f2 = cursor.take_current()!; // *3 4 5 ()
  assert_eq(f2.meta().read().meta.value, 2);
  assert_eq(cursor.current_meta()!.read().value, 3);
  cursor.move_next(); // 3 *4 5 ()
  assert_eq(cursor.current_meta()!.read().value, 4);
  cursor.move_next(); // 3 4 *5 ()
  assert_eq(cursor.current_meta()!.read().value, 5);
  const f5 = cursor.take_current()!; // 3 4 *()
  assert_eq(f5.meta().read().meta.value, 5);
  assert(cursor.current_meta() === null);
  assert(cursor.take_current() === null);
  assert_eq(cursor.as_list().size(), 2);

  f1.drop();
  f2.drop();
  f5.drop();
  list.drop();
});

// ───────────────────────────── segment ─────────────────────────────

ktest("segment_creation", () => {
  init();
  const range = { start: 512 * PAGE_SIZE, end: 1024 * PAGE_SIZE };
  const segment = expect(FrameAllocOptions.new().alloc_segment((range.end - range.start) / PAGE_SIZE), "Failed to allocate segment");
  assert_eq(segment.size(), range.end - range.start);
  assert_eq(segment.end_paddr() - segment.paddr(), range.end - range.start);
  segment.drop();
});

ktest.should_panic("max_segment_creation", () => {
  init();
  // `usize::MAX` frames: the allocation's size overflows.
  FrameAllocOptions.new().alloc_segment(2 ** 64 - 1);
});

ktest("empty_segment_creation", () => {
  init();
  const result = FrameAllocOptions.new().alloc_segment(0);
  assert(!result.ok && result.error === ("InvalidArgs" satisfies Error), "Expected `InvalidArgs` error when allocating a zero-sized segment");
});

ktest("zeroed_segment_creation", () => {
  init();
  // Dirty a frame first, so that the zeroing is what the test sees.
  const dirty = unwrap(FrameAllocOptions.new().alloc_segment(1));
  const w = dirty.writer();
  while (w.avail() > 0) w.write_val(u32, 0xdead_beef);
  const paddr = dirty.paddr();
  dirty.drop();

  const segment = expect(FrameAllocOptions.new().zeroed(true).alloc_segment(1), "Failed to allocate segment");
  assert_eq(segment.paddr(), paddr);
  const reader = segment.reader();
  unsafe: {
    const buffer = alloc_zeroed(array(u8, PAGE_SIZE));
    buffer.write(new Array<number>(PAGE_SIZE).fill(1));
    reader.read(VmWriter.from(buffer.as_mut()));
    assert(buffer.read().every((x) => x === 0));
    dealloc(buffer, array(u8, PAGE_SIZE));
  }
  segment.drop();
});

ktest("segment_split", () => {
  init();
  const segment = expect(FrameAllocOptions.new().alloc_segment(2), "Failed to allocate segment");
  const [first, second] = segment.split(PAGE_SIZE);
  assert_eq(first.size(), PAGE_SIZE);
  assert_eq(second.size(), PAGE_SIZE);
  first.drop();
  second.drop();
});

ktest("segment_slice", () => {
  init();
  const segment = expect(FrameAllocOptions.new().alloc_segment(3), "Failed to allocate segment");
  const slice = segment.slice({ start: PAGE_SIZE, end: PAGE_SIZE * 2 });
  assert_eq(slice.size(), PAGE_SIZE);
  assert_eq(slice.paddr(), segment.paddr() + PAGE_SIZE);
  segment.drop();
  // The slice keeps its frame alive after the segment went.
  assert_eq(page_state(slice.paddr()).state, "untyped");
  assert_eq(page_state(slice.paddr() + PAGE_SIZE).state, "free");
  slice.drop();
});

ktest("segment_iteration", () => {
  init();
  const total_frames = 2;
  const segment = expect(
    FrameAllocOptions.new().alloc_segment_with(total_frames, () => MockFrameMeta.of({ value: 42 })),
    "Failed to allocate segment",
  );
  let count = 0;
  for (const frame of segment) {
    assert_eq(frame.meta().read().value, 42);
    count += 1;
    frame.drop();
  }
  assert_eq(count, total_frames);
  segment.drop();
});

ktest.should_panic(
  "invalid_segment_split",
  () => {
    init();
    const segment = expect(FrameAllocOptions.new().alloc_segment(2), "Failed to allocate segment");
    segment.split(0);
  },
  "segment virtual address out-of-bound for splitting",
);

ktest.should_panic(
  "segment_slice_out_of_bounds",
  () => {
    init();
    const segment = expect(FrameAllocOptions.new().alloc_segment(3), "Failed to allocate segment");
    const huge_page_aligned_offset = 2 ** 64 - PAGE_SIZE;
    segment.slice({ start: huge_page_aligned_offset, end: huge_page_aligned_offset });
  },
  "segment virtual address out-of-bound for slicing",
);

ktest("segment_to_usegment", () => {
  init();
  const options = FrameAllocOptions.new();
  const segment = unwrap(options.alloc_segment(1));
  const dyn_segment = segment.clone().into_dyn();
  const result = Segment.try_into_usegment(dyn_segment);
  assert(result.ok);
  const usegment: USegment = unwrap(result);
  assert_eq(usegment.size(), PAGE_SIZE);
  assert_eq(usegment.paddr(), segment.paddr());
  usegment.drop();
  segment.drop();
});

ktest("segment_to_segment", () => {
  init();
  const segment = unwrap(FrameAllocOptions.new().alloc_segment_with(1, () => MockFrameMeta.of({ value: 42 })));
  const dyn_segment = segment.into_dyn();
  // A typed segment is no `USegment`, nor a segment of another type.
  const not_u = unwrap_err(Segment.try_into_usegment(dyn_segment));
  const not_other = unwrap_err(Segment.try_from(not_u, MockUFrameMeta));
  const result = Segment.try_from(not_other, MockFrameMeta);
  assert(result.ok);
  const seg = unwrap(result);
  assert_eq(seg.size(), PAGE_SIZE);
  for (const frame of seg) {
    assert_eq(frame.meta().read().value, 42);
    frame.drop();
  }
  seg.drop();
});

ktest("frame_to_segment", () => {
  init();
  const frame = unwrap(FrameAllocOptions.new().alloc_frame_with(MockFrameMeta.of({ value: 42 })));
  const paddr = frame.paddr();
  const segment = Segment.from_frame(frame);
  assert_eq(segment.size(), PAGE_SIZE);
  assert_eq(segment.paddr(), paddr);
  for (const f of segment) {
    assert_eq(f.meta().read().value, 42);
    f.drop();
  }
  segment.drop();
});

ktest("segment_drop", () => {
  init();
  const options = FrameAllocOptions.new();
  const segment = unwrap(options.alloc_segment(1));
  const paddr_before = segment.paddr();
  segment.drop();
  const new_segment = unwrap(options.alloc_segment(1));
  assert_eq(new_segment.paddr(), paddr_before);
  new_segment.drop();
});

// ───────────────────────────── untyped ─────────────────────────────

/** Writes `len` bytes of `byte` with `writer`, reads them back with `reader`. */
function write_then_read(writer: VmWriter<any>, reader: VmReader<any>, byte: number, len: number): void {
  unsafe: {
    const data = alloc_zeroed(array(u8, len));
    data.write(new Array<number>(len).fill(byte));
    writer.write(VmReader.from(data.as_ref()));
    const buffer = alloc_zeroed(array(u8, len));
    reader.read(VmWriter.from(buffer.as_mut()));
    assert_eq(JSON.stringify(buffer.read()), JSON.stringify(data.read()));
    dealloc(buffer, array(u8, len));
    dealloc(data, array(u8, len));
  }
}

ktest("untyped_frame_reader_writer", () => {
  init();
  const frame = expect(FrameAllocOptions.new().alloc_frame(), "Failed to allocate frame");
  const reader = frame.reader();
  assert_eq(reader.remain(), PAGE_SIZE);
  const writer = frame.writer();
  assert_eq(writer.avail(), PAGE_SIZE);
  write_then_read(writer, reader, 0xaa, 128);
  frame.drop();
});

ktest("untyped_segment_reader_writer", () => {
  init();
  const segment = expect(FrameAllocOptions.new().alloc_segment(2), "Failed to allocate segment");
  const reader = segment.reader();
  assert_eq(reader.remain(), 2 * PAGE_SIZE);
  const writer = segment.writer();
  assert_eq(writer.avail(), 2 * PAGE_SIZE);
  write_then_read(writer, reader, 0xbb, 256);
  segment.drop();
});

// ───────────────────────────── frame_ref ─────────────────────────────

ktest("frame_ref_preserves_refcnt", () => {
  init();
  const init_val = 42;
  const frame = expect(FrameAllocOptions.new().alloc_frame_with(MockUFrameMeta.of({ value: init_val })), "Failed to allocate frame");
  assert_eq(frame.reference_count(), 1n);
  {
    const frame_ref: FrameRef<{ value: number }> = frame.borrow();
    assert_eq(frame_ref.meta().read().value, init_val);
    assert_eq(frame_ref.reference_count(), 1n);
    assert_eq(frame.reference_count(), 1n);
  }
  assert_eq(frame.reference_count(), 1n);
  frame.drop();
});

ktest("frame_impls_non_null_ptr", () => {
  init();
  const init_val = 42;
  const frame = expect(FrameAllocOptions.new().alloc_frame_with(MockUFrameMeta.of({ value: init_val })), "Failed to allocate frame");
  const paddr = frame.paddr();
  const uframe: UFrame = frame.into_uframe();
  const raw_ptr = NonNullPtr.into_raw(uframe);
  let frame_from_raw: Frame<{ value: number }>;
  unsafe: {
    frame_from_raw = NonNullPtr.from_raw(raw_ptr, MockUFrameMeta);
  }
  assert_eq(frame_from_raw.paddr(), paddr);
  assert_eq(frame_from_raw.meta().read().value, init_val);
  unsafe: {
    const frame_ref = NonNullPtr.raw_as_ref(raw_ptr, MockUFrameMeta);
    assert_eq(frame_ref.paddr(), paddr);
    assert_eq(NonNullPtr.ref_as_raw(frame_ref).addr(), raw_ptr.addr());
  }
  frame_from_raw.drop();
});

// ───────────────────────────── allocator ─────────────────────────────

ktest("test_alloc_dealloc", () => {
  init();
  // Allocations and frees in a mixed order; the test fails if the allocator panics.
  const single_options = FrameAllocOptions.new();
  const contiguous_options = FrameAllocOptions.new();
  contiguous_options.zeroed(false);
  const remember_vec: Frame<undefined>[] = [];
  for (let j = 0; j < 10; j++) {
    for (let i = 0; i < 10; i++) {
      const single_frame = unwrap(single_options.alloc_frame());
      if (i % 3 === 0) remember_vec.push(single_frame);
      else single_frame.drop();
    }
    const contiguous_segment = unwrap(contiguous_options.alloc_segment(10));
    contiguous_segment.drop();
    remember_vec.pop()?.drop();
  }
  for (const f of remember_vec) f.drop();
});

// ───────────────────────────── beyond OSTD's tests ─────────────────────────────

ktest("frame_from_in_use_and_errors", () => {
  init();
  const frame = unwrap(FrameAllocOptions.new().alloc_frame_with(MockFrameMeta.of({ value: 7 })));
  const paddr = frame.paddr();
  // Another handle of an in-use frame; `from_unused` refuses it.
  const again = unwrap(Frame.from_in_use(paddr));
  assert_eq(frame.reference_count(), 2n);
  const refused = Frame.from_unused(paddr, MockFrameMeta.of({ value: 8 }));
  assert(!refused.ok && refused.error === "InUse");
  assert(again.dyn_meta().is(MockFrameMeta));
  again.drop();
  // Errors of bad addresses.
  const na = Frame.from_in_use(paddr + 8);
  assert(!na.ok && na.error === "NotAligned");
  const oob = Frame.from_in_use(2 ** 40);
  assert(!oob.ok && oob.error === "OutOfBound");
  // A unique frame cannot be shared from its address.
  const unique = unwrap(UniqueFrame.try_from(frame));
  assert_eq(unique.level(), 1);
  assert_eq(unique.size(), PAGE_SIZE);
  const u1 = Frame.from_in_use(paddr);
  assert(!u1.ok && u1.error === "Unique");
  const u2 = Frame.from_unused(paddr, MockFrameMeta.of({ value: 8 }));
  assert(!u2.ok && u2.error === "Unique");
  unique.meta_mut().field_mut("value").write(9);
  assert(!unique.dyn_meta().is_untyped() && !unique.dyn_meta_mut().is_untyped());
  const shared = unique.into_frame();
  assert_eq(shared.meta().read().value, 9);
  // A shared frame with two handles is not unique.
  const two = shared.clone();
  unwrap_err(UniqueFrame.try_from(two)).drop();
  assert(shared.eq(shared) && shared.start_paddr() === paddr && shared.end_paddr() === paddr + PAGE_SIZE);
  shared.drop();
  // Freed: the slot is unused.
  const unused = Frame.from_in_use(paddr);
  assert(!unused.ok && unused.error === "Unused");
});

ktest("unique_frame_repurpose_and_raw", () => {
  init();
  const frame = unwrap(FrameAllocOptions.new().alloc_frame_with(MockFrameMeta.of({ value: 1 })));
  const unique = unwrap(UniqueFrame.try_from(frame));
  const paddr = unique.into_raw();
  let back: UniqueFrame<{ value: number }>;
  unsafe: {
    back = UniqueFrame.from_raw(paddr, MockFrameMeta);
  }
  assert_eq(back.paddr(), paddr);
  const re = back.repurpose(MockUFrameMeta.of({ value: 2 }));
  assert(re.dyn_meta().is_untyped());
  assert_eq(re.meta().read().value, 2);
  re.drop();
  // A unique frame taken from the allocator's memory directly, reset without the allocator.
  const seg = unwrap(FrameAllocOptions.new().alloc_segment(1));
  const range = seg.into_raw();
  unsafe: {
    // A borrowed handle of the first frame, forgotten again: no count changes.
    assert_eq(Frame.from_raw(range.start, "dyn").into_raw(), range.start);
    Segment.from_raw(range, "dyn").drop();
  }
});

ktest("segment_from_unused_rolls_back", () => {
  init();
  // Two frames from the allocator; the first one's slot is reset to unused (its page stays
  // allocated), the second stays in use. `Segment::from_unused` over both takes the first, fails
  // at the second, and gives the first back to the allocator.
  const seg = unwrap(FrameAllocOptions.new().alloc_segment(2));
  const [a, b] = seg.split(PAGE_SIZE);
  const a_paddr = a.paddr();
  const a_frame = a.next().value!;
  a.drop();
  unwrap(UniqueFrame.try_from(a_frame)).reset_as_unused();
  const r = Segment.from_unused({ start: a_paddr, end: a_paddr + 2 * PAGE_SIZE }, () => MockFrameMeta.of({ value: 0 }));
  assert(!r.ok && r.error === "InUse");
  assert_eq(page_state(a_paddr).state, "free");
  const bad = Segment.from_unused({ start: a_paddr + 1, end: a_paddr + PAGE_SIZE }, () => MockFrameMeta.of({ value: 0 }));
  assert(!bad.ok && bad.error === "NotAligned");
  const oob = Segment.from_unused({ start: 0, end: 2 ** 40 }, () => MockFrameMeta.of({ value: 0 }));
  assert(!oob.ok && oob.error === "OutOfBound");
  b.drop();
});

// ───────────────────────────── multi-CPU: the reference count ─────────────────────────────

ktest("frame_clone_drop_on_4_cpus", () => {
  init();
  const frame = unwrap(FrameAllocOptions.new().alloc_frame_with(MockFrameMeta.of({ value: 5 })));
  const paddr = frame.paddr();
  const handles: JoinHandle<void>[] = [];
  for (let cpu = 1; cpu < 4; cpu++) {
    const mine = frame.clone();
    handles.push(
      spawn(() => {
        for (let i = 0; i < 3; i++) {
          const c = mine.clone();
          assert_eq(c.meta().read().value, 5);
          c.drop();
        }
        mine.drop();
      }),
    );
  }
  for (let i = 0; i < 3; i++) frame.clone().drop();
  frame.drop();
  for (const h of handles) h.join();
  // The last drop, wherever it ran, freed the frame.
  assert_eq(page_state(paddr).state, "free");
  const gone = Frame.from_in_use(paddr);
  assert(!gone.ok && gone.error === "Unused");
});

ktest("frame_from_in_use_races_last_drop", () => {
  init();
  const frame = unwrap(FrameAllocOptions.new().alloc_frame_with(MockFrameMeta.of({ value: 11 })));
  const paddr = frame.paddr();
  // CPU 1 drops the last handle while CPU 0 tries to get another one from the address. (Natively a
  // spawned thread runs to completion at `spawn`, so there the drop simply comes first.)
  const t = spawn(() => frame.drop());
  for (;;) {
    // Either we get a handle before the last drop (and read valid metadata, then ours is the last
    // one), or the frame is busy (being torn down: retry) or unused by then.
    const r = Frame.from_in_use(paddr);
    if (r.ok) {
      assert(r.value.dyn_meta().is(MockFrameMeta));
      const typed = unwrap(Frame.try_from(r.value, MockFrameMeta));
      assert_eq(typed.meta().read().value, 11);
      typed.drop();
      break;
    }
    if (r.error === "Unused") break;
    assert_eq(r.error, "Busy");
    spin_loop();
  }
  t.join();
  const gone = Frame.from_in_use(paddr);
  assert(!gone.ok && gone.error === "Unused");
  assert_eq(page_state(paddr).state, "free");
});

ktest("frame_from_unused_races_last_drop", () => {
  init();
  // The PR #1752 scenario: CPU 1 drops the last handle of a frame while CPU 0 tries to take the
  // same frame as unused (as a racing allocator user would). With REF_COUNT_UNUSED the claim
  // succeeds only after the teardown finished (its Release store of UNUSED pairs with our Acquire
  // CAS), so the new metadata never races with the old one's teardown.
  const frame = unwrap(FrameAllocOptions.new().alloc_frame_with(MockFrameMeta.of({ value: 1 })));
  const paddr = frame.paddr();
  const t = spawn(() => frame.drop());
  for (;;) {
    const r = Frame.from_unused(paddr, MockFrameMeta.of({ value: 2 }));
    if (r.ok) {
      assert_eq(r.value.meta().read().value, 2);
      // The dropper gave the page back to the allocator already (it is free for Mirch): reset the
      // slot without freeing the page twice, as the allocator's own bookkeeping would.
      unwrap(UniqueFrame.try_from(r.value)).reset_as_unused();
      break;
    }
    assert(r.error === "InUse" || r.error === "Busy");
    spin_loop();
  }
  t.join();
  const gone = Frame.from_in_use(paddr);
  assert(!gone.ok && gone.error === "Unused");
});

ktest("frame_alloc_on_4_cpus", () => {
  init();
  // Each CPU allocates and frees through its own cache and the shared pool.
  const hs: JoinHandle<number>[] = [];
  for (let cpu = 1; cpu < 4; cpu++) {
    hs.push(
      spawn(() => {
        const frames = [0, 1, 2].map((v) => unwrap(FrameAllocOptions.new().alloc_frame_with(MockFrameMeta.of({ value: v }))));
        const seg = unwrap(FrameAllocOptions.new().zeroed(false).alloc_segment(5));
        let sum = 0;
        for (const f of frames) {
          sum += f.meta().read().value;
          f.drop();
        }
        seg.drop();
        return sum;
      }),
    );
  }
  const mine = unwrap(FrameAllocOptions.new().alloc_segment(3));
  for (const h of hs) assert_eq(h.join(), 3);
  mine.drop();
});

// ───────────────────────────── metadata with a drop, and the boot state ─────────────────────────────

/** What `DropMeta`'s `on_drop` read from its frame, and how many destructors ran. */
const DROPPED = static_(struct("Dropped", { first_word: AtomicU32, on_drops: AtomicU32, destructors: AtomicU32 }), {
  first_word: 0,
  on_drops: 0,
  destructors: 0,
}, { name: "DROPPED" });

/** Untyped metadata whose `on_drop` reads the frame's first word (as a page cache would flush). */
const DropMeta = impl_untyped_frame_meta_for("DropMeta", struct("DropMeta", { tag: u32 }), {
  on_drop: (meta, reader) => {
    assert_eq(reader.remain(), PAGE_SIZE);
    const word = unwrap(reader.read_val(u32));
    DROPPED.as_ref().field("first_word").store(word + meta.read().tag, "Relaxed");
    DROPPED.as_ref().field("on_drops").fetch_add(1, "Relaxed");
  },
  drop_in_place: () => {
    DROPPED.as_ref().field("destructors").fetch_add(1, "Relaxed");
  },
});

ktest("frame_meta_on_drop", () => {
  init();
  const frame = unwrap(FrameAllocOptions.new().alloc_frame_with(DropMeta.of({ tag: 1 })));
  unwrap(frame.writer().write_val(u32, 41));
  const other = frame.clone();
  frame.drop();
  assert_eq(DROPPED.as_ref().field("on_drops").load("Relaxed"), 0);
  other.drop();
  assert_eq(DROPPED.as_ref().field("first_word").load("Relaxed"), 42);
  assert_eq(DROPPED.as_ref().field("destructors").load("Relaxed"), 1);
  // Through a list link: `Link<DropMeta>` forwards both.
  const linked = unwrap(FrameAllocOptions.new().alloc_frame_with(Link.new(DropMeta.of({ tag: 2 }))));
  const list = LinkedList.new(DropMeta);
  list.push_back(to_unique(linked));
  list.drop();
  assert_eq(DROPPED.as_ref().field("first_word").load("Relaxed"), 2);
  assert_eq(DROPPED.as_ref().field("on_drops").load("Relaxed"), 2);
  assert_eq(DROPPED.as_ref().field("destructors").load("Relaxed"), 2);
  // A typed frame gives no reader.
  const typed = unwrap(FrameAllocOptions.new().alloc_frame_with(MockFrameMeta.of({ value: 0 })));
  assert_eq(typed.dyn_meta().is_untyped(), false);
  typed.drop();
});

ktest.should_panic(
  "typed_frame_has_no_writer",
  () => {
    init();
    const typed = unwrap(FrameAllocOptions.new().alloc_frame_with(MockFrameMeta.of({ value: 0 })));
    typed.writer();
  },
  "`writer()` of a typed frame",
);

ktest("unique_frame_from_unused_and_conversions", () => {
  init();
  // A frame from the allocator whose slot is reset: the page stays ours, the slot is unused.
  const f = unwrap(FrameAllocOptions.new().alloc_frame_with(MockUFrameMeta.of({ value: 3 })));
  const paddr = f.paddr();
  unwrap(UniqueFrame.try_from(f)).reset_as_unused();
  const u = unwrap(UniqueFrame.from_unused(paddr, MockUFrameMeta.of({ value: 4 })));
  assert_eq(u.meta().read().value, 4);
  const shared = u.into_frame();
  // `Frame<dyn>` -> `UFrame` succeeds for untyped metadata.
  const uf = unwrap(Frame.try_into_uframe(unwrap(Frame.from_in_use(paddr))));
  assert_eq(shared.reference_count(), 2n);
  // The borrowed handle's methods.
  const r = shared.borrow();
  assert_eq(r.paddr(), paddr);
  assert_eq(r.size(), PAGE_SIZE);
  assert(r.dyn_meta().is(MockUFrameMeta));
  const c = r.clone();
  assert_eq(r.reference_count(), 3n);
  c.drop();
  uf.drop();
  shared.drop();
  // The last-but-one handle went with `uf`; `shared` was the last one: freed.
  assert_eq(page_state(paddr).state, "free");
  // Untyped segments convert to `USegment`.
  const seg = unwrap(FrameAllocOptions.new().alloc_segment_with(2, () => MockUFrameMeta.of({ value: 5 })));
  const useg = seg.into_usegment();
  assert_eq(useg.size(), 2 * PAGE_SIZE);
  assert_eq(useg.reader().remain(), 2 * PAGE_SIZE);
  useg.drop();
});

ktest("frame_metadata_is_mapped", () => {
  init();
  assert(is_initialized());
  assert_eq(current_cpu(), 0);
  assert(num_cpus() >= 4);
  // The metadata area is mapped in the boot table (the current one), with global leaves.
  const root = current_page_table_paddr();
  assert_eq(root, boot_page_table_paddr());
  const w = page_walk(frame_to_meta(0));
  assert(w !== null);
  assert_eq(page_state(w.paddr).state, "typed");
  assert_eq(pte_flags(pte_new(w.paddr, PteFlags.GLOBAL)) & PteFlags.GLOBAL, PteFlags.GLOBAL);
  assert_eq(pte_paddr(pte_new(w.paddr, PteFlags.VALID)), w.paddr);
  assert((w.flags & PteFlags.GLOBAL) !== 0);
  // The frames boot keeps are in use: the reserved first page, the kernel image, the metadata pages.
  const reserved = unwrap_err(Frame.from_unused(0, MockFrameMeta.of({ value: 0 })));
  assert_eq(reserved, "InUse");
  const meta_page = unwrap(Frame.from_in_use(w.paddr));
  assert(meta_page.dyn_meta().is(MetaPageMeta));
  meta_page.drop();
  // Re-activating the current table and flushing are harmless.
  unsafe: {
    activate_page_table(root);
  }
  tlb_flush_addr(frame_to_meta(0));
  tlb_flush_addr_range(frame_to_meta(0), frame_to_meta(0) + PAGE_SIZE);
  tlb_flush_all_excluding_global();
  tlb_flush_all_including_global();
  // `init` is idempotent.
  init();
  assert_eq(range_difference_all({ start: 0, end: 10 }, [{ start: 20, end: 30 }, { start: 2, end: 4 }]).length, 2);
});

ktest.should_panic("set_mem_limit_after_boot", () => {
  init();
  set_mem_limit(64 * 1024 * 1024);
}, "`set_mem_limit` after boot");
