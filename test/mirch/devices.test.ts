/**
 * The device models that ship with Mirch (src/mirch/devices), driven without the engine: a fake
 * DeviceContext whose DMA space is a plain byte array (device address = offset), whose `choose`
 * answers from a script (honest when the script is empty), and which counts interrupts. The
 * virtio tests build a real split-queue layout in that space, as a driver would.
 */
import { describe, expect, test } from "vitest";
import type { DeviceContext } from "../../src/mirch/device-model.js";
import { CONSOLE_LSR_READY, consoleDevice, virtioBlockDevice, virtioConstants, virtioDiskPattern } from "../../src/mirch/devices/index.js";
import type { VirtioBlockDevice } from "../../src/mirch/devices/index.js";

// ───────────────────────────── the fake context ─────────────────────────────

interface ChooseCall {
  honest: number;
  bits: 8 | 16 | 32;
  bounds: readonly number[];
}

interface FakeContext extends DeviceContext {
  readonly mem: Uint8Array;
  readonly view: DataView;
  readonly calls: ChooseCall[];
  /** Answers for the next `choose` calls, in order; `undefined` answers honestly. */
  readonly script: (number | undefined)[];
  irqs: number;
}

function fakeContext(options: { hostile?: boolean; script?: (number | undefined)[] } = {}): FakeContext {
  const mem = new Uint8Array(0x10000);
  const view = new DataView(mem.buffer);
  const inRange = (daddr: number, len: number): void => {
    if (!Number.isInteger(daddr) || daddr < 0 || daddr + len > mem.length) throw new Error(`DMA outside the fake space: ${daddr}+${len}`);
  };
  const ctx: FakeContext = {
    mem,
    view,
    calls: [],
    script: [...(options.script ?? [])],
    irqs: 0,
    hostile: options.hostile ?? false,
    dma_read(daddr, len) {
      inRange(daddr, len);
      return mem.slice(daddr, daddr + len);
    },
    dma_write(daddr, bytes) {
      inRange(daddr, bytes.length);
      mem.set(bytes, daddr);
    },
    dma_read_u16: (daddr) => (inRange(daddr, 2), view.getUint16(daddr, true)),
    dma_read_u32: (daddr) => (inRange(daddr, 4), view.getUint32(daddr, true)),
    dma_write_u16: (daddr, value) => (inRange(daddr, 2), view.setUint16(daddr, value & 0xffff, true)),
    dma_write_u32: (daddr, value) => (inRange(daddr, 4), view.setUint32(daddr, value >>> 0, true)),
    raise_irq() {
      ctx.irqs++;
    },
    choose(honest, bits, bounds = []) {
      ctx.calls.push({ honest, bits, bounds: [...bounds] });
      return ctx.script.shift() ?? honest;
    },
  };
  return ctx;
}

// ───────────────────────────── console ─────────────────────────────

describe("consoleDevice", () => {
  const send = (uart: ReturnType<typeof consoleDevice>, ctx: DeviceContext, text: string): void => {
    for (const b of new TextEncoder().encode(text)) uart.port_write!(0, 1, b, ctx);
  };

  test("prints one line per newline, without the terminator; flush prints the rest once", () => {
    const lines: string[] = [];
    const ctx = fakeContext();
    const uart = consoleDevice((l) => lines.push(l));
    expect(uart.name).toBe("console");
    send(uart, ctx, "hello\nworld\r\n\ntail");
    expect(lines).toEqual(["hello", "world", ""]);
    uart.flush();
    uart.flush();
    expect(lines).toEqual(["hello", "world", "", "tail"]);
  });

  test("decodes UTF-8 across bytes", () => {
    const lines: string[] = [];
    const ctx = fakeContext();
    const uart = consoleDevice((l) => lines.push(l));
    send(uart, ctx, "héllo ✓\n");
    expect(lines).toEqual(["héllo ✓"]);
  });

  test("line status reads 0x60, other registers 0; wide accesses are split into bytes", () => {
    const ctx = fakeContext();
    const uart = consoleDevice(() => {});
    expect(uart.port_read!(5, 1, ctx)).toBe(CONSOLE_LSR_READY);
    for (const off of [0, 1, 2, 4, 6, 7]) expect(uart.port_read!(off, 1, ctx)).toBe(0);
    expect(uart.port_read!(4, 2, ctx)).toBe(0x6000);
    expect(uart.port_read!(4, 4, ctx)).toBe(0x6000);
  });

  test("a 16-bit write to the transmitter sends its low byte; writes elsewhere print nothing", () => {
    const lines: string[] = [];
    const ctx = fakeContext();
    const uart = consoleDevice((l) => lines.push(l));
    uart.port_write!(0, 2, 0x7a41, ctx); // 'A' to THR, 0x7a to IER (ignored)
    uart.port_write!(7, 1, 0x42, ctx);
    uart.port_write!(0, 1, 0x0a, ctx);
    expect(lines).toEqual(["A"]);
  });

  test("with DLAB set, offset 0 is the divisor latch, not the transmitter", () => {
    const lines: string[] = [];
    const ctx = fakeContext();
    const uart = consoleDevice((l) => lines.push(l));
    uart.port_write!(3, 1, 0x83, ctx); // DLAB | 8N1
    uart.port_write!(0, 1, 0x01, ctx); // divisor low: 115200 baud
    expect(uart.port_read!(3, 1, ctx)).toBe(0x83);
    uart.port_write!(3, 1, 0x03, ctx);
    send(uart, ctx, "ok\n");
    expect(lines).toEqual(["ok"]);
  });
});

// ───────────────────────────── virtio-blk: a driver in the test ─────────────────────────────

const V = virtioConstants;
const R = V.reg;
/** Where the fake driver puts things in the DMA space. */
const DESC = 0x1000;
const AVAIL = 0x2000;
const USED = 0x3000;
const HEADER = 0x4000;
const DATA = 0x5000;
const STATUS = 0x6000;

function rd(blk: VirtioBlockDevice, ctx: DeviceContext, off: number): number {
  return blk.mmio_read!(off, 4, ctx) as number;
}
function wr(blk: VirtioBlockDevice, ctx: DeviceContext, off: number, v: number): void {
  blk.mmio_write!(off, 4, v, ctx);
  blk.run!(ctx); // the Machine schedules `run` after every write
}

/** The initialisation of §3.1.1, with a queue of `num` entries at DESC / AVAIL / USED. */
function bringUp(blk: VirtioBlockDevice, ctx: DeviceContext, num = 8): void {
  wr(blk, ctx, R.STATUS, 0);
  wr(blk, ctx, R.STATUS, V.status.ACKNOWLEDGE | V.status.DRIVER);
  wr(blk, ctx, R.DRIVER_FEATURES_SEL, 1);
  wr(blk, ctx, R.DRIVER_FEATURES, 1); // VERSION_1
  wr(blk, ctx, R.STATUS, V.status.ACKNOWLEDGE | V.status.DRIVER | V.status.FEATURES_OK);
  expect(rd(blk, ctx, R.STATUS) & V.status.FEATURES_OK).toBe(V.status.FEATURES_OK);
  wr(blk, ctx, R.QUEUE_SEL, 0);
  wr(blk, ctx, R.QUEUE_NUM, num);
  wr(blk, ctx, R.QUEUE_DESC_LOW, DESC);
  wr(blk, ctx, R.QUEUE_DESC_HIGH, 0);
  wr(blk, ctx, R.QUEUE_DRIVER_LOW, AVAIL);
  wr(blk, ctx, R.QUEUE_DRIVER_HIGH, 0);
  wr(blk, ctx, R.QUEUE_DEVICE_LOW, USED);
  wr(blk, ctx, R.QUEUE_DEVICE_HIGH, 0);
  wr(blk, ctx, R.QUEUE_READY, 1);
  wr(blk, ctx, R.STATUS, V.status.ACKNOWLEDGE | V.status.DRIVER | V.status.FEATURES_OK | V.status.DRIVER_OK);
}

interface Desc {
  addr: number;
  len: number;
  write?: boolean;
}

/** Writes a chain at descriptor `first` and following, and the header at HEADER. */
function writeChain(ctx: FakeContext, first: number, descs: Desc[]): void {
  descs.forEach((d, k) => {
    const at = DESC + 16 * (first + k);
    ctx.view.setUint32(at, d.addr, true);
    ctx.view.setUint32(at + 4, 0, true);
    ctx.view.setUint32(at + 8, d.len, true);
    const last = k === descs.length - 1;
    ctx.view.setUint16(at + 12, (last ? 0 : V.desc.NEXT) | (d.write ? V.desc.WRITE : 0), true);
    ctx.view.setUint16(at + 14, last ? 0 : first + k + 1, true);
  });
}

function writeHeader(ctx: FakeContext, at: number, type: number, sector: number): void {
  ctx.view.setUint32(at, type, true);
  ctx.view.setUint32(at + 4, 0, true);
  ctx.view.setBigUint64(at + 8, BigInt(sector), true);
}

/** Publishes `head` in the available ring (slot idx % num), bumps idx, kicks the device. */
function publish(blk: VirtioBlockDevice, ctx: FakeContext, head: number, num = 8): void {
  const idx = ctx.view.getUint16(AVAIL + 2, true);
  ctx.view.setUint16(AVAIL + 4 + 2 * (idx % num), head, true);
  ctx.view.setUint16(AVAIL + 2, (idx + 1) & 0xffff, true);
  wr(blk, ctx, R.QUEUE_NOTIFY, 0);
}

/** The standard three-descriptor request: header, data, status. */
function request(blk: VirtioBlockDevice, ctx: FakeContext, type: number, sector: number, len = 512, head = 0): void {
  writeHeader(ctx, HEADER, type, sector);
  ctx.mem[STATUS] = 0xff;
  writeChain(ctx, head, [
    { addr: HEADER, len: 16 },
    { addr: DATA, len, write: type === V.blk.T_IN },
    { addr: STATUS, len: 1, write: true },
  ]);
  publish(blk, ctx, head);
}

const usedIdx = (ctx: FakeContext): number => ctx.view.getUint16(USED + 2, true);
const usedElem = (ctx: FakeContext, i: number): { id: number; len: number } => ({
  id: ctx.view.getUint32(USED + 4 + 8 * i, true),
  len: ctx.view.getUint32(USED + 8 + 8 * i, true),
});
const pattern = (sector: number, len = 512): number[] => Array.from({ length: len }, (_, i) => virtioDiskPattern(sector, i));

// ───────────────────────────── virtio-blk: registers ─────────────────────────────

describe("virtioBlockDevice: registers", () => {
  test("identify as a modern virtio-mmio block device", () => {
    const ctx = fakeContext();
    const blk = virtioBlockDevice();
    expect(blk.name).toBe("virtio-blk");
    expect(rd(blk, ctx, R.MAGIC_VALUE)).toBe(0x74726976);
    expect(rd(blk, ctx, R.VERSION)).toBe(2);
    expect(rd(blk, ctx, R.DEVICE_ID)).toBe(2);
    expect(rd(blk, ctx, R.VENDOR_ID)).toBe(V.VENDOR_ID);
    expect(rd(blk, ctx, R.CONFIG_GENERATION)).toBe(0);
    expect(rd(blk, ctx, R.QUEUE_NUM_MAX)).toBe(8);
  });

  test("offer VERSION_1 and ACCESS_PLATFORM in the second feature word", () => {
    const ctx = fakeContext();
    const blk = virtioBlockDevice();
    expect(rd(blk, ctx, R.DEVICE_FEATURES)).toBe(0);
    wr(blk, ctx, R.DEVICE_FEATURES_SEL, 1);
    expect(rd(blk, ctx, R.DEVICE_FEATURES)).toBe(0b11);
    wr(blk, ctx, R.DEVICE_FEATURES_SEL, 2);
    expect(rd(blk, ctx, R.DEVICE_FEATURES)).toBe(0);
  });

  test("refuse FEATURES_OK without VERSION_1 or with a feature not offered", () => {
    const ctx = fakeContext();
    const blk = virtioBlockDevice();
    const ask = V.status.ACKNOWLEDGE | V.status.DRIVER | V.status.FEATURES_OK;
    wr(blk, ctx, R.STATUS, ask);
    expect(rd(blk, ctx, R.STATUS)).toBe(V.status.ACKNOWLEDGE | V.status.DRIVER);
    wr(blk, ctx, R.STATUS, 0);
    wr(blk, ctx, R.DRIVER_FEATURES_SEL, 1);
    wr(blk, ctx, R.DRIVER_FEATURES, 0b101); // VERSION_1 and bit 34, never offered
    wr(blk, ctx, R.STATUS, ask);
    expect(rd(blk, ctx, R.STATUS) & V.status.FEATURES_OK).toBe(0);
    wr(blk, ctx, R.DRIVER_FEATURES, 0b11);
    wr(blk, ctx, R.STATUS, ask);
    expect(rd(blk, ctx, R.STATUS)).toBe(ask);
  });

  test("config space: capacity as u64 sectors, in any access width; the rest reads 0", () => {
    const ctx = fakeContext();
    const blk = virtioBlockDevice({ capacity_sectors: 300 });
    expect(blk.mmio_read!(R.CONFIG, 8, ctx)).toBe(300n);
    expect(blk.mmio_read!(R.CONFIG, 4, ctx)).toBe(300);
    expect(blk.mmio_read!(R.CONFIG + 4, 4, ctx)).toBe(0);
    expect(blk.mmio_read!(R.CONFIG + 1, 1, ctx)).toBe(1);
    expect(blk.mmio_read!(R.CONFIG, 2, ctx)).toBe(300);
    expect(blk.mmio_read!(R.CONFIG + 0x14, 4, ctx)).toBe(0);
    blk.mmio_write!(R.CONFIG, 8, 5n, ctx);
    expect(blk.mmio_read!(R.CONFIG, 8, ctx)).toBe(300n);
    expect(blk.disk.length).toBe(300 * 512);
  });

  test("only queue 0 exists; registers read back; widths other than 32 bits read 0 and are ignored", () => {
    const ctx = fakeContext();
    const blk = virtioBlockDevice({ queue_size: 16 });
    expect(rd(blk, ctx, R.QUEUE_NUM_MAX)).toBe(16);
    wr(blk, ctx, R.QUEUE_SEL, 1);
    expect(rd(blk, ctx, R.QUEUE_NUM_MAX)).toBe(0);
    wr(blk, ctx, R.QUEUE_READY, 1);
    expect(rd(blk, ctx, R.QUEUE_READY)).toBe(0);
    wr(blk, ctx, R.QUEUE_SEL, 0);
    wr(blk, ctx, R.QUEUE_READY, 1);
    expect(rd(blk, ctx, R.QUEUE_READY)).toBe(1);
    expect(blk.mmio_read!(R.MAGIC_VALUE, 2, ctx)).toBe(0);
    expect(blk.mmio_read!(R.MAGIC_VALUE, 8, ctx)).toBe(0n);
    blk.mmio_write!(R.STATUS, 1, 3, ctx);
    expect(rd(blk, ctx, R.STATUS)).toBe(0);
  });

  test("reject out-of-range options", () => {
    expect(() => virtioBlockDevice({ queue_size: 6 })).toThrow(RangeError);
    expect(() => virtioBlockDevice({ queue_size: 65536 })).toThrow(/power of two/);
    expect(() => virtioBlockDevice({ capacity_sectors: -1 })).toThrow(RangeError);
  });

  test("the disk starts with the documented pattern", () => {
    const blk = virtioBlockDevice();
    expect(blk.disk.length).toBe(64 * 512);
    expect(Array.from(blk.disk.subarray(512 * 5, 512 * 6))).toEqual(pattern(5));
  });
});

// ───────────────────────────── virtio-blk: requests ─────────────────────────────

describe("virtioBlockDevice: requests on the split queue", () => {
  test("a read: data, status, used element, used idx and the interrupt", () => {
    const ctx = fakeContext();
    const blk = virtioBlockDevice();
    bringUp(blk, ctx);
    request(blk, ctx, V.blk.T_IN, 1);
    expect(Array.from(ctx.mem.subarray(DATA, DATA + 512))).toEqual(pattern(1));
    expect(ctx.mem[STATUS]).toBe(V.blk.S_OK);
    expect(usedIdx(ctx)).toBe(1);
    expect(usedElem(ctx, 0)).toEqual({ id: 0, len: 513 });
    expect(ctx.irqs).toBe(1);
    expect(rd(blk, ctx, R.INTERRUPT_STATUS)).toBe(V.interrupt.USED_BUFFER);
    wr(blk, ctx, R.INTERRUPT_ACK, V.interrupt.USED_BUFFER);
    expect(rd(blk, ctx, R.INTERRUPT_STATUS)).toBe(0);
    expect(ctx.calls).toEqual([]); // an honest device never asks for a lie
  });

  test("a write, then a read of the same sector", () => {
    const ctx = fakeContext();
    const blk = virtioBlockDevice();
    bringUp(blk, ctx);
    ctx.mem.fill(0xab, DATA, DATA + 1024);
    request(blk, ctx, V.blk.T_OUT, 3, 1024, 3);
    expect(ctx.mem[STATUS]).toBe(V.blk.S_OK);
    expect(usedElem(ctx, 0)).toEqual({ id: 3, len: 1 });
    expect(blk.disk.subarray(3 * 512, 5 * 512).every((b) => b === 0xab)).toBe(true);
    expect(Array.from(blk.disk.subarray(5 * 512, 6 * 512))).toEqual(pattern(5));
    ctx.mem.fill(0, DATA, DATA + 1024);
    request(blk, ctx, V.blk.T_IN, 4, 512, 0);
    expect(ctx.mem.subarray(DATA, DATA + 512).every((b) => b === 0xab)).toBe(true);
    expect(usedIdx(ctx)).toBe(2);
    expect(usedElem(ctx, 1)).toEqual({ id: 0, len: 513 });
    expect(ctx.irqs).toBe(2);
  });

  test("any layout: header and data in one descriptor; data and status in one", () => {
    const ctx = fakeContext();
    const blk = virtioBlockDevice();
    bringUp(blk, ctx);
    writeHeader(ctx, HEADER, V.blk.T_OUT, 2);
    ctx.mem.fill(0x5a, HEADER + 16, HEADER + 16 + 512);
    writeChain(ctx, 0, [
      { addr: HEADER, len: 16 + 512 },
      { addr: STATUS, len: 1, write: true },
    ]);
    publish(blk, ctx, 0);
    expect(blk.disk.subarray(2 * 512, 3 * 512).every((b) => b === 0x5a)).toBe(true);
    writeHeader(ctx, HEADER, V.blk.T_IN, 7);
    writeChain(ctx, 4, [
      { addr: HEADER, len: 8 },
      { addr: HEADER + 8, len: 8 },
      { addr: DATA, len: 513, write: true },
    ]);
    publish(blk, ctx, 4);
    expect(Array.from(ctx.mem.subarray(DATA, DATA + 512))).toEqual(pattern(7));
    expect(ctx.mem[DATA + 512]).toBe(V.blk.S_OK);
    expect(usedElem(ctx, 1)).toEqual({ id: 4, len: 513 });
  });

  test("errors: past the end, a partial sector, a short header, an unsupported type", () => {
    const ctx = fakeContext();
    const blk = virtioBlockDevice();
    bringUp(blk, ctx);
    ctx.mem.fill(0xee, DATA, DATA + 512);
    request(blk, ctx, V.blk.T_IN, 64);
    expect(ctx.mem[STATUS]).toBe(V.blk.S_IOERR);
    expect(ctx.mem[DATA]).toBe(0xee); // nothing moved
    expect(usedElem(ctx, 0).len).toBe(1);
    request(blk, ctx, V.blk.T_OUT, 63, 1024);
    expect(ctx.mem[STATUS]).toBe(V.blk.S_IOERR);
    request(blk, ctx, V.blk.T_IN, 0, 100);
    expect(ctx.mem[STATUS]).toBe(V.blk.S_IOERR);
    request(blk, ctx, V.blk.T_FLUSH, 0, 512);
    expect(ctx.mem[STATUS]).toBe(V.blk.S_UNSUPP);
    writeChain(ctx, 0, [
      { addr: HEADER, len: 8 },
      { addr: STATUS, len: 1, write: true },
    ]);
    publish(blk, ctx, 0);
    expect(ctx.mem[STATUS]).toBe(V.blk.S_IOERR);
    expect(usedIdx(ctx)).toBe(5);
    expect(rd(blk, ctx, R.STATUS) & V.status.DEVICE_NEEDS_RESET).toBe(0);
  });

  test("nothing happens without QueueNotify", () => {
    const ctx = fakeContext();
    const blk = virtioBlockDevice();
    bringUp(blk, ctx);
    writeHeader(ctx, HEADER, V.blk.T_IN, 0);
    writeChain(ctx, 0, [
      { addr: HEADER, len: 16 },
      { addr: DATA, len: 512, write: true },
      { addr: STATUS, len: 1, write: true },
    ]);
    ctx.view.setUint16(AVAIL + 4, 0, true);
    ctx.view.setUint16(AVAIL + 2, 1, true);
    blk.run!(ctx);
    wr(blk, ctx, R.INTERRUPT_ACK, 0);
    expect(usedIdx(ctx)).toBe(0);
    wr(blk, ctx, R.QUEUE_NOTIFY, 0);
    expect(usedIdx(ctx)).toBe(1);
  });

  test("the available ring's NO_INTERRUPT flag suppresses the interrupt", () => {
    const ctx = fakeContext();
    const blk = virtioBlockDevice();
    bringUp(blk, ctx);
    ctx.view.setUint16(AVAIL, V.avail.NO_INTERRUPT, true);
    request(blk, ctx, V.blk.T_IN, 0);
    expect(usedIdx(ctx)).toBe(1);
    expect(ctx.irqs).toBe(0);
    expect(rd(blk, ctx, R.INTERRUPT_STATUS)).toBe(0);
  });

  test("rings wrap around: ten requests on a queue of eight", () => {
    const ctx = fakeContext();
    const blk = virtioBlockDevice();
    bringUp(blk, ctx);
    for (let k = 0; k < 10; k++) request(blk, ctx, V.blk.T_IN, k, 512, (k * 3) % 6);
    expect(usedIdx(ctx)).toBe(10);
    expect(usedElem(ctx, 1)).toEqual({ id: 27 % 6, len: 513 }); // the 10th request, in slot 9 % 8
    expect(Array.from(ctx.mem.subarray(DATA, DATA + 512))).toEqual(pattern(9));
  });

  test("a looping chain or an index past the table: DEVICE_NEEDS_RESET and a config interrupt; reset recovers", () => {
    const ctx = fakeContext();
    const blk = virtioBlockDevice();
    bringUp(blk, ctx);
    writeChain(ctx, 0, [{ addr: HEADER, len: 16 }]);
    ctx.view.setUint16(DESC + 12, V.desc.NEXT, true); // descriptor 0 → descriptor 0
    publish(blk, ctx, 0);
    expect(rd(blk, ctx, R.STATUS) & V.status.DEVICE_NEEDS_RESET).toBe(V.status.DEVICE_NEEDS_RESET);
    expect(rd(blk, ctx, R.INTERRUPT_STATUS)).toBe(V.interrupt.CONFIG_CHANGE);
    expect(ctx.irqs).toBe(1);
    expect(usedIdx(ctx)).toBe(0);

    ctx.mem.fill(0, 0, 0x4000);
    bringUp(blk, ctx);
    request(blk, ctx, V.blk.T_IN, 1);
    expect(usedIdx(ctx)).toBe(1);
    ctx.view.setUint16(AVAIL + 4 + 2, 8, true); // head 8 of a table of 8
    ctx.view.setUint16(AVAIL + 2, 2, true);
    wr(blk, ctx, R.QUEUE_NOTIFY, 0);
    expect(rd(blk, ctx, R.STATUS) & V.status.DEVICE_NEEDS_RESET).toBe(V.status.DEVICE_NEEDS_RESET);
  });

  test("an available idx more than a ring ahead is refused", () => {
    const ctx = fakeContext();
    const blk = virtioBlockDevice();
    bringUp(blk, ctx);
    ctx.view.setUint16(AVAIL + 2, 9, true);
    wr(blk, ctx, R.QUEUE_NOTIFY, 0);
    expect(rd(blk, ctx, R.STATUS) & V.status.DEVICE_NEEDS_RESET).toBe(V.status.DEVICE_NEEDS_RESET);
    expect(usedIdx(ctx)).toBe(0);
  });
});

// ───────────────────────────── virtio-blk: hostile ─────────────────────────────

describe("virtioBlockDevice: hostile", () => {
  test("QueueNumMax goes through choose with the ring size, size + 1 and 0", () => {
    const ctx = fakeContext({ hostile: true, script: [9] });
    const blk = virtioBlockDevice();
    expect(rd(blk, ctx, R.QUEUE_NUM_MAX)).toBe(9);
    expect(ctx.calls).toEqual([{ honest: 8, bits: 32, bounds: [8, 9, 0] }]);
    expect(rd(blk, ctx, R.QUEUE_NUM_MAX)).toBe(8); // script empty: honest
  });

  test("capacity goes through choose, only for accesses that touch it", () => {
    const ctx = fakeContext({ hostile: true, script: [65] });
    const blk = virtioBlockDevice();
    expect(blk.mmio_read!(R.CONFIG, 8, ctx)).toBe(65n);
    expect(ctx.calls).toEqual([{ honest: 64, bits: 32, bounds: [65] }]);
    blk.mmio_read!(R.CONFIG + 0x14, 4, ctx);
    expect(ctx.calls.length).toBe(1);
  });

  test("the used id and len go through choose; the id's bounds name the head completed before", () => {
    const ctx = fakeContext({ hostile: true });
    const blk = virtioBlockDevice();
    bringUp(blk, ctx);
    ctx.calls.length = 0;
    ctx.script.push(9, 0xffff_ffff);
    request(blk, ctx, V.blk.T_IN, 1, 512, 2);
    expect(usedElem(ctx, 0)).toEqual({ id: 9, len: 0xffff_ffff });
    expect(ctx.calls).toEqual([
      { honest: 2, bits: 32, bounds: [8, 9] },
      { honest: 513, bits: 32, bounds: [514, 0xffff_ffff] },
    ]);
    // The data still moved honestly: only what the driver reads back lies.
    expect(Array.from(ctx.mem.subarray(DATA, DATA + 512))).toEqual(pattern(1));
    ctx.calls.length = 0;
    ctx.script.push(undefined, undefined, 0, 0); // no double fetch this time; honest id, len 0
    request(blk, ctx, V.blk.T_OUT, 1, 512, 5);
    expect(ctx.calls.slice(2)).toEqual([
      { honest: 5, bits: 32, bounds: [8, 9, 2] },
      { honest: 1, bits: 32, bounds: [2, 0xffff_ffff] },
    ]);
    expect(usedElem(ctx, 1)).toEqual({ id: 0, len: 0 });
  });

  test("double fetch: a later run rewrites the used id, then the used idx, each once", () => {
    const ctx = fakeContext({ hostile: true });
    const blk = virtioBlockDevice();
    bringUp(blk, ctx);
    request(blk, ctx, V.blk.T_IN, 1, 512, 3);
    expect(usedElem(ctx, 0).id).toBe(3);
    expect(usedIdx(ctx)).toBe(1);

    ctx.calls.length = 0;
    ctx.script.push(1, 9, 0); // rewrite the id (as 9), not the idx
    blk.run!(ctx); // a preemption point
    expect(usedElem(ctx, 0).id).toBe(9);
    expect(usedIdx(ctx)).toBe(1);
    expect(ctx.calls).toEqual([
      { honest: 0, bits: 8, bounds: [1] },
      { honest: 3, bits: 32, bounds: [8, 9] },
      { honest: 0, bits: 8, bounds: [1] },
    ]);

    ctx.calls.length = 0;
    ctx.script.push(1, 9); // only the idx is left to rewrite
    blk.run!(ctx);
    expect(usedIdx(ctx)).toBe(9);
    expect(ctx.calls).toEqual([
      { honest: 0, bits: 8, bounds: [1] },
      { honest: 1, bits: 16, bounds: [2, 9] },
    ]);

    ctx.calls.length = 0;
    blk.run!(ctx);
    expect(ctx.calls).toEqual([]);
  });

  test("a hostile device whose seed picks honest values behaves like an honest one", () => {
    const honest = fakeContext();
    const hostile = fakeContext({ hostile: true });
    for (const ctx of [honest, hostile]) {
      const blk = virtioBlockDevice();
      bringUp(blk, ctx);
      request(blk, ctx, V.blk.T_IN, 2);
      blk.run!(ctx);
      request(blk, ctx, V.blk.T_IN, 3, 512, 4);
    }
    expect(Buffer.compare(hostile.mem, honest.mem)).toBe(0);
    expect(hostile.irqs).toBe(honest.irqs);
    expect(hostile.calls.length).toBeGreaterThan(0);
  });

  test("no rewrite after a reset", () => {
    const ctx = fakeContext({ hostile: true });
    const blk = virtioBlockDevice();
    bringUp(blk, ctx);
    request(blk, ctx, V.blk.T_IN, 1);
    blk.mmio_write!(R.STATUS, 4, 0, ctx);
    ctx.calls.length = 0;
    blk.run!(ctx);
    expect(ctx.calls).toEqual([]);
  });
});
