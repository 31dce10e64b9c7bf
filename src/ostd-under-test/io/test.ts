// The ktests of OSTD's `io` (asterinas/asterinas `ostd/src/io/io_mem/{mod,allocator}.rs`,
// `io/io_port/allocator.rs`), with their names, re-written for kmiri; then tests of `IoMem` and
// `IoPort` on Mirch devices (io/init.ts): device windows, ports, access modes, the allocators'
// refusals, and the claims Mirch checks every device access against.
import { array, assert, assert_eq, ktest, local, spawn, u16, u32, u64, u8 } from "kmiri/rt";
import {
  PAGE_SIZE,
  copy_from_mmio,
  copy_to_mmio,
  map_user_pages,
  read_once,
  unmap_user_pages,
  write_once,
} from "../arch/io.js";
import { Error, VmReader, VmWriter, unwrap, type Result } from "../mm/io.js";
import {
  IoMem,
  IoMemAllocator,
  IoMemAllocatorBuilder,
  IoPort,
  ReadOnlyAccess,
  ReadWriteAccess,
  WriteOnlyAccess,
  type IoPortReadAccess,
  type IoPortWriteAccess,
} from "./index.js";
import { RangeAllocError, RangeAllocator } from "./io_mem/range_alloc.js";
import { SERIAL_DATA, SERIAL_LINE_STATUS, init, serial_print } from "./init.js";

function assert_err<T>(r: Result<T, unknown>, error: unknown): void {
  assert(!r.ok, "expected an error");
  if (!r.ok) assert_eq(JSON.stringify(r.error), JSON.stringify(error));
}

const zeros = (n: number): number[] => new Array<number>(n).fill(0);

/** The scratch device's register bytes at reset: `(offset * 3 + 1) & 0xff`. */
const pattern_at = (off: number): number => (off * 3 + 1) & 0xff;
const pattern = (off: number, n: number): number[] => Array.from({ length: n }, (_, i) => pattern_at(off + i));

// ───────────────────────────── io_mem/mod.rs: arch read_once / write_once, copies ─────────────────────────────

ktest("read_write_u8", () => {
  const data = local(u8, 0);
  unsafe: {
    // SAFETY: `data` is valid for one read/write.
    const p = data.as_mut().as_mut_ptr().expose_provenance();
    write_once(p, u8, 42);
    assert_eq(read_once(p, u8), 42);
  }
});

ktest("read_write_u16", () => {
  const data = local(u16, 0);
  unsafe: {
    const p = data.as_mut().as_mut_ptr().expose_provenance();
    write_once(p, u16, 0x1234);
    assert_eq(read_once(p, u16), 0x1234);
  }
});

ktest("read_write_u32", () => {
  const data = local(u32, 0);
  unsafe: {
    const p = data.as_mut().as_mut_ptr().expose_provenance();
    write_once(p, u32, 0x12345678);
    assert_eq(read_once(p, u32), 0x12345678);
  }
});

ktest("read_write_u64", () => {
  const data = local(u64, 0n);
  unsafe: {
    const p = data.as_mut().as_mut_ptr().expose_provenance();
    write_once(p, u64, 0xdeadbeefcafebaben);
    assert_eq(read_once(p, u64), 0xdeadbeefcafebaben);
  }
});

ktest("boundary_overlap", () => {
  const data = local(array(u8, 2), [0xaa, 0xbb]);
  unsafe: {
    write_once(data.as_mut().as_mut_ptr().expose_provenance(), u8, 0x11);
  }
  assert_eq(data.read()[0], 0x11);
  assert_eq(data.read()[1], 0xbb);
});

function fill_pattern(n: number): number[] {
  return Array.from({ length: n }, (_, idx) => (idx * 3 + 1) & 0xff);
}

function run_copy_case(to_mmio: boolean, src_offset: number, dst_offset: number, len: number): void {
  const src = local(array(u8, 64), fill_pattern(64));
  const dst = local(array(u8, 64), zeros(64));
  unsafe: {
    // SAFETY: the offsets keep both ranges inside the 64-byte buffers.
    const s = src.as_ref().as_ptr().expose_provenance() + src_offset;
    const d = dst.as_mut().as_mut_ptr().expose_provenance() + dst_offset;
    if (to_mmio) copy_to_mmio(s, d, len);
    else copy_from_mmio(d, s, len);
  }
  assert_eq(dst.read().slice(dst_offset, dst_offset + len).join(","), src.read().slice(src_offset, src_offset + len).join(","));
}

function alignment_and_sizes(to_mmio: boolean): void {
  const word_size = 8;
  const sizes = [0, 1, word_size - 1, word_size, word_size + 1, word_size * 2 + 3];
  const offsets = [0, 1, 2];
  for (const len of sizes) {
    for (const src_offset of offsets) {
      for (const dst_offset of offsets) {
        if (src_offset + len <= 64 && dst_offset + len <= 64) run_copy_case(to_mmio, src_offset, dst_offset, len);
      }
    }
  }
}

ktest("copy_from_alignment_and_sizes", () => alignment_and_sizes(false));

ktest("copy_to_alignment_and_sizes", () => alignment_and_sizes(true));

// ───────────────────────────── io_mem/allocator.rs ─────────────────────────────

/** A test's own allocator over `ranges` (its locks freed by `drop`). */
function test_allocator(ranges: { start: number; end: number }[]): IoMemAllocator {
  unsafe: {
    // SAFETY: a test allocator; its ranges are not RAM the tests use.
    return IoMemAllocator.from_builder(IoMemAllocatorBuilder.new(ranges));
  }
}

/** `allocator.acquire(range, Uncacheable).is_some()`, the `IoMem` dropped at once (a temporary). */
function acquires(allocator: IoMemAllocator, start: number, end: number): boolean {
  const m = allocator.acquire({ start, end }, "Uncacheable");
  if (m === null) return false;
  m.drop();
  return true;
}

ktest("illegal_region", () => {
  const allocator = test_allocator([{ start: 0x4000_0000, end: 0x4200_0000 }]);
  const MAX = Number.MAX_SAFE_INTEGER; // usize::MAX
  assert(!acquires(allocator, 0, 0));
  assert(!acquires(allocator, MAX, 0));
  assert(!acquires(allocator, 0x4000_0000, 0x4000_0000));
  assert(!acquires(allocator, 0x4000_1000, 0x4000_1000));
  assert(!acquires(allocator, 0x41ff_0000, 0x41ff_0000));
  assert(!acquires(allocator, 0x4200_0000, 0x4200_0000));
  assert(!acquires(allocator, 0x4000_1000, 0x4000_0000));
  assert(!acquires(allocator, 0x4000_2000, 0x4000_1000));
  assert(!acquires(allocator, 0x41ff_f000, 0x41ff_e000));
  assert(!acquires(allocator, 0x4200_0000, 0x41ff_f000));
  allocator.drop();
});

ktest("conflict_region", () => {
  const max_paddr = 0x100_000_000_000; // 16 TiB
  const a = { start: max_paddr, end: max_paddr + 0x200_0000 };
  const b = { start: a.end + PAGE_SIZE, end: a.end + 10 * PAGE_SIZE };
  const allocator = test_allocator([a, b]);
  assert(!acquires(allocator, a.start - 1, a.start));
  assert(acquires(allocator, a.start, a.start + 1));
  assert(!acquires(allocator, a.end + 1, b.start - 1));
  assert(!acquires(allocator, a.end - 1, b.start + 1));
  assert(acquires(allocator, a.end - 1, a.end));
  assert(!acquires(allocator, a.end, a.end + 1));
  allocator.drop();
});

// ───────────────────────────── io_port/allocator.rs ─────────────────────────────

ktest("io_port_illegal_region", () => {
  init();
  assert(IoPort.acquire(u32, ReadWriteAccess, 0xffff).ok === false);
  // A port type wider than the whole port space.
  assert(IoPort.acquire(array(u8, 0x10008), ReadWriteAccess, 0).ok === false);
});

ktest("io_port_conflict_region", () => {
  init();
  const io_port_a = IoPort.acquire(u32, ReadWriteAccess, 0x60);
  assert(io_port_a.ok);
  // Conflicts with `io_port_a`.
  assert(!IoPort.acquire(u32, ReadWriteAccess, 0x62).ok);
  unwrap(io_port_a).drop();
  // No conflict any more.
  const io_port_b = IoPort.acquire(u32, ReadWriteAccess, 0x62);
  assert(io_port_b.ok);
  unwrap(io_port_b).drop();
});

ktest("io_port_overlapping_region", () => {
  init();
  // PCI CONFIG_DATA (32 bits at 0xcf8) overlaps the reset control register (one byte at 0xcf9).
  const pci_data = IoPort.acquire_overlapping(u32, ReadWriteAccess, 0xcf8);
  const rst_ctrl = IoPort.acquire(u8, ReadWriteAccess, 0xcf9);
  assert(pci_data.ok);
  assert(rst_ctrl.ok);
  assert(!IoPort.acquire_overlapping(u32, ReadWriteAccess, 0xcf8).ok);
  assert(!IoPort.acquire(u8, ReadWriteAccess, 0xcf9).ok);
  unwrap(pci_data).drop();
  unwrap(rst_ctrl).drop();
  const rst_ctrl3 = IoPort.acquire(u8, ReadWriteAccess, 0xcf9);
  assert(rst_ctrl3.ok);
  const pci_data3 = IoPort.acquire_overlapping(u32, ReadWriteAccess, 0xcf8);
  assert(pci_data3.ok);
  unwrap(rst_ctrl3).drop();
  unwrap(pci_data3).drop();
});

// ───────────────────────────── IoMem on Mirch devices ─────────────────────────────

/** The scratch device's window. */
function scratch_window(): { start: number; end: number } {
  const m = init().scratch.mmio!;
  return { start: m.paddr, end: m.paddr + m.len };
}

ktest("io_mem_read_write_once", () => {
  const w = scratch_window();
  const io_mem = unwrap(IoMem.acquire(w.start, w.end));
  assert_eq(io_mem.paddr(), w.start);
  assert_eq(io_mem.size(), w.end - w.start);
  assert_eq(io_mem.cache_policy(), "Uncacheable");
  // Registers at reset.
  assert_eq(unwrap(io_mem.read_once(0, u32)), 0x0a070401);
  assert_eq(unwrap(io_mem.read_once(3, u8)), 10);
  unwrap(io_mem.write_once(8, u32, 0xdeadbeef));
  assert_eq(unwrap(io_mem.read_once(8, u32)), 0xdeadbeef);
  assert_eq(unwrap(io_mem.read_once(8, u16)), 0xbeef);
  unwrap(io_mem.write_once(16, u64, 0x0102030405060708n));
  assert_eq(unwrap(io_mem.read_once(16, u64)), 0x0102030405060708n);
  assert_eq(unwrap(io_mem.read_once(20, u32)), 0x01020304);
  // Unaligned, and out of the window: refused before any device access.
  assert_err(io_mem.read_once(2, u32), Error.InvalidArgs);
  assert_err(io_mem.write_once(6, u64, 0n), Error.InvalidArgs);
  assert_err(io_mem.read_once(w.end - w.start - 2, u32), Error.InvalidArgs);
  assert_err(io_mem.write_once(w.end - w.start, u8, 0), Error.InvalidArgs);
  io_mem.drop();
});

ktest("io_mem_vmio_bytes_vals_fill", () => {
  const w = scratch_window();
  const io_mem = unwrap(IoMem.acquire(w.start, w.end));
  const len = w.end - w.start;
  // Unaligned byte copies from and to the device (split into naturally aligned accesses).
  const buf = local(array(u8, 13), zeros(13));
  unwrap(io_mem.read_bytes(5, buf.as_mut()));
  assert_eq(buf.read().join(","), pattern(5, 13).join(","));
  const data = local(array(u8, 7), [9, 8, 7, 6, 5, 4, 3]);
  unwrap(io_mem.write_bytes(33, data.as_ref()));
  assert_eq(unwrap(io_mem.read_val(33, array(u8, 7))).join(","), "9,8,7,6,5,4,3");
  unwrap(io_mem.write_val(40, u64, 0x1122334455667788n));
  assert_eq(unwrap(io_mem.read_val(40, u64)), 0x1122334455667788n);
  assert_eq(unwrap(io_mem.read_val(41, u32)), 0x44556677);
  // Through readers and writers of kernel memory (VmIo::read / write).
  const out = local(array(u8, 4), zeros(4));
  unwrap(io_mem.read(40, VmWriter.from(out.as_mut()).to_fallible()));
  assert_eq(out.read().join(","), "136,119,102,85");
  const src = local(array(u8, 3), [1, 2, 3]);
  unwrap(io_mem.write(100, VmReader.from(src.as_ref()).to_fallible()));
  assert_eq(unwrap(io_mem.read_val(100, array(u8, 3))).join(","), "1,2,3");
  // fill_zeros: within, then short at the end.
  unwrap(io_mem.fill_zeros(100, 2));
  assert_eq(unwrap(io_mem.read_val(100, array(u8, 3))).join(","), "0,0,3");
  assert_err(io_mem.fill_zeros(len - 4, 10), [Error.InvalidArgs, 4]);
  assert_err(io_mem.fill_zeros(len + 1, 1), [Error.InvalidArgs, 0]);
  // Out of bounds.
  assert_err(io_mem.read_bytes(len - 5, buf.as_mut()), Error.InvalidArgs);
  assert_err(io_mem.write_bytes(len, data.as_ref()), Error.InvalidArgs);
  io_mem.drop();
});

ktest("io_mem_reader_writer", () => {
  const w = scratch_window();
  const io_mem = unwrap(IoMem.acquire(w.start, w.end));
  const out = local(array(u8, 10), zeros(10));
  const reader = io_mem.reader();
  reader.skip(1);
  assert_eq(reader.read(VmWriter.from(out.as_mut())), 10);
  assert_eq(out.read().join(","), pattern(1, 10).join(","));
  const writer = io_mem.writer();
  writer.skip(64);
  unwrap(writer.write_val(u32, 0xa5a5a5a5));
  assert_eq(writer.fill_zeros(3), 3);
  assert_eq(unwrap(io_mem.read_once(64, u32)), 0xa5a5a5a5);
  assert_eq(unwrap(io_mem.read_once(68, u32)), pattern_at(71) * 0x100_0000);
  io_mem.drop();
});

ktest("io_mem_slice_shares_the_acquisition", () => {
  const w = scratch_window();
  const io_mem = unwrap(IoMem.acquire(w.start, w.end));
  const slice = io_mem.slice(4, 12);
  assert_eq(slice.paddr(), w.start + 4);
  assert_eq(slice.size(), 8);
  assert_eq(unwrap(slice.read_once(0, u32)), unwrap(io_mem.read_once(4, u32)));
  assert_err(slice.read_once(8, u8), Error.InvalidArgs);
  const copy = slice.clone();
  io_mem.drop();
  // The slice still holds the window: it cannot be acquired again, and the slice still works.
  assert_err(IoMem.acquire(w.start, w.end), Error.AccessDenied);
  unwrap(slice.write_once(4, u32, 7));
  assert_eq(unwrap(copy.read_once(4, u32)), 7);
  slice.drop();
  copy.drop();
  // The last one gave the range back.
  const again = unwrap(IoMem.acquire(w.start, w.end));
  again.drop();
});

ktest.should_panic("io_mem_slice_out_of_bounds_panics", () => {
  const w = scratch_window();
  const io_mem = unwrap(IoMem.acquire(w.start, w.end));
  io_mem.slice(0, w.end - w.start + 1);
});

ktest.should_panic("io_mem_empty_slice_panics", () => {
  const w = scratch_window();
  const io_mem = unwrap(IoMem.acquire(w.start, w.end));
  io_mem.slice(8, 8);
});

ktest("io_mem_double_acquire_fails", () => {
  const w = scratch_window();
  const first = unwrap(IoMem.acquire(w.start, w.start + PAGE_SIZE));
  assert_err(IoMem.acquire(w.start, w.start + PAGE_SIZE), Error.AccessDenied);
  // Overlapping, or covering it.
  assert_err(IoMem.acquire(w.start + 16, w.start + 32), Error.AccessDenied);
  assert_err(IoMem.acquire(w.start, w.end), Error.AccessDenied);
  // The other page of the window is still free.
  const second = unwrap(IoMem.acquire(w.start + PAGE_SIZE, w.end));
  first.drop();
  const third = unwrap(IoMem.acquire(w.start + 16, w.start + 32));
  third.drop();
  second.drop();
});

ktest("io_mem_out_of_range_fails", () => {
  const w = scratch_window();
  // RAM, empty and reversed ranges, a range running out of the MMIO hole.
  assert_err(IoMem.acquire(0x10_0000, 0x10_1000), Error.AccessDenied);
  assert_err(IoMem.acquire(w.start, w.start), Error.AccessDenied);
  assert_err(IoMem.acquire(w.end, w.start), Error.AccessDenied);
  assert_err(IoMem.acquire(0xffff_f000, 0x1_0000_1000), Error.AccessDenied);
});

ktest("io_mem_sensitive_window_is_reserved", () => {
  const bench = init();
  const sys = bench.system.mmio!;
  // Drivers cannot acquire a system device's registers, even partly...
  assert_err(IoMem.acquire(sys.paddr, sys.paddr + sys.len), Error.AccessDenied);
  assert_err(IoMem.acquire(sys.paddr + 8, sys.paddr + 16), Error.AccessDenied);
  // ...while its OSTD driver uses them through the unsafe accessors.
  unsafe: {
    // SAFETY: offset 0 of the bench's system device is a plain register.
    bench.system_io_mem.write_once_sensitive(0, u32, 0x5a5a);
    assert_eq(bench.system_io_mem.read_once_sensitive(0, u32), 0x5a5a);
  }
});

ktest("io_mem_cache_policy_and_partial_ranges", () => {
  const w = scratch_window();
  const io_mem = unwrap(IoMem.acquire_with_cache_policy(w.start + 0x100, w.start + 0x108, "WriteCombining"));
  assert_eq(io_mem.cache_policy(), "WriteCombining");
  assert_eq(io_mem.size(), 8);
  // Offsets are relative to the acquired range, not the page.
  assert_eq(unwrap(io_mem.read_once(0, u32)), pattern(0x100, 4).reduce((v, b, i) => v + b * 2 ** (8 * i), 0));
  assert_err(io_mem.read_once(8, u8), Error.InvalidArgs);
  io_mem.drop();
});

ktest("io_mem_read_write_fallible_user_space", () => {
  const w = scratch_window();
  const io_mem = unwrap(IoMem.acquire(w.start, w.end));
  const USER = 0x40_0000;
  const u = map_user_pages(USER, 1, true);
  let writer: VmWriter;
  unsafe: {
    // SAFETY: a user-space range.
    writer = VmWriter.from_user_space(USER + PAGE_SIZE - 6, 6);
  }
  assert_eq(unwrap(io_mem.read_fallible(2, writer)), 6);
  assert_eq(writer.avail(), 0);
  let reader: VmReader;
  unsafe: {
    reader = VmReader.from_user_space(USER + PAGE_SIZE - 6, 6);
  }
  assert_eq(unwrap(io_mem.write_fallible(200, reader)), 6);
  assert_eq(unwrap(io_mem.read_val(200, array(u8, 6))).join(","), pattern(2, 6).join(","));
  // Across the end of the mapped page: the copy stops at the fault.
  let far: VmWriter;
  unsafe: {
    far = VmWriter.from_user_space(USER + PAGE_SIZE - 4, 8);
  }
  assert_err(io_mem.read_fallible(0, far), [Error.PageFault, 4]);
  assert_eq(far.avail(), 4);
  let far_r: VmReader;
  unsafe: {
    far_r = VmReader.from_user_space(USER + PAGE_SIZE - 4, 8);
  }
  assert_err(io_mem.write(300, far_r), Error.PageFault);
  // Out of the window.
  let any: VmWriter;
  unsafe: {
    any = VmWriter.from_user_space(USER, 16);
  }
  assert_err(io_mem.read_fallible(w.end - w.start - 8, any), [Error.InvalidArgs, 0]);
  unmap_user_pages(u);
  io_mem.drop();
});

ktest("io_mem_concurrent_acquire_one_wins", () => {
  const w = scratch_window();
  const take = (): IoMem | null => {
    const r = IoMem.acquire(w.start, w.start + 64);
    return r.ok ? r.value : null;
  };
  const other = spawn(take);
  const mine = take();
  const theirs = other.join();
  assert((mine === null) !== (theirs === null), "exactly one CPU gets the range");
  (mine ?? theirs)!.drop();
});

// ───────────────────────────── IoPort on Mirch devices ─────────────────────────────

ktest("io_port_read_write_widths", () => {
  const base = init().scratch.ports!.base;
  const p8 = unwrap(IoPort.acquire(u8, ReadWriteAccess, base));
  const p16 = unwrap(IoPort.acquire(u16, ReadWriteAccess, base + 2));
  const p32 = unwrap(IoPort.acquire(u32, ReadWriteAccess, base + 4));
  assert_eq(p32.port(), base + 4);
  assert_eq(p32.size(), 4);
  p8.write(0xab);
  p16.write(0xbeef);
  p32.write(0x12345678);
  assert_eq(p8.read(), 0xab);
  assert_eq(p16.read(), 0xbeef);
  assert_eq(p32.read(), 0x12345678);
  // The u32 covers 4 ports: the byte at base + 5 is taken.
  assert_err(IoPort.acquire(u8, ReadWriteAccess, base + 5), Error.AccessDenied);
  p8.drop();
  p16.drop();
  p32.drop();
});

ktest("io_port_console_access_modes", () => {
  const base = init().console.ports!.base;
  // The 16550's transmit holding register is written, its line status read.
  const thr = unwrap(IoPort.acquire(u8, WriteOnlyAccess, base));
  const lsr = unwrap(IoPort.acquire(u8, ReadOnlyAccess, base + 5));
  assert_eq(lsr.read() & 0x20, 0x20); // ready to transmit
  for (const c of "io_port ok\n") thr.write(c.charCodeAt(0));
  // `thr.read()` and `lsr.write(0)` do not type-check (IoPortReadAccess / IoPortWriteAccess).
  const check_types = (r: IoPort<number, IoPortReadAccess>, w: IoPort<number, IoPortWriteAccess>): void => {
    void r;
    void w;
  };
  check_types(lsr, thr);
  thr.drop();
  lsr.drop();
});

ktest.should_panic("io_port_write_on_read_only_panics", () => {
  const base = init().console.ports!.base;
  const lsr = unwrap(IoPort.acquire(u8, ReadOnlyAccess, base + 5));
  // Forced past the type check: the access is still refused.
  (lsr as unknown as IoPort<number, IoPortWriteAccess>).write(0);
});

ktest("io_port_sensitive_ports_are_reserved", () => {
  init();
  // The firmware console (COM1) and the PIC belong to OSTD's own drivers.
  assert_err(IoPort.acquire(u8, ReadWriteAccess, 0x3f8), Error.AccessDenied);
  assert_err(IoPort.acquire(u8, ReadWriteAccess, 0x3ff), Error.AccessDenied);
  assert_err(IoPort.acquire(u32, ReadWriteAccess, 0x3f6), Error.AccessDenied);
  assert_err(IoPort.acquire(u8, WriteOnlyAccess, 0x20), Error.AccessDenied);
  assert_err(IoPort.acquire_overlapping(u16, ReadWriteAccess, 0xa1), Error.AccessDenied);
  // Next to them is free.
  unwrap(IoPort.acquire(u8, ReadWriteAccess, 0x400)).drop();
});

ktest("io_port_drop_recycles", () => {
  const base = init().scratch.ports!.base;
  for (let i = 0; i < 3; i++) {
    const p = unwrap(IoPort.acquire(u16, ReadWriteAccess, base));
    assert_err(IoPort.acquire(u16, ReadWriteAccess, base), Error.AccessDenied);
    p.write(i);
    assert_eq(p.read(), i);
    p.drop();
  }
});

ktest("io_port_concurrent_acquire_one_wins", () => {
  const base = init().scratch.ports!.base;
  const take = (): IoPort<number, ReadWriteAccess> | null => {
    const r = IoPort.acquire(u32, ReadWriteAccess, base);
    return r.ok ? r.value : null;
  };
  const other = spawn(take);
  const mine = take();
  const theirs = other.join();
  assert((mine === null) !== (theirs === null), "exactly one CPU gets the port");
  const winner = (mine ?? theirs)!;
  winner.write(0x0badf00d);
  assert_eq(winner.read(), 0x0badf00d);
  winner.drop();
});

ktest("io_port_sensitive_serial_ports", () => {
  init();
  // The serial driver's statics work without the allocator, which never hands them out.
  assert_eq(SERIAL_LINE_STATUS.read() & 0x60, 0x60);
  serial_print("serial ok\n");
  assert_eq(SERIAL_DATA.port(), 0x3f8);
  assert_eq(SERIAL_LINE_STATUS.size(), 1);
  assert_err(IoPort.acquire(u8, ReadOnlyAccess, 0x3fd), Error.AccessDenied);
});

// ───────────────────────────── the range allocator under IoMem ─────────────────────────────

ktest("range_allocator_alloc_specific_free_merges", () => {
  const a = RangeAllocator.new({ start: 0x1000, end: 0x9000 });
  assert_eq(a.fullrange().end, 0x9000);
  // First fit takes from the end of the first block large enough.
  const r1 = a.alloc(0x1000);
  assert(!(r1 instanceof RangeAllocError));
  if (!(r1 instanceof RangeAllocError)) assert_eq(r1.start, 0x8000);
  assert_eq(a.alloc_specific({ start: 0x2000, end: 0x3000 }), null);
  assert(a.alloc_specific({ start: 0x2800, end: 0x3800 }) instanceof RangeAllocError);
  assert(a.alloc_specific({ start: 0x4000, end: 0x4000 }) instanceof RangeAllocError);
  assert_eq(a.alloc_specific({ start: 0x1000, end: 0x2000 }), null);
  assert(a.alloc(0x8000) instanceof RangeAllocError);
  // Free in an order that merges with the block before, after, and both.
  a.free({ start: 0x2000, end: 0x3000 });
  a.free({ start: 0x8000, end: 0x9000 });
  a.free({ start: 0x1000, end: 0x2000 });
  // Everything is one block again.
  assert_eq(a.alloc_specific({ start: 0x1000, end: 0x9000 }), null);
  a.free({ start: 0x1000, end: 0x9000 });
  const all = a.alloc(0x8000);
  assert(!(all instanceof RangeAllocError));
  a.drop();
});
