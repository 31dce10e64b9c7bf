// OSTD's DMA ktests (asterinas/asterinas `ostd/src/mm/dma/test.rs`: `mod dma_coherent`, `mod
// dma_stream`) with their names (prefixed by their Rust module, as two share a name), re-written
// for kmiri; then tests with a device: a small DMA engine model attached to the Machine reads a
// stream the CPU filled and synced, writes one the CPU syncs and reads, and processes a ring in
// coherent memory — on the cache-coherent paths, the uncacheable `KVirtArea` ones, and the bounce
// buffer of a platform without DMA cache maintenance. Every test boots first and frees what it
// allocates.
import {
  AtomicBool, array, assert, assert_eq, ktest, local, spawn, spin_loop, static_, u32, u64, u8, type Ref, type RefMut,
} from "kmiri/rt";
import { set_dma_cache_maintenance_for_test } from "../../arch/dma.js";
import { attach_device, type DeviceContext, type DeviceModel } from "../../arch/io.js";
import type { IrqLine } from "../../arch/irq.js";
import { PAGE_SIZE } from "../../arch/mm.js";
import { init } from "../../boot.js";
import { init as io_bench_init } from "../../io/init.js";
import { IoMem } from "../../io/index.js";
import { Frame, FrameAllocOptions, UnitMeta } from "../frame/index.js";
import { Error, VmReader, VmWriter, unwrap, type Result } from "../io.js";
import { DmaCoherent, DmaStream, FromAndToDevice, FromDevice, ToDevice } from "./index.js";
import { DmaBufferMeta, RangeCounter, dma_mapped_count } from "./util.js";

/** `n` bytes of `value`. */
const bytes = (n: number, value: number): number[] => new Array<number>(n).fill(value);


function assert_bytes(actual: readonly number[], expected: readonly number[]): void {
  assert_eq(actual.length, expected.length);
  assert_eq(actual.join(","), expected.join(","));
}

function assert_err<T>(r: Result<T, unknown>, error: unknown): void {
  assert(!r.ok, "expected an error");
  if (!r.ok) assert_eq(JSON.stringify(r.error), JSON.stringify(error));
}

/** A one-frame-or-more untyped segment (`alloc_segment_with(n, |_| ())`). */
function untyped_segment(nframes: number) {
  return unwrap(FrameAllocOptions.new().alloc_segment_with(nframes, () => UnitMeta.of(undefined)));
}

/** Runs `body` as on a platform without DMA cache maintenance (RISC-V without Zicbom). */
function without_cache_maintenance(body: () => void): void {
  set_dma_cache_maintenance_for_test(false);
  try {
    body();
  } finally {
    set_dma_cache_maintenance_for_test(true);
  }
}

// ───────────────────────────── mod dma_coherent ─────────────────────────────

ktest("dma_coherent::alloc_with_coherent_device", () => {
  init();
  const dma_coherent = unwrap(DmaCoherent.alloc(1, true));
  assert_eq(dma_coherent.size(), PAGE_SIZE);
  dma_coherent.drop();
});

ktest("dma_coherent::read_write", () => {
  init();
  const dma_coherent = unwrap(DmaCoherent.alloc(2, false));
  assert_eq(dma_coherent.size(), 2 * PAGE_SIZE);

  const buf_write = local(array(u8, 2 * PAGE_SIZE), bytes(2 * PAGE_SIZE, 1));
  unwrap(dma_coherent.write_bytes(0, buf_write.as_ref()));
  const buf_read = local(array(u8, 2 * PAGE_SIZE));
  unwrap(dma_coherent.read_bytes(0, buf_read.as_mut()));
  assert_bytes(buf_read.read(), buf_write.read());
  dma_coherent.drop();
});

ktest("dma_coherent::read_write_once", () => {
  init();
  const dma_coherent = unwrap(DmaCoherent.alloc(2, false));

  const buf_write = 1n;
  unwrap(dma_coherent.write_once(0, u64, buf_write));
  const buf_read = unwrap(dma_coherent.read_once(0, u64));
  assert_eq(buf_read, buf_write);
  dma_coherent.drop();
});

ktest("dma_coherent::reader_writer", () => {
  init();
  const dma_coherent = unwrap(DmaCoherent.alloc(2, false));

  const buf_write = local(array(u8, PAGE_SIZE), bytes(PAGE_SIZE, 1));
  const writer = dma_coherent.writer();
  writer.write(VmReader.from(buf_write.as_ref()));
  writer.write(VmReader.from(buf_write.as_ref()));

  const buf_read = local(array(u8, 2 * PAGE_SIZE));
  const reader = dma_coherent.reader();
  reader.read(VmWriter.from(buf_read.as_mut()));
  assert_bytes(buf_read.read(), bytes(2 * PAGE_SIZE, 1));
  dma_coherent.drop();
});

ktest("dma_coherent::zero_length_operations", () => {
  init();
  const dma_coherent = unwrap(DmaCoherent.alloc(1, false));

  // Zero-length reads and writes succeed.
  const empty_buf = local(array(u8, 0), bytes(0, 0));
  unwrap(dma_coherent.write_bytes(0, empty_buf.as_ref()));
  const empty_read = local(array(u8, 0), bytes(0, 0));
  unwrap(dma_coherent.read_bytes(0, empty_read.as_mut()));
  dma_coherent.drop();
});

ktest("dma_coherent::complex_read_write_patterns", () => {
  init();
  const dma_coherent = unwrap(DmaCoherent.alloc(4, false));

  // Alternating pages.
  const pattern1 = local(array(u8, PAGE_SIZE), bytes(PAGE_SIZE, 0xaa));
  const pattern2 = local(array(u8, PAGE_SIZE), bytes(PAGE_SIZE, 0x55));
  unwrap(dma_coherent.write_bytes(0, pattern1.as_ref()));
  unwrap(dma_coherent.write_bytes(PAGE_SIZE, pattern2.as_ref()));
  unwrap(dma_coherent.write_bytes(2 * PAGE_SIZE, pattern1.as_ref()));
  unwrap(dma_coherent.write_bytes(3 * PAGE_SIZE, pattern2.as_ref()));

  const read_buf = local(array(u8, 4 * PAGE_SIZE));
  unwrap(dma_coherent.read_bytes(0, read_buf.as_mut()));
  const read = read_buf.read();
  assert_bytes(read.slice(0, PAGE_SIZE), pattern1.read());
  assert_bytes(read.slice(PAGE_SIZE, 2 * PAGE_SIZE), pattern2.read());
  assert_bytes(read.slice(2 * PAGE_SIZE, 3 * PAGE_SIZE), pattern1.read());
  assert_bytes(read.slice(3 * PAGE_SIZE, 4 * PAGE_SIZE), pattern2.read());
  dma_coherent.drop();
});

ktest("dma_coherent::alloc_uninit_dma_coherent", () => {
  init();
  const dma_coherent = unwrap(DmaCoherent.alloc_uninit(1, false));
  assert_eq(dma_coherent.size(), PAGE_SIZE);

  const buf_write = local(array(u8, PAGE_SIZE), bytes(PAGE_SIZE, 0xcd));
  unwrap(dma_coherent.write_bytes(0, buf_write.as_ref()));

  const buf_read = local(array(u8, PAGE_SIZE));
  unwrap(dma_coherent.read_bytes(0, buf_read.as_mut()));
  assert_bytes(buf_read.read(), buf_write.read());
  dma_coherent.drop();
});

// ───────────────────────────── mod dma_stream ─────────────────────────────

ktest("dma_stream::streaming_map", () => {
  init();
  const segment = untyped_segment(1);
  const dma_stream = unwrap(DmaStream.map(segment.clone().into_usegment(), true, FromAndToDevice));
  assert_eq(dma_stream.paddr(), segment.paddr());
  assert_eq(dma_stream.size(), PAGE_SIZE);
  dma_stream.drop();
  segment.drop();
});

ktest("dma_stream::read_write", () => {
  init();
  const segment = untyped_segment(2);
  const dma_stream = unwrap(DmaStream.map(segment.into_usegment(), false, FromAndToDevice));

  const buf_write = local(array(u8, 2 * PAGE_SIZE), bytes(2 * PAGE_SIZE, 1));
  unwrap(dma_stream.write_bytes(0, buf_write.as_ref()));
  unwrap(dma_stream.sync_to_device({ start: 0, end: 2 * PAGE_SIZE }));
  const buf_read = local(array(u8, 2 * PAGE_SIZE));
  unwrap(dma_stream.sync_from_device({ start: 0, end: 2 * PAGE_SIZE }));
  unwrap(dma_stream.read_bytes(0, buf_read.as_mut()));
  assert_bytes(buf_read.read(), buf_write.read());
  dma_stream.drop();
});

ktest("dma_stream::reader_writer", () => {
  init();
  const segment = untyped_segment(2);
  const dma_stream = unwrap(DmaStream.map(segment.into_usegment(), false, FromAndToDevice));

  const buf_write = local(array(u8, PAGE_SIZE), bytes(PAGE_SIZE, 1));
  const writer = unwrap(dma_stream.writer());
  writer.write(VmReader.from(buf_write.as_ref()));
  writer.write(VmReader.from(buf_write.as_ref()));
  unwrap(dma_stream.sync_to_device({ start: 0, end: 2 * PAGE_SIZE }));
  const buf_read = local(array(u8, 2 * PAGE_SIZE));
  const reader = unwrap(dma_stream.reader());
  unwrap(dma_stream.sync_from_device({ start: 0, end: 2 * PAGE_SIZE }));
  reader.read(VmWriter.from(buf_read.as_mut()));
  assert_bytes(buf_read.read(), bytes(2 * PAGE_SIZE, 1));
  dma_stream.drop();
});

ktest("dma_stream::to_device", () => {
  init();
  const segment = untyped_segment(1);
  const dma_stream = unwrap(DmaStream.map(segment.clone().into_usegment(), false, ToDevice));
  assert_eq(dma_stream.paddr(), segment.paddr());
  assert_eq(dma_stream.size(), PAGE_SIZE);

  const out = local(array(u8, 8), bytes(8, 0));
  const writer_fallible = VmWriter.from(out.as_mut()).to_fallible();
  assert(!dma_stream.read(0, writer_fallible).ok);

  const src = local(array(u8, 8), bytes(8, 0));
  const reader_fallible = VmReader.from(src.as_ref()).to_fallible();
  assert(dma_stream.write(0, reader_fallible).ok);

  assert(!dma_stream.reader().ok);
  assert(dma_stream.writer().ok);
  dma_stream.drop();
  segment.drop();
});

ktest("dma_stream::from_device", () => {
  init();
  const segment = untyped_segment(1);
  const dma_stream = unwrap(DmaStream.map(segment.clone().into_usegment(), false, FromDevice));
  assert_eq(dma_stream.paddr(), segment.paddr());
  assert_eq(dma_stream.size(), PAGE_SIZE);

  const out = local(array(u8, 8), bytes(8, 0));
  const writer_fallible = VmWriter.from(out.as_mut()).to_fallible();
  assert(dma_stream.read(0, writer_fallible).ok);

  const src = local(array(u8, 8), bytes(8, 0));
  const reader_fallible = VmReader.from(src.as_ref()).to_fallible();
  assert(!dma_stream.write(0, reader_fallible).ok);

  assert(dma_stream.reader().ok);
  assert(!dma_stream.writer().ok);
  dma_stream.drop();
  segment.drop();
});

ktest("dma_stream::streaming_boundary_conditions", () => {
  init();
  const segment = untyped_segment(2);
  const dma_stream = unwrap(DmaStream.map(segment.into_usegment(), false, FromAndToDevice));

  // A write across the page boundary.
  const small_buf = local(array(u8, 128), bytes(128, 0xaa));
  unwrap(dma_stream.write_bytes(PAGE_SIZE - 64, small_buf.as_ref()));
  unwrap(dma_stream.sync_to_device({ start: PAGE_SIZE - 64, end: PAGE_SIZE + 64 }));
  const read_buf = local(array(u8, 128));
  unwrap(dma_stream.sync_from_device({ start: PAGE_SIZE - 64, end: PAGE_SIZE + 64 }));
  unwrap(dma_stream.read_bytes(PAGE_SIZE - 64, read_buf.as_mut()));
  assert_bytes(read_buf.read(), small_buf.read());
  dma_stream.drop();
});

ktest("dma_stream::alloc_dma_stream", () => {
  init();
  const dma_stream = unwrap(DmaStream.alloc(2, false, FromAndToDevice));
  assert_eq(dma_stream.size(), 2 * PAGE_SIZE);

  // Zeroed.
  const buf_read = local(array(u8, 2 * PAGE_SIZE));
  unwrap(dma_stream.sync_from_device({ start: 0, end: 2 * PAGE_SIZE }));
  unwrap(dma_stream.read_bytes(0, buf_read.as_mut()));
  assert_bytes(buf_read.read(), bytes(2 * PAGE_SIZE, 0));

  const buf_write = local(array(u8, 2 * PAGE_SIZE), bytes(2 * PAGE_SIZE, 0xab));
  unwrap(dma_stream.write_bytes(0, buf_write.as_ref()));
  unwrap(dma_stream.sync_to_device({ start: 0, end: 2 * PAGE_SIZE }));

  const buf_read2 = local(array(u8, 2 * PAGE_SIZE));
  unwrap(dma_stream.sync_from_device({ start: 0, end: 2 * PAGE_SIZE }));
  unwrap(dma_stream.read_bytes(0, buf_read2.as_mut()));
  assert_bytes(buf_read2.read(), buf_write.read());
  dma_stream.drop();
});

ktest("dma_stream::alloc_uninit_dma_stream", () => {
  init();
  const dma_stream = unwrap(DmaStream.alloc_uninit(1, false, FromAndToDevice));
  assert_eq(dma_stream.size(), PAGE_SIZE);

  const buf_write = local(array(u8, PAGE_SIZE), bytes(PAGE_SIZE, 0xcd));
  unwrap(dma_stream.write_bytes(0, buf_write.as_ref()));
  unwrap(dma_stream.sync_to_device({ start: 0, end: PAGE_SIZE }));

  const buf_read = local(array(u8, PAGE_SIZE));
  unwrap(dma_stream.sync_from_device({ start: 0, end: PAGE_SIZE }));
  unwrap(dma_stream.read_bytes(0, buf_read.as_mut()));
  assert_bytes(buf_read.read(), buf_write.read());
  dma_stream.drop();
});

// ───────────────────────────── a DMA engine (the device model) ─────────────────────────────

// Registers (u32): the device address (low, high), a length, a seed, the command (the doorbell),
// the result.
const REG_DADDR_LO = 0x00;
const REG_DADDR_HI = 0x04;
const REG_LEN = 0x08;
const REG_SEED = 0x0c;
const REG_CMD = 0x10;
const REG_RESULT = 0x14;
/** Reads `len` bytes at the address; the result is their checksum. */
const CMD_SUM = 1;
/** Writes `len` bytes of `fill_pattern(seed, len)` at the address; the result is `len`. */
const CMD_FILL = 2;
/** Serves the ring at the address (see `RING_*`); the result is the number of entries served. */
const CMD_RING = 3;
/** Like `CMD_FILL`, then raises the device's interrupt. */
const CMD_FILL_IRQ = 4;

// The ring, in coherent DMA memory: the CPU's producer index, the device's consumer index, then
// `RING_SIZE` u32 entries; the device replaces each entry `v` it serves by `2 * v + 1`.
const RING_HEAD = 0;
const RING_TAIL = 4;
const RING_ENTRIES = 8;
const RING_SIZE = 16;

/** A checksum of bytes (position-sensitive). */
function checksum(data: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < data.length; i++) s = (Math.imul(s, 31) + data[i]!) >>> 0;
  return s;
}

/** What `CMD_FILL` writes. */
function fill_pattern(seed: number, len: number): number[] {
  return Array.from({ length: len }, (_, i) => (seed + i * 7) & 0xff);
}

/** The DMA engine: it reaches memory only by DMA through the IOMMU, at device addresses. */
function dma_engine(): DeviceModel {
  let daddr_lo = 0;
  let daddr_hi = 0;
  let len = 0;
  let seed = 0;
  let cmd = 0;
  let result = 0;
  const serve_ring = (dev: DeviceContext, ring: number): number => {
    const head = dev.dma_read_u32(ring + RING_HEAD);
    let tail = dev.dma_read_u32(ring + RING_TAIL);
    let served = 0;
    while (tail !== head) {
      const at = ring + RING_ENTRIES + 4 * (tail % RING_SIZE);
      dev.dma_write_u32(at, (dev.dma_read_u32(at) * 2 + 1) >>> 0);
      tail = (tail + 1) >>> 0;
      served++;
    }
    dev.dma_write_u32(ring + RING_TAIL, tail);
    return served;
  };
  return {
    name: "dma-engine",
    mmio_write(offset, _size, value) {
      const v = Number(value);
      if (offset === REG_DADDR_LO) daddr_lo = v;
      else if (offset === REG_DADDR_HI) daddr_hi = v;
      else if (offset === REG_LEN) len = v;
      else if (offset === REG_SEED) seed = v;
      else if (offset === REG_CMD) cmd = v;
    },
    mmio_read: (offset) => (offset === REG_RESULT ? result : 0),
    run(dev) {
      if (cmd === 0) return;
      const daddr = daddr_hi * 2 ** 32 + daddr_lo;
      if (cmd === CMD_SUM) {
        result = checksum(dev.dma_read(daddr, len));
      } else if (cmd === CMD_FILL || cmd === CMD_FILL_IRQ) {
        dev.dma_write(daddr, Uint8Array.from(fill_pattern(seed, len)));
        result = len;
        if (cmd === CMD_FILL_IRQ) dev.raise_irq();
      } else if (cmd === CMD_RING) {
        result = serve_ring(dev, daddr);
      }
      cmd = 0;
    },
  };
}

/** The engine's driver: its registers through an `IoMem`. */
class Engine {
  private constructor(
    private readonly regs: IoMem,
    readonly irq: IrqLine | undefined,
  ) {}

  static attach(with_irq = false): Engine {
    io_bench_init();
    const dev = attach_device(dma_engine(), { irq: with_irq });
    const m = dev.mmio!;
    return new Engine(unwrap(IoMem.acquire(m.paddr, m.paddr + m.len)), dev.irq);
  }

  /** Programs a command and rings the doorbell; the result register. */
  command(cmd: number, daddr: number, len: number, seed = 0): number {
    unwrap(this.regs.write_once(REG_DADDR_LO, u32, daddr % 2 ** 32));
    unwrap(this.regs.write_once(REG_DADDR_HI, u32, Math.floor(daddr / 2 ** 32)));
    unwrap(this.regs.write_once(REG_LEN, u32, len));
    unwrap(this.regs.write_once(REG_SEED, u32, seed));
    unwrap(this.regs.write_once(REG_CMD, u32, cmd));
    return unwrap(this.regs.read_once(REG_RESULT, u32));
  }

  drop(): void {
    this.regs.drop();
  }
}

/** Writes `data` at `offset` of a stream or coherent buffer. */
function write_at(target: { write_bytes(offset: number, buf: Ref<unknown>): Result<void> }, offset: number, data: number[]): void {
  const buf = local(array(u8, data.length), data);
  unwrap(target.write_bytes(offset, buf.as_ref()));
}

/** Reads `len` bytes at `offset`. */
function read_at(target: { read_bytes(offset: number, buf: RefMut<unknown>): Result<void> }, offset: number, len: number): number[] {
  const buf = local(array(u8, len));
  unwrap(target.read_bytes(offset, buf.as_mut()));
  return buf.read();
}

// ───────────────────────────── streams and a device ─────────────────────────────

ktest("dma_stream_device_reads_after_sync_to_device", () => {
  init();
  const engine = Engine.attach();
  const stream = unwrap(DmaStream.alloc(2, false, ToDevice));

  // A packet across the page boundary, synced, then read by the device at its device address.
  const off = PAGE_SIZE - 100;
  const packet = fill_pattern(3, 300);
  write_at(stream, off, packet);
  unwrap(stream.sync_to_device({ start: off, end: off + packet.length }));
  assert_eq(engine.command(CMD_SUM, stream.daddr() + off, packet.length), checksum(packet));

  // The CPU writes the buffer again: the device sees the new bytes after the next sync.
  const packet2 = fill_pattern(11, 300);
  write_at(stream, off, packet2);
  unwrap(stream.sync_to_device({ start: off, end: off + packet2.length }));
  assert_eq(engine.command(CMD_SUM, stream.daddr() + off, packet2.length), checksum(packet2));

  // The whole buffer: zeroes (from `alloc`) around the packet.
  unwrap(stream.sync_to_device({ start: 0, end: stream.size() }));
  const whole = bytes(2 * PAGE_SIZE, 0);
  whole.splice(off, packet2.length, ...packet2);
  assert_eq(engine.command(CMD_SUM, stream.daddr(), stream.size()), checksum(whole));

  stream.drop();
  engine.drop();
});

ktest("dma_stream_device_writes_before_sync_from_device", () => {
  init();
  const engine = Engine.attach();

  // A receive buffer (`FromDevice`), written by the device twice (the buffer is reused).
  const rx = unwrap(DmaStream.map(untyped_segment(1).into_usegment(), false, FromDevice));
  for (const seed of [5, 9]) {
    assert_eq(engine.command(CMD_FILL, rx.daddr() + 64, 200, seed), 200);
    unwrap(rx.sync_from_device({ start: 64, end: 264 }));
    assert_bytes(read_at(rx, 64, 200), fill_pattern(seed, 200));
  }
  rx.drop();

  // Both ways: the CPU hands the buffer over, the device reads it and writes it, the CPU takes it back.
  const both = unwrap(DmaStream.alloc(1, false, FromAndToDevice));
  const request = fill_pattern(1, 128);
  write_at(both, 0, request);
  unwrap(both.sync_to_device({ start: 0, end: PAGE_SIZE }));
  assert_eq(engine.command(CMD_SUM, both.daddr(), request.length), checksum(request));
  engine.command(CMD_FILL, both.daddr() + 128, 128, 77);
  unwrap(both.sync_from_device({ start: 0, end: PAGE_SIZE }));
  assert_bytes(read_at(both, 0, 256), [...request, ...fill_pattern(77, 128)]);
  both.drop();
  engine.drop();
});

/** Fills the ring's entries `[from, to)` with `10 + i`, publishes the head, rings the doorbell. */
function ring_round(engine: Engine, ring: DmaCoherent, from: number, to: number): void {
  for (let i = from; i < to; i++) unwrap(ring.write_once(RING_ENTRIES + 4 * (i % RING_SIZE), u32, 10 + i));
  unwrap(ring.write_once(RING_HEAD, u32, to));
  assert_eq(engine.command(CMD_RING, ring.daddr(), 0), to - from);
  assert_eq(unwrap(ring.read_once(RING_TAIL, u32)), to);
  for (let i = from; i < to; i++) assert_eq(unwrap(ring.read_once(RING_ENTRIES + 4 * (i % RING_SIZE), u32)), 2 * (10 + i) + 1);
}

ktest("dma_coherent_ring_updated_by_device", () => {
  init();
  const engine = Engine.attach();
  for (const is_cache_coherent of [true, false]) {
    const ring = unwrap(DmaCoherent.alloc(1, is_cache_coherent));
    ring_round(engine, ring, 0, 5);
    ring_round(engine, ring, 5, 20); // wraps around
    ring.drop();
  }
  engine.drop();
});

ktest("dma_stream_bounce_buffer_without_cache_maintenance", () => {
  init();
  const engine = Engine.attach();
  without_cache_maintenance(() => {
    // `map` of a segment for a non-coherent device: the device gets a bounce buffer.
    const segment = untyped_segment(2);
    const stream = unwrap(DmaStream.map(segment.clone().into_usegment(), false, FromAndToDevice));
    assert_ne_num(stream.paddr(), segment.paddr());
    assert_eq(stream.size(), 2 * PAGE_SIZE);

    // To the device: the CPU's bytes reach it only through the copy `sync_to_device` makes.
    const request = fill_pattern(21, 256);
    write_at(stream, PAGE_SIZE - 128, request);
    unwrap(stream.sync_to_device({ start: PAGE_SIZE - 128, end: PAGE_SIZE + 128 }));
    assert_eq(engine.command(CMD_SUM, stream.daddr() + PAGE_SIZE - 128, 256), checksum(request));
    // The device is to write the start of the buffer: hand it over first (both directions).
    unwrap(stream.sync_to_device({ start: 0, end: 128 }));

    // From the device: copied back into the segment by `sync_from_device`.
    engine.command(CMD_FILL, stream.daddr() + 16, 64, 33);
    unwrap(stream.sync_from_device({ start: 16, end: 80 }));
    assert_bytes(read_at(stream, 16, 64), fill_pattern(33, 64));
    // The segment itself holds the copy (the CPU's side of the bounce buffer).
    const seen = local(array(u8, 64), bytes(64, 0));
    segment.reader().skip(16).read(VmWriter.from(seen.as_mut()));
    assert_bytes(seen.read(), fill_pattern(33, 64));

    // Split: each half keeps its part of the bounce buffer and of the IOMMU mapping.
    const [first, second] = stream.split(PAGE_SIZE);
    assert_eq(second.paddr(), first.paddr() + PAGE_SIZE);
    assert_eq(second.daddr(), first.daddr() + PAGE_SIZE);
    write_at(second, 0, fill_pattern(2, 32));
    unwrap(second.sync_to_device({ start: 0, end: 32 }));
    assert_eq(engine.command(CMD_SUM, second.daddr(), 32), checksum(fill_pattern(2, 32)));
    first.drop();
    second.drop();
    segment.drop();
  });
  engine.drop();
});

/** `assert_ne` for numbers. */
function assert_ne_num(a: number, b: number): void {
  assert(a !== b, `expected ${a} != ${b}`);
}

ktest("dma_stream_uncacheable_kva_without_cache_maintenance", () => {
  init();
  const engine = Engine.attach();
  without_cache_maintenance(() => {
    // `alloc` for a non-coherent device: frames with `DmaBufferMeta` behind an uncacheable area.
    const stream = unwrap(DmaStream.alloc(2, false, FromAndToDevice));
    const frame = unwrap(Frame.from_in_use(stream.paddr()));
    assert(frame.dyn_meta().is(DmaBufferMeta));
    assert(!frame.dyn_meta().is_untyped());
    frame.drop();

    const data = fill_pattern(40, 100);
    write_at(stream, 8, data);
    unwrap(stream.sync_to_device({ start: 0, end: 2 * PAGE_SIZE }));
    assert_eq(engine.command(CMD_SUM, stream.daddr() + 8, 100), checksum(data));
    engine.command(CMD_FILL, stream.daddr() + PAGE_SIZE, 50, 60);
    unwrap(stream.sync_from_device({ start: PAGE_SIZE, end: PAGE_SIZE + 50 }));
    assert_bytes(read_at(stream, PAGE_SIZE, 50), fill_pattern(60, 50));

    const [first, second] = stream.split(PAGE_SIZE);
    assert_bytes(read_at(second, 0, 50), fill_pattern(60, 50));
    assert_bytes(read_at(first, 8, 100), data);
    first.drop();
    second.drop();

    // An uninitialised receive buffer the CPU only reads.
    const rx = unwrap(DmaStream.alloc_uninit(1, false, FromDevice));
    engine.command(CMD_FILL, rx.daddr(), PAGE_SIZE, 1);
    unwrap(rx.sync_from_device({ start: 0, end: PAGE_SIZE }));
    assert_bytes(read_at(rx, PAGE_SIZE - 16, 16), fill_pattern(1, PAGE_SIZE).slice(PAGE_SIZE - 16));
    rx.drop();
  });
  engine.drop();
});

// ───────────────────────────── more of the API ─────────────────────────────

ktest("dma_buffer_meta_and_iommu_bookkeeping", () => {
  init();
  // A coherent device's buffer is an untyped segment; another's has typed `DmaBufferMeta` frames.
  const coherent = unwrap(DmaCoherent.alloc(1, true));
  const uncached = unwrap(DmaCoherent.alloc(1, false));
  const f1 = unwrap(Frame.from_in_use(coherent.paddr()));
  assert(f1.dyn_meta().is_untyped());
  f1.drop();
  const f2 = unwrap(Frame.from_in_use(uncached.paddr()));
  assert(f2.dyn_meta().is(DmaBufferMeta));
  f2.drop();

  // Each page is counted as DMA-mapped once, and gets a device address of its own.
  const pfn1 = coherent.paddr() / PAGE_SIZE;
  const pfn2 = uncached.paddr() / PAGE_SIZE;
  assert_eq(dma_mapped_count(pfn1), 1);
  assert_eq(dma_mapped_count(pfn2), 1);
  assert_ne_num(coherent.daddr(), uncached.daddr());
  assert(coherent.is_cache_coherent() && !uncached.is_cache_coherent());
  coherent.drop();
  uncached.drop();
  assert_eq(dma_mapped_count(pfn1), 0);
  assert_eq(dma_mapped_count(pfn2), 0);
});

ktest("dma_coherent_split", () => {
  init();
  for (const is_cache_coherent of [true, false]) {
    const dma = unwrap(DmaCoherent.alloc(3, is_cache_coherent));
    const base = dma.paddr();
    const daddr = dma.daddr();
    write_at(dma, PAGE_SIZE - 4, [1, 2, 3, 4, 5, 6, 7, 8]);
    const [a, b] = dma.split(PAGE_SIZE);
    assert_eq(a.size(), PAGE_SIZE);
    assert_eq(b.size(), 2 * PAGE_SIZE);
    assert_eq(b.paddr(), base + PAGE_SIZE);
    assert_eq(b.daddr(), daddr + PAGE_SIZE);
    assert_bytes(read_at(a, PAGE_SIZE - 4, 4), [1, 2, 3, 4]);
    assert_bytes(read_at(b, 0, 4), [5, 6, 7, 8]);
    a.drop();
    assert_eq(dma_mapped_count(base / PAGE_SIZE), 0);
    assert_eq(dma_mapped_count(base / PAGE_SIZE + 1), 1);
    b.drop();
    assert_eq(dma_mapped_count(base / PAGE_SIZE + 2), 0);
  }
});

ktest("dma_stream_sync_range_checks", () => {
  init();
  const stream = unwrap(DmaStream.alloc(2, true, FromAndToDevice));
  const size = stream.size();
  assert(stream.is_cache_coherent());
  assert_err(stream.sync_to_device({ start: 0, end: size + 1 }), Error.InvalidArgs);
  assert_err(stream.sync_from_device({ start: size + 1, end: size + 2 }), Error.InvalidArgs);
  assert(stream.sync_to_device({ start: 8, end: 8 }).ok);
  assert(stream.sync_from_device({ start: size, end: size }).ok);
  assert_err(stream.read_bytes(size - 4, local(array(u8, 8), bytes(8, 0)).as_mut()), Error.InvalidArgs);
  // Split (a segment backing): each half ends its own part of the stream when it drops.
  const [a, b] = stream.split(PAGE_SIZE);
  assert_eq(b.paddr(), a.paddr() + PAGE_SIZE);
  assert_eq(b.daddr(), a.daddr() + PAGE_SIZE);
  b.drop();
  write_at(a, 0, [1, 2, 3]);
  unwrap(a.sync_to_device({ start: 0, end: 3 }));
  unwrap(a.sync_from_device({ start: 0, end: 3 }));
  assert_bytes(read_at(a, 0, 3), [1, 2, 3]);
  a.drop();
});

ktest.should_panic(
  "dma_stream_map_same_frame_twice",
  () => {
    init();
    const segment = untyped_segment(1);
    const first = DmaStream.map(segment.clone().into_usegment(), true, FromAndToDevice);
    assert(first.ok);
    // A second mapping of a page that is DMA-mapped already: OSTD's debug assertion.
    DmaStream.map(segment.clone().into_usegment(), true, FromAndToDevice);
  },
  "a physical page is DMA-mapped twice",
);

ktest.should_panic(
  "dma_stream_use_after_drop",
  () => {
    init();
    const stream = unwrap(DmaStream.alloc(1, true, FromAndToDevice));
    stream.drop();
    stream.size();
  },
  "use of a `DmaStream` after it was dropped or split",
);

ktest.should_panic(
  "dma_stream_direction_is_sealed",
  () => {
    init();
    // A made-up direction (Rust's sealed trait cannot be implemented outside OSTD).
    const Sideways = { name: "FromAndToDevice", CAN_READ_FROM_DEVICE: true, CAN_WRITE_TO_DEVICE: true } as const;
    DmaStream.alloc_uninit(1, true, Sideways);
  },
  "is not a sealed `DmaDirection`",
);

ktest("range_counter_add_remove_overlapping", () => {
  // `PADDR_REF_CNTS`'s counter (OSTD's `util/range_counter.rs`): the ranges that change state.
  const counter = new RangeCounter();
  assert_eq(JSON.stringify(counter.add({ start: 10, end: 15 })), JSON.stringify([{ start: 10, end: 15 }]));
  assert_eq(JSON.stringify(counter.add({ start: 3, end: 13 })), JSON.stringify([{ start: 3, end: 10 }]));
  assert_eq(counter.get(12), 2);
  assert_eq(JSON.stringify(counter.remove({ start: 8, end: 15 })), JSON.stringify([{ start: 8, end: 10 }, { start: 13, end: 15 }]));
  assert_eq(counter.get(12), 1);
  assert_eq(counter.get(14), 0);
  assert_eq(JSON.stringify(counter.remove({ start: 3, end: 8 })), JSON.stringify([{ start: 3, end: 8 }]));
  assert_eq(JSON.stringify(counter.remove({ start: 10, end: 13 })), JSON.stringify([{ start: 10, end: 13 }]));
});

// ───────────────────────────── concurrency ─────────────────────────────

/** Set by the interrupt handler once it has dropped the stream. */
const RX_DONE = static_(AtomicBool, false, { name: "RX_DONE" });

ktest("dma_stream_dropped_in_irq_handler", () => {
  init();
  const engine = Engine.attach(true);
  const rx = unwrap(DmaStream.map(untyped_segment(1).into_usegment(), false, FromDevice));
  const pfn = rx.paddr() / PAGE_SIZE;
  const seen: number[] = [];
  engine.irq!.on_active(() => {
    // The device is done: sync, read, and drop the stream here (allowed in interrupt context).
    unwrap(rx.sync_from_device({ start: 0, end: 32 }));
    seen.push(...read_at(rx, 0, 32));
    rx.drop();
    RX_DONE.as_ref().store(true, "Release");
  });
  engine.command(CMD_FILL_IRQ, rx.daddr(), 32, 99);
  while (!RX_DONE.as_ref().load("Acquire")) spin_loop();
  assert_bytes(seen, fill_pattern(99, 32));
  assert_eq(dma_mapped_count(pfn), 0);
  engine.drop();
});

ktest("dma_alloc_and_drop_on_two_cpus", () => {
  init();
  const work = (seed: number): number => {
    const stream = unwrap(DmaStream.alloc(1, false, ToDevice));
    const coherent = unwrap(DmaCoherent.alloc(1, false));
    write_at(stream, 0, fill_pattern(seed, 16));
    unwrap(stream.sync_to_device({ start: 0, end: 16 }));
    unwrap(coherent.write_once(0, u32, seed));
    const got = unwrap(coherent.read_once(0, u32));
    const daddrs = [stream.daddr(), coherent.daddr()];
    stream.drop();
    coherent.drop();
    assert_ne_num(daddrs[0]!, daddrs[1]!);
    return got;
  };
  const other = spawn(() => work(2));
  assert_eq(work(1), 1);
  assert_eq(other.join(), 2);
});

