// The ktests of OSTD's `mm/io` (asterinas/asterinas `ostd/src/mm/test.rs`, `mod io`), with their
// names, re-written for kmiri; then tests of the user-space (fallible) path through Mirch's MMU
// and page-fault handler, which OSTD's tests leave out ("simulating page faults is non-trivial").
//
// Kernel-space buffers are kmiri locals (typed memory, like Rust's stack arrays); the "segment"
// tests run on untyped frames reached through the linear map, as a `USegment` is.
import { array, assert, assert_eq, ktest, local, size_of, struct, u16, u32, u64, u8 } from "kmiri/rt";
import {
  PAGE_SIZE,
  alloc_untyped_frames_for_test,
  free_untyped_frames_for_test,
  linear_vaddr,
  map_user_pages,
  set_user_page_fault_handler,
  unmap_user_pages,
  user_frame_kernel_vaddr,
  type UserPages,
} from "../arch/io.js";
import {
  Error,
  VmIoByReaderWriter,
  VmReader,
  VmWriter,
  unwrap,
  type Infallible,
  type Result,
} from "./io.js";

/** A `Pod` struct for the struct tests (`#[padding_struct]` makes its padding an explicit field). */
const TestPodStruct = struct("TestPodStruct", { a: u32, __pad1: u32, b: u64 });

function assert_bytes(actual: readonly number[], expected: readonly number[]): void {
  assert_eq(actual.join(","), expected.join(","));
}

function assert_err<T>(r: Result<T, unknown>, error: unknown): void {
  assert(!r.ok, "expected an error");
  if (!r.ok) assert_eq(JSON.stringify(r.error), JSON.stringify(error));
}

/** Bytes of `n` zeros. */
const zeros = (n: number): number[] => new Array<number>(n).fill(0);

/** A stand-in for a one-page `USegment` (untyped frames), until the frame module exists. */
class TestSegment extends VmIoByReaderWriter {
  readonly paddr: number;
  readonly nframes: number;
  constructor(nframes: number) {
    super();
    this.nframes = nframes;
    this.paddr = alloc_untyped_frames_for_test(nframes);
  }
  reader(): VmReader<Infallible> {
    unsafe: {
      // SAFETY: the frames are untyped, alive until `drop`, and reached only through this module.
      return VmReader.from_kernel_space(linear_vaddr(this.paddr), this.nframes * PAGE_SIZE);
    }
  }
  writer(): VmWriter<Infallible> {
    unsafe: {
      // SAFETY: as for `reader`.
      return VmWriter.from_kernel_space(linear_vaddr(this.paddr), this.nframes * PAGE_SIZE);
    }
  }
  drop(): void {
    free_untyped_frames_for_test(this.paddr, this.nframes);
  }
}

// ───────────────────────────── OSTD's `mod io` ─────────────────────────────

ktest("read_write_u32_infallible", () => {
  const buffer = local(array(u8, 8), zeros(8));
  const writer_infallible = VmWriter.from(buffer.as_mut());
  const val1 = 0xdeadbeef;
  const val2 = 0xfeedc0de;
  unwrap(writer_infallible.write_val(u32, val1));
  unwrap(writer_infallible.write_val(u32, val2));
  assert_bytes(buffer.read().slice(0, 4), [0xef, 0xbe, 0xad, 0xde]);
  assert_bytes(buffer.read().slice(4), [0xde, 0xc0, 0xed, 0xfe]);

  const reader_infallible = VmReader.from(buffer.as_ref());
  assert_eq(unwrap(reader_infallible.read_val(u32)), val1);
  assert_eq(unwrap(reader_infallible.read_val(u32)), val2);
});

ktest("read_write_slice_infallible", () => {
  const data = local(array(u8, 5), [1, 2, 3, 4, 5]);
  const buffer = local(array(u8, 5), zeros(5));
  const writer_infallible = VmWriter.from(buffer.as_mut());
  writer_infallible.write(VmReader.from(data.as_ref()));
  assert_bytes(buffer.read(), data.read());

  const reader_infallible = VmReader.from(buffer.as_ref());
  const read_buffer = local(array(u8, 5), zeros(5));
  reader_infallible.read(VmWriter.from(read_buffer.as_mut()));
  assert_bytes(read_buffer.read(), data.read());
});

ktest("read_write_struct_infallible", () => {
  const buffer = local(array(u8, size_of(TestPodStruct)), zeros(size_of(TestPodStruct)));
  const writer_infallible = VmWriter.from(buffer.as_mut());
  const test_struct = { a: 0x12345678, __pad1: 0, b: 0xabcdef0123456789n };
  unwrap(writer_infallible.write_val(TestPodStruct, test_struct));

  const reader_infallible = VmReader.from(buffer.as_ref());
  const read_struct = unwrap(reader_infallible.read_val(TestPodStruct));
  assert_eq(read_struct.a, test_struct.a);
  assert_eq(read_struct.__pad1, test_struct.__pad1);
  assert_eq(read_struct.b, test_struct.b);
});

ktest.should_panic("read_beyond_buffer_infallible", () => {
  const buffer = local(array(u8, 3), [1, 2, 3]);
  const reader_infallible = VmReader.from(buffer.as_ref());
  // A u32 needs 4 bytes; the buffer has 3.
  unwrap(reader_infallible.read_val(u32));
});

ktest.should_panic("write_beyond_buffer_infallible", () => {
  const buffer = local(array(u8, 3), zeros(3));
  const writer_infallible = VmWriter.from(buffer.as_mut());
  unwrap(writer_infallible.write_val(u32, 0xdeadbeef));
});

ktest("fill_infallible", () => {
  const buffer = local(array(u8, 8), new Array<number>(8).fill(0x7f));
  const writer_infallible = VmWriter.from(buffer.as_mut());
  const filled = writer_infallible.fill_zeros(10);
  assert_eq(filled, 8);
  // The cursor is at the end.
  assert_eq(writer_infallible.avail(), 0);
  assert_bytes(buffer.read(), zeros(8));
});

ktest("skip_read_infallible", () => {
  const data = local(array(u8, 5), [10, 20, 30, 40, 50]);
  const reader_infallible = VmReader.from(data.as_ref()).skip(2);
  const read_buffer = local(array(u8, 3), zeros(3));
  reader_infallible.read(VmWriter.from(read_buffer.as_mut()));
  assert_bytes(read_buffer.read(), [30, 40, 50]);
});

ktest("skip_write_infallible", () => {
  const buffer = local(array(u8, 5), zeros(5));
  const writer_infallible = VmWriter.from(buffer.as_mut()).skip(2);
  const data = local(array(u8, 3), [100, 101, 102]);
  writer_infallible.write(VmReader.from(data.as_ref()));
  assert_bytes(buffer.read(), [0, 0, 100, 101, 102]);
});

ktest("limit_read_infallible", () => {
  const data = local(array(u8, 5), [1, 2, 3, 4, 5]);
  const limited_reader = VmReader.from(data.as_ref()).limit(3);
  assert_eq(limited_reader.remain(), 3);
  const read_buffer = local(array(u8, 3), zeros(3));
  limited_reader.read(VmWriter.from(read_buffer.as_mut()));
  assert_bytes(read_buffer.read(), [1, 2, 3]);
  // Nothing more to read.
  const extra_buffer = local(array(u8, 1), [0]);
  assert_eq(limited_reader.read(VmWriter.from(extra_buffer.as_mut())), 0);
});

ktest("limit_write_infallible", () => {
  const buffer = local(array(u8, 5), zeros(5));
  const limited_writer = VmWriter.from(buffer.as_mut()).limit(3);
  assert_eq(limited_writer.avail(), 3);
  // Writes 10, 20, 30, 40: only the first three fit.
  for (const val of [10, 20, 30, 40]) limited_writer.write_val(u8, val);
  assert_bytes(buffer.read(), [10, 20, 30, 0, 0]);
});

ktest("read_write_slice_vmio_infallible", () => {
  const data = local(array(u8, 5), [100, 101, 102, 103, 104]);
  const buffer = local(array(u8, 5), zeros(5));
  VmWriter.from(buffer.as_mut()).write(VmReader.from(data.as_ref()));
  assert_bytes(buffer.read(), data.read());
  const read_data = local(array(u8, 5), zeros(5));
  VmReader.from(buffer.as_ref()).read(VmWriter.from(read_data.as_mut()));
  assert_bytes(read_data.read(), data.read());
});

ktest("read_write_once_infallible", () => {
  const buffer = local(array(u64, 1), [0n]); // 8 bytes, aligned for a u64
  const writer_infallible = VmWriter.from(buffer.as_mut());
  const val = 0x1122334455667788n;
  unwrap(writer_infallible.write_once(u64, val));
  const reader_infallible = VmReader.from(buffer.as_ref());
  assert_eq(unwrap(reader_infallible.read_once(u64)), val);
});

ktest("write_val_infallible", () => {
  const buffer = local(array(u8, 12), zeros(12));
  const writer_infallible = VmWriter.from(buffer.as_mut());
  for (const val of [1, 2, 3]) unwrap(writer_infallible.write_val(u32, val));
  assert_bytes(buffer.read(), [1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]);
});

ktest("fallible_read_write", () => {
  const buffer = local(array(u8, 8), zeros(8));
  const writer_fallible = VmWriter.from(buffer.as_mut()).to_fallible();
  const val = 0xaabbccddeeff0011n;
  assert(writer_fallible.has_avail());
  unwrap(writer_fallible.write_val(u64, val));
  const reader_fallible = VmReader.from(buffer.as_ref()).to_fallible();
  assert(reader_fallible.has_remain());
  assert_eq(unwrap(reader_fallible.read_val(u64)), val);
});

ktest("partial_read_fallible", () => {
  const data = local(array(u8, 5), [10, 20, 30, 40, 50]);
  const limited_reader = VmReader.from(data.as_ref()).to_fallible().limit(3);
  const writer_buffer = local(array(u8, 5), zeros(5));
  const writer_fallible = VmWriter.from(writer_buffer.as_mut()).to_fallible();
  // Reads 5 bytes from a reader limited to 3.
  const result = limited_reader.read_fallible(writer_fallible);
  assert(result.ok);
  assert_eq(unwrap(result), 3);
  assert_bytes(writer_buffer.read().slice(0, 3), [10, 20, 30]);
});

ktest("partial_write_fallible", () => {
  const buffer = local(array(u8, 5), zeros(5));
  const limited_writer = VmWriter.from(buffer.as_mut()).to_fallible().limit(3);
  const data = local(array(u8, 5), [10, 20, 30, 40, 50]);
  const reader = VmReader.from(data.as_ref());
  // Writes 5 bytes into a writer limited to 3.
  const result = limited_writer.write_fallible(reader);
  assert(result.ok);
  assert_eq(unwrap(result), 3);
  assert_bytes(buffer.read().slice(0, 3), [10, 20, 30]);
});

ktest("read_write_val_fallible", () => {
  const buffer = local(array(u8, 8), zeros(8));
  const writer_fallible = VmWriter.from(buffer.as_mut()).to_fallible();
  const val = 0xaabbccddeeff0011n;
  unwrap(writer_fallible.write_val(u64, val));
  const reader_fallible = VmReader.from(buffer.as_ref()).to_fallible();
  assert_eq(unwrap(reader_fallible.read_val(u64)), val);
});

ktest("atomic_load_fallible", () => {
  const buffer = local(array(u32, 2), [0x01010101, 0x02020202]); // [1,1,1,1,2,2,2,2], aligned
  const reader_fallible = VmReader.from(buffer.as_ref()).to_fallible();
  assert_eq(unwrap(reader_fallible.atomic_load(u32)), 0x01010101);
  reader_fallible.skip(4);
  assert_eq(unwrap(reader_fallible.atomic_load(u32)), 0x02020202);
});

ktest("atomic_compare_exchange_fallible", () => {
  const segment = new TestSegment(1); // zeroed
  const cmpxchg = (expected: number, next: number): [number, boolean] =>
    unwrap(segment.writer().to_fallible().atomic_compare_exchange(segment.reader().to_fallible(), expected, next));

  // 0, expecting 0: succeeds, sets 100.
  assert_eq(JSON.stringify(cmpxchg(0, 100)), JSON.stringify([0, true]));
  // 100, expecting 100: succeeds, sets 200.
  assert_eq(JSON.stringify(cmpxchg(100, 200)), JSON.stringify([100, true]));
  // 200, expecting 300: fails, stays 200.
  assert_eq(JSON.stringify(cmpxchg(300, 400)), JSON.stringify([200, false]));
  // 200, expecting 200: succeeds, sets 300.
  assert_eq(JSON.stringify(cmpxchg(200, 300)), JSON.stringify([200, true]));
  // 300, expecting 200: fails, stays 300.
  assert_eq(JSON.stringify(cmpxchg(200, 400)), JSON.stringify([300, false]));

  const reader = segment.reader().to_fallible();
  assert_eq(unwrap(reader.atomic_load(u32)), 300);
  assert_eq(unwrap(reader.read_val(u32)), 300);
  segment.drop();
});

ktest("fill_zeros_fallible", () => {
  const buffer = local(array(u8, 8), new Array<number>(8).fill(1));
  const writer_fallible = VmWriter.from(buffer.as_mut()).to_fallible();
  unwrap(writer_fallible.fill_zeros(8));
  assert_bytes(buffer.read(), zeros(8));
});

ktest("invalid_args_read_write_fallible", () => {
  const buffer = local(array(u8, 3), zeros(3));
  const writer_fallible = VmWriter.from(buffer.as_mut()).to_fallible();
  // A u32 needs 4 bytes; the buffer has 3.
  assert_err(writer_fallible.write_val(u32, 0xdeadbeef), Error.InvalidArgs);
  const reader_fallible = VmReader.from(buffer.as_ref()).to_fallible();
  assert_err(reader_fallible.read_val(u32), Error.InvalidArgs);
});

ktest("invalid_read_write_infallible", () => {
  const buffer = local(array(u8, 3), zeros(3));
  const writer_infallible = VmWriter.from(buffer.as_mut());
  assert_err(writer_infallible.write_val(u32, 0xdeadbeef), Error.InvalidArgs);
  const reader_infallible = VmReader.from(buffer.as_ref());
  assert_err(reader_infallible.read_val(u32), Error.InvalidArgs);
});

ktest("fill_zeros_segment", () => {
  const buffer = local(array(u8, 5), zeros(5));
  const segment = new TestSegment(1);
  const values = local(array(u8, 5), [1, 2, 3, 4, 5]);
  unwrap(segment.write_slice(0, values.as_ref()));
  unwrap(segment.fill_zeros(1, 3));
  unwrap(segment.read_bytes(0, buffer.as_mut()));
  assert_bytes(buffer.read(), [1, 0, 0, 0, 5]);
  // At a bad offset.
  assert_err(segment.fill_zeros(8192, 3), [Error.InvalidArgs, 0]);
  segment.drop();
});

ktest("write_slice_segment", () => {
  const buffer = local(array(u8, 12), zeros(12));
  const segment = new TestSegment(1);
  const data = local(array(u8, 5), [1, 2, 3, 4, 5]);
  unwrap(segment.write_slice(0, data.as_ref()));
  unwrap(segment.read_bytes(0, buffer.as_mut()));
  assert_bytes(buffer.read().slice(0, 5), data.read());
  segment.drop();
});

ktest("read_val_segment", () => {
  const segment = new TestSegment(1);
  const values = local(array(u32, 3), [1, 2, 3]);
  unwrap(segment.write_slice(0, values.as_ref()));
  assert_eq(unwrap(segment.read_val(0, u32)), 1);
  segment.drop();
});

ktest("read_slice_segment", () => {
  const segment = new TestSegment(1);
  const values = local(array(u32, 3), [1, 2, 3]);
  unwrap(segment.write_slice(0, values.as_ref()));
  const read_buffer = local(array(u8, 12), zeros(12));
  unwrap(segment.read_slice(0, read_buffer.as_mut()));
  assert_bytes(read_buffer.read(), [1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]);
  segment.drop();
});

// ───────────────────────────── more: the infallible API ─────────────────────────────

ktest("clone_reader_and_clone_exclusive_writer", () => {
  const data = local(array(u8, 4), [1, 2, 3, 4]);
  const reader = VmReader.from(data.as_ref());
  const copy = reader.clone();
  reader.skip(2);
  assert_eq(copy.remain(), 4);
  assert_eq(reader.remain(), 2);
  assert_eq(reader.cursor() - copy.cursor(), 2);

  const buffer = local(array(u8, 4), zeros(4));
  const writer = VmWriter.from(buffer.as_mut());
  const inner = writer.clone_exclusive();
  unwrap(inner.write_val(u16, 0x0201));
  // Writes through the clone do not move the original's cursor.
  assert_eq(writer.avail(), 4);
  assert_eq(inner.avail(), 2);
  assert_bytes(buffer.read(), [1, 2, 0, 0]);
});

ktest("fill_repeats_a_value", () => {
  const buffer = local(array(u8, 12), zeros(12));
  const writer = VmWriter.from(buffer.as_mut());
  assert_eq(writer.fill(u32, 0x0a0b0c0d), 3);
  assert_bytes(buffer.read(), [13, 12, 11, 10, 13, 12, 11, 10, 13, 12, 11, 10]);
});

ktest("read_val_unaligned_infallible", () => {
  // `read_val`/`write_val` are unaligned loads and stores.
  const buffer = local(array(u8, 9), zeros(9));
  const writer = VmWriter.from(buffer.as_mut()).skip(1);
  unwrap(writer.write_val(u64, 0x0807060504030201n));
  assert_bytes(buffer.read(), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert_eq(unwrap(VmReader.from(buffer.as_ref()).skip(1).read_val(u64)), 0x0807060504030201n);
});

ktest.should_panic("read_once_unaligned_panics", () => {
  const buffer = local(array(u32, 2), [0, 0]);
  VmReader.from(buffer.as_ref()).skip(1).read_once(u32);
});

ktest.should_panic("skip_past_the_end_panics", () => {
  const buffer = local(array(u8, 2), [0, 0]);
  VmReader.from(buffer.as_ref()).skip(3);
});

ktest("read_once_write_once_sizes_and_invalid_args", () => {
  const buffer = local(array(u64, 1), [0n]);
  const w = VmWriter.from(buffer.as_mut());
  unwrap(w.write_once(u8, 0x11));
  unwrap(w.write_once(u8, 0x22));
  unwrap(w.write_once(u16, 0x4433));
  unwrap(w.write_once(u32, 0x88776655));
  assert_err(w.write_once(u8, 0), Error.InvalidArgs);
  const r = VmReader.from(buffer.as_ref());
  assert_eq(unwrap(r.read_once(u32)), 0x44332211);
  assert_eq(unwrap(r.read_once(u32)), 0x88776655);
  assert_err(r.read_once(u8), Error.InvalidArgs);
});


// ───────────────────────────── more: user space through the MMU ─────────────────────────────

/** Where the tests map user pages (a 2 MiB-aligned region of its own). */
const USER_BASE = 0x40_0000;

function with_user_pages(count: number, writable: boolean, body: (u: UserPages) => void): void {
  const u = map_user_pages(USER_BASE, count, writable);
  body(u);
  unmap_user_pages(u);
}

ktest("user_space_read_write_fallible", () => {
  with_user_pages(1, true, (u) => {
    let writer: VmWriter;
    let reader: VmReader;
    unsafe: {
      // SAFETY: the range is in user space.
      writer = VmWriter.from_user_space(USER_BASE + 16, 64);
      reader = VmReader.from_user_space(USER_BASE + 16, 64);
    }
    unwrap(writer.write_val(u64, 0x1122334455667788n));
    unwrap(writer.write_val(u32, 0xcafebabe));
    assert_eq(writer.avail(), 64 - 12);
    assert_eq(unwrap(reader.read_val(u64)), 0x1122334455667788n);
    assert_eq(unwrap(reader.read_val(u32)), 0xcafebabe);
    // The same bytes, seen by the kernel through the linear map of the frame.
    let kreader: VmReader<Infallible>;
    unsafe: {
      // SAFETY: the frame is untyped and alive; we reach it only through this module.
      kreader = VmReader.from_kernel_space(user_frame_kernel_vaddr(u, 0, 16), 12);
    }
    const out = local(array(u8, 12), zeros(12));
    assert_eq(kreader.read(VmWriter.from(out.as_mut())), 12);
    assert_bytes(out.read(), [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0xbe, 0xba, 0xfe, 0xca]);
    // Kernel to user and user to kernel copies.
    const src = local(array(u8, 4), [9, 8, 7, 6]);
    let w2: VmWriter;
    unsafe: {
      w2 = VmWriter.from_user_space(USER_BASE + 100, 4);
    }
    assert_eq(unwrap(w2.write_fallible(VmReader.from(src.as_ref()))), 4);
    const back = local(array(u8, 4), zeros(4));
    let r2: VmReader;
    unsafe: {
      r2 = VmReader.from_user_space(USER_BASE + 100, 4);
    }
    assert_eq(unwrap(r2.read_fallible(VmWriter.from(back.as_mut()))), 4);
    assert_bytes(back.read(), [9, 8, 7, 6]);
  });
});

ktest("user_space_partial_read_stops_at_the_fault", () => {
  with_user_pages(1, true, () => {
    let writer: VmWriter;
    unsafe: {
      writer = VmWriter.from_user_space(USER_BASE + PAGE_SIZE - 4, 4);
    }
    unwrap(writer.write_val(u32, 0x04030201));
    // 8 bytes across the end of the mapped page: 4 copied, then a fault no handler fixes.
    let reader: VmReader;
    unsafe: {
      reader = VmReader.from_user_space(USER_BASE + PAGE_SIZE - 4, 8);
    }
    const buf = local(array(u8, 8), zeros(8));
    const r = reader.read_fallible(VmWriter.from(buf.as_mut()));
    assert_err(r, [Error.PageFault, 4]);
    assert_bytes(buf.read().slice(0, 4), [1, 2, 3, 4]);
    assert_eq(reader.remain(), 4);
    // `read_val` that faults leaves the cursor where it was.
    let r2: VmReader;
    unsafe: {
      r2 = VmReader.from_user_space(USER_BASE + PAGE_SIZE - 4, 8);
    }
    assert_err(r2.read_val(u64), Error.PageFault);
    assert_eq(r2.remain(), 8);
  });
});

ktest("user_space_unmapped_address_faults", () => {
  // Nothing is mapped in user space: every access faults, none is undefined behaviour.
  let reader: VmReader;
  let writer: VmWriter;
  unsafe: {
    reader = VmReader.from_user_space(0x1000, 16);
    writer = VmWriter.from_user_space(0x1000, 16);
  }
  assert_err(reader.read_val(u32), Error.PageFault);
  assert_err(reader.atomic_load(u32), Error.PageFault);
  assert_err(writer.write_val(u32, 1), Error.PageFault);
  assert_err(writer.fill_zeros(16), [Error.PageFault, 0]);
  assert_err(writer.atomic_compare_exchange(reader, 0, 1), Error.PageFault);
  assert_eq(writer.avail(), 16);
});

ktest("user_space_read_only_page_write_faults", () => {
  with_user_pages(1, false, () => {
    let writer: VmWriter;
    let reader: VmReader;
    unsafe: {
      writer = VmWriter.from_user_space(USER_BASE, 8);
      reader = VmReader.from_user_space(USER_BASE, 8);
    }
    assert_eq(unwrap(reader.read_val(u64)), 0n); // readable: zeroed
    assert_err(writer.write_val(u64, 5n), Error.PageFault);
    assert_eq(writer.avail(), 8);
    // `read_val` moved the reader's cursor: a fresh one at the writer's place.
    let again: VmReader;
    unsafe: {
      again = VmReader.from_user_space(USER_BASE, 8);
    }
    assert_err(writer.atomic_compare_exchange(again, 0, 1), Error.PageFault);
    assert_err(reader.atomic_load(u32), Error.InvalidArgs);
  });
});

ktest("user_space_page_fault_handler_maps_on_demand", () => {
  let mapped: UserPages | null = null;
  let faults = 0;
  set_user_page_fault_handler((fault) => {
    faults++;
    if (mapped !== null || fault.vaddr < USER_BASE || fault.vaddr >= USER_BASE + 2 * PAGE_SIZE) return false;
    mapped = map_user_pages(USER_BASE, 2, true);
    return true;
  });
  let writer: VmWriter;
  let reader: VmReader;
  unsafe: {
    writer = VmWriter.from_user_space(USER_BASE + PAGE_SIZE - 2, 4);
    reader = VmReader.from_user_space(USER_BASE + PAGE_SIZE - 2, 4);
  }
  unwrap(writer.write_val(u32, 0xa1b2c3d4));
  assert_eq(faults, 1);
  assert_eq(unwrap(reader.read_val(u32)), 0xa1b2c3d4);
  // Past the two pages the handler declines: the copy stops.
  let far: VmWriter;
  unsafe: {
    far = VmWriter.from_user_space(USER_BASE + 2 * PAGE_SIZE - 2, 4);
  }
  assert_err(far.fill_zeros(4), [Error.PageFault, 2]);
  assert_eq(faults, 2);
  unmap_user_pages(mapped!);
});

ktest("user_space_atomics", () => {
  with_user_pages(1, true, () => {
    let writer: VmWriter;
    let reader: VmReader;
    unsafe: {
      writer = VmWriter.from_user_space(USER_BASE + 8, 4);
      reader = VmReader.from_user_space(USER_BASE + 8, 4);
    }
    assert_eq(JSON.stringify(unwrap(writer.atomic_compare_exchange(reader, 0, 7))), JSON.stringify([0, true]));
    assert_eq(JSON.stringify(unwrap(writer.atomic_compare_exchange(reader, 0, 9))), JSON.stringify([7, false]));
    assert_eq(unwrap(reader.atomic_load(u32)), 7);
    // Cursors do not move.
    assert_eq(reader.remain(), 4);
    assert_eq(writer.avail(), 4);
  });
});

ktest("user_space_user_to_user_copy_and_fill", () => {
  with_user_pages(2, true, () => {
    let w: VmWriter;
    unsafe: {
      w = VmWriter.from_user_space(USER_BASE, 2 * PAGE_SIZE);
    }
    // Fill across the page boundary, then copy user to user.
    w.skip(PAGE_SIZE - 8);
    assert_eq(unwrap(w.clone_exclusive().fill_zeros(16)), 16);
    const pattern = local(array(u8, 16), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    assert_eq(unwrap(w.write_fallible(VmReader.from(pattern.as_ref()))), 16);
    let src: VmReader;
    let dst: VmWriter;
    unsafe: {
      src = VmReader.from_user_space(USER_BASE + PAGE_SIZE - 8, 16);
      dst = VmWriter.from_user_space(USER_BASE + 64, 16);
    }
    assert_eq(unwrap(src.read_fallible(dst)), 16);
    const out = local(array(u8, 16), zeros(16));
    let r: VmReader;
    unsafe: {
      r = VmReader.from_user_space(USER_BASE + 64, 16);
    }
    unwrap(r.read_fallible(VmWriter.from(out.as_mut())));
    assert_bytes(out.read(), pattern.read());
  });
});

// ───────────────────────────── more: `VmIo` derived from readers and writers ─────────────────────────────

ktest("vmio_segment_vals_once_and_user_space", () => {
  const segment = new TestSegment(1);
  unwrap(segment.write_val(8, u64, 0x1122334455667788n));
  assert_eq(unwrap(segment.read_val(8, u64)), 0x1122334455667788n);
  unwrap(segment.write_once(16, u32, 0xfeedface));
  assert_eq(unwrap(segment.read_once(16, u32)), 0xfeedface);
  assert_err(segment.read_val(PAGE_SIZE + 1, u8), Error.InvalidArgs);
  assert_err(segment.write_val(PAGE_SIZE + 1, u8, 0), Error.InvalidArgs);
  with_user_pages(1, true, () => {
    let to_user: VmWriter;
    let from_user: VmReader;
    unsafe: {
      to_user = VmWriter.from_user_space(USER_BASE, 16);
      from_user = VmReader.from_user_space(USER_BASE, 16);
    }
    // Segment to user space and back to another offset.
    unwrap(segment.read(8, to_user));
    assert_eq(to_user.avail(), 0);
    unwrap(segment.write(64, from_user));
    assert_eq(unwrap(segment.read_val(64, u64)), 0x1122334455667788n);
    // No short reads or writes: past the segment's end.
    let w2: VmWriter;
    unsafe: {
      w2 = VmWriter.from_user_space(USER_BASE, 16);
    }
    assert_err(segment.read(PAGE_SIZE - 8, w2), Error.InvalidArgs);
    assert_err(segment.read(Number.MAX_SAFE_INTEGER, w2), Error.Overflow);
    // A fault in user space fails the whole read.
    let w3: VmWriter;
    unsafe: {
      w3 = VmWriter.from_user_space(USER_BASE + PAGE_SIZE - 8, 16);
    }
    assert_err(segment.read(0, w3), Error.PageFault);
    let r3: VmReader;
    unsafe: {
      r3 = VmReader.from_user_space(USER_BASE + PAGE_SIZE - 8, 16);
    }
    assert_err(segment.write(0, r3), Error.PageFault);
  });
  const bytes = local(array(u8, 4), [1, 2, 3, 4]);
  assert_err(segment.write_bytes(PAGE_SIZE - 2, bytes.as_ref()), Error.InvalidArgs);
  assert_err(segment.read_bytes(Number.MAX_SAFE_INTEGER, bytes.as_mut()), Error.Overflow);
  segment.drop();
});

/** A VM object whose readers and writers are denied (as a DMA stream of the other direction's). */
class DeniedVmObject extends VmIoByReaderWriter {
  reader(): Result<VmReader<Infallible>> {
    return { ok: false, error: Error.AccessDenied };
  }
  writer(): Result<VmWriter<Infallible>> {
    return { ok: false, error: Error.AccessDenied };
  }
}

ktest("vmio_reader_writer_results_denied", () => {
  const obj = new DeniedVmObject();
  const buf = local(array(u8, 4), zeros(4));
  assert_err(obj.read_bytes(0, buf.as_mut()), Error.AccessDenied);
  assert_err(obj.read_val(0, u32), Error.AccessDenied);
  assert_err(obj.read(0, VmWriter.from(buf.as_mut()).to_fallible()), Error.AccessDenied);
  assert_err(obj.write_bytes(0, buf.as_ref()), Error.AccessDenied);
  assert_err(obj.write_val(0, u32, 1), Error.AccessDenied);
  assert_err(obj.write(0, VmReader.from(buf.as_ref()).to_fallible()), Error.AccessDenied);
  assert_err(obj.fill_zeros(0, 4), [Error.AccessDenied, 0]);
  assert_err(obj.read_once(0, u32), Error.AccessDenied);
  assert_err(obj.write_once(0, u32, 1), Error.AccessDenied);
});

ktest.should_panic("atomic_load_of_a_non_pod_atomic_type_panics", () => {
  const buffer = local(array(u64, 1), [0n]);
  VmReader.from(buffer.as_ref()).to_fallible().atomic_load(u16);
});

ktest.should_panic("atomic_compare_exchange_different_places_panics", () => {
  const buffer = local(array(u32, 2), [0, 0]);
  const w = VmWriter.from(buffer.as_mut()).to_fallible();
  const r = VmReader.from(buffer.as_ref()).to_fallible().skip(4);
  w.atomic_compare_exchange(r, 0, 1);
});
