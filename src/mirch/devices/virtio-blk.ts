/**
 * The Mirch virtio block device: virtio-mmio transport, version 2 ("modern") register layout of the
 * virtio 1.x specification, one split virtqueue, and the standard block requests on an in-memory
 * disk. It is the device the Iago bugs of the seeds need: a driver under test talks to it exactly
 * as to a virtio-blk device of QEMU or a confidential-computing host.
 *
 * How the queue works (virtio 1.x §2.7, split virtqueues). The driver owns three areas in DMA
 * memory and writes their device addresses into the Queue{Desc,Driver,Device}{Low,High} registers:
 *
 * - the descriptor table: `num` descriptors of 16 bytes `{ addr: u64, len: u32, flags: u16, next: u16 }`
 *   (flags NEXT = 1 chains to `next`, WRITE = 2 marks a buffer the device writes);
 * - the available ring (driver → device): `{ flags: u16, idx: u16, ring: u16[num] }`, the heads of
 *   chains the driver offers, `idx` counting them (mod 2^16);
 * - the used ring (device → driver): `{ flags: u16, idx: u16, ring: { id: u32, len: u32 }[num] }`,
 *   the heads of chains the device finished and how many bytes it wrote into each.
 *
 * A block request is one chain: a 16-byte header the device reads (`type: u32` — 0 IN, a read of
 * the disk, 1 OUT, a write —, `reserved: u32`, `sector: u64`), the data buffers (written by the
 * device for IN, read for OUT), and a last byte the device writes: the status (0 OK, 1 IOERR,
 * 2 UNSUPP). As VIRTIO_F_VERSION_1 requires, the device does not assume how the driver splits these
 * into descriptors: it sees the readable descriptors as one byte stream and the writable ones as
 * another.
 *
 * The device processes the queue in `run`, after the driver's `QueueNotify`: it takes the heads
 * published since it last looked, serves each chain, writes a used element and the used `idx`,
 * then sets bit 0 of InterruptStatus and raises its interrupt (unless the driver asked for none
 * with the available ring's NO_INTERRUPT flag). All ring and buffer accesses are DMA through the
 * {@link DeviceContext}, so the Machine checks each one against the IOMMU and orders it with the
 * device's vector clock.
 *
 * The honest device is careful, because here the driver is the code under test: a chain longer
 * than the queue (a loop), an index past the table, a readable descriptor after a writable one, or
 * more heads published than the ring holds puts it in DEVICE_NEEDS_RESET (§2.1.2) instead of
 * walking forever or guessing; a request outside the disk gets IOERR before any data moves.
 *
 * Hostile mode (`dev.hostile`): every value the driver reads from the device can lie, and only
 * `dev.choose` decides which lie, so the seed reproduces the run. Lies: QueueNumMax, the used
 * element's `id` and `len`, the configuration's capacity; and, in a later `run` (a hostile device's
 * `run` is also scheduled at the CPUs' preemption points), a second write of the last used `id` or
 * of the used `idx` — a driver that reads them twice (a double fetch) can see two values.
 */
import type { DeviceContext, DeviceModel } from "../device-model.js";

/**
 * Names shared by the model, its tests and drivers written in host code: virtio-mmio register
 * offsets, status bits, feature bits, descriptor and ring flags, and the block request format.
 */
export const virtioConstants = {
  /** "virt" in little-endian ASCII: MagicValue. */
  MAGIC: 0x7472_6976,
  /** The virtio-mmio register layout version: 2 (modern, virtio 1.x). */
  MMIO_VERSION: 2,
  /** The virtio device ID of a block device. */
  DEVICE_ID_BLOCK: 2,
  /** This model's VendorID: "kmir" in little-endian ASCII. */
  VENDOR_ID: 0x7269_6d6b,
  /** virtio-mmio register offsets (every register is 32 bits wide). */
  reg: {
    MAGIC_VALUE: 0x000,
    VERSION: 0x004,
    DEVICE_ID: 0x008,
    VENDOR_ID: 0x00c,
    DEVICE_FEATURES: 0x010,
    DEVICE_FEATURES_SEL: 0x014,
    DRIVER_FEATURES: 0x020,
    DRIVER_FEATURES_SEL: 0x024,
    QUEUE_SEL: 0x030,
    QUEUE_NUM_MAX: 0x034,
    QUEUE_NUM: 0x038,
    QUEUE_READY: 0x044,
    QUEUE_NOTIFY: 0x050,
    INTERRUPT_STATUS: 0x060,
    INTERRUPT_ACK: 0x064,
    STATUS: 0x070,
    QUEUE_DESC_LOW: 0x080,
    QUEUE_DESC_HIGH: 0x084,
    QUEUE_DRIVER_LOW: 0x090,
    QUEUE_DRIVER_HIGH: 0x094,
    QUEUE_DEVICE_LOW: 0x0a0,
    QUEUE_DEVICE_HIGH: 0x0a4,
    CONFIG_GENERATION: 0x0fc,
    /** The start of the device-specific configuration space. */
    CONFIG: 0x100,
  },
  /** Device status bits (the Status register). */
  status: {
    ACKNOWLEDGE: 1,
    DRIVER: 2,
    DRIVER_OK: 4,
    FEATURES_OK: 8,
    DEVICE_NEEDS_RESET: 0x40,
    FAILED: 0x80,
  },
  /** Feature bit numbers (bit 32 is bit 0 of the second 32-bit feature word). */
  features: {
    /** Modern device (virtio 1.x); required on this transport version. */
    VERSION_1: 32,
    /** Device addresses go through an IOMMU (always so on Mirch). */
    ACCESS_PLATFORM: 33,
  },
  /** InterruptStatus / InterruptACK bits. */
  interrupt: {
    USED_BUFFER: 1,
    CONFIG_CHANGE: 2,
  },
  /** Descriptor layout and flags. */
  desc: {
    SIZE: 16,
    NEXT: 1,
    WRITE: 2,
    /** Indirect descriptors: not offered by this device, so a chain using one is malformed. */
    INDIRECT: 4,
  },
  /** Available-ring flags. */
  avail: {
    NO_INTERRUPT: 1,
  },
  /** The block device: request types, status values, sizes and config offsets. */
  blk: {
    T_IN: 0,
    T_OUT: 1,
    T_FLUSH: 4,
    S_OK: 0,
    S_IOERR: 1,
    S_UNSUPP: 2,
    SECTOR_SIZE: 512,
    HEADER_SIZE: 16,
    /** Config offset of `capacity: u64`, in 512-byte sectors. */
    CONFIG_CAPACITY: 0,
  },
} as const;

/** Options of {@link virtioBlockDevice}. */
export interface VirtioBlockOptions {
  /** Entries of queue 0 (QueueNumMax): a power of two in [1, 32768]. Default 8. */
  queue_size?: number;
  /** The disk's size in 512-byte sectors, at most 2^20 (512 MiB). Default 64. */
  capacity_sectors?: number;
}

/** The virtio block device model, with its disk visible to the host (for tests and inspection). */
export interface VirtioBlockDevice extends DeviceModel {
  /** The disk's bytes (`capacity_sectors * 512`), shared with the model: writes show through. */
  readonly disk: Uint8Array;
}

/** The byte at `i` of sector `s` of a fresh disk: a pattern a test can recompute. */
export function virtioDiskPattern(sector: number, i: number): number {
  return (sector * 7 + i) & 0xff;
}

const R = virtioConstants.reg;
const S = virtioConstants.status;
const B = virtioConstants.blk;
const SECTOR = B.SECTOR_SIZE;
const TWO_32 = 2 ** 32;
const MAX_QUEUE_SIZE = 32768;
const MAX_SECTORS = 2 ** 20;
/** Feature words the device offers, by DeviceFeaturesSel: VERSION_1 and ACCESS_PLATFORM (bits 32, 33). */
const DEVICE_FEATURE_WORDS = [0, 0b11] as const;

/** One descriptor's buffer, as the device sees it. */
interface Segment {
  readonly addr: number;
  readonly len: number;
}

/** A used element the hostile device may write a second time (a double fetch for the driver). */
interface Rewritable {
  /** Device address of the used element. */
  readonly slot: number;
  /** The honest id and the lies offered for it. */
  readonly head: number;
  readonly idBounds: readonly number[];
  /** Whether the id / the used idx may still be rewritten (each at most once). */
  id: boolean;
  idx: boolean;
}

const is_pow2 = (n: number): boolean => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
const mask = (value: number, bits: 8 | 16 | 32): number => (bits === 32 ? value >>> 0 : value & ((1 << bits) - 1));

/**
 * An Iago value: what an honest device returns, or, when hostile, what the seed picks through
 * `dev.choose`. Honest runs never call `choose`, so they consume none of the seed's choices.
 */
function pick(dev: DeviceContext, honest: number, bits: 8 | 16 | 32, bounds: readonly number[]): number {
  return dev.hostile ? mask(dev.choose(honest, bits, bounds), bits) : honest;
}

/** A hostile device's yes/no: `choose(0, 8, [1])` is 1 only when the seed picks that bound. */
function coin(dev: DeviceContext): boolean {
  return dev.choose(0, 8, [1]) === 1;
}

/**
 * Makes the Mirch virtio block device (`virtio_device()` of `kmiri/mirch`), to attach with an MMIO
 * window (the default 4 KiB) and usually an interrupt line.
 *
 * Registers (32-bit accesses; other widths read 0 and are ignored, as the specification leaves them
 * undefined): the identification registers, 64 feature bits of which the device offers VERSION_1
 * and ACCESS_PLATFORM (setting FEATURES_OK with features the device did not offer, or without
 * VERSION_1, leaves FEATURES_OK clear, as §3.1.1 has the driver check), queue 0's configuration
 * (other QueueSel values read QueueNumMax 0: no such queue), QueueNotify, InterruptStatus /
 * InterruptACK, Status (writing 0 resets the device; the disk keeps its contents), ConfigGeneration
 * (always 0: the configuration never changes). The configuration space at 0x100 holds
 * `capacity: u64` (sectors) and reads 0 elsewhere, in accesses of 1, 2, 4 or 8 bytes; it ignores
 * writes.
 *
 * @param options queue size (default 8) and disk size in sectors (default 64).
 * @returns the model, named `"virtio-blk"`, with its `disk`.
 * @throws RangeError when an option is out of range.
 * @example
 * ```ts
 * const blk = virtioBlockDevice({ queue_size: 16 });
 * blk.mmio_read!(virtioConstants.reg.MAGIC_VALUE, 4, ctx); // 0x74726976
 * ```
 */
export function virtioBlockDevice(options: VirtioBlockOptions = {}): VirtioBlockDevice {
  const queue_size = options.queue_size ?? 8;
  const capacity = options.capacity_sectors ?? 64;
  if (!is_pow2(queue_size) || queue_size > MAX_QUEUE_SIZE) {
    throw new RangeError(`virtio-blk: queue_size must be a power of two in [1, ${MAX_QUEUE_SIZE}], got ${queue_size}`);
  }
  if (!Number.isInteger(capacity) || capacity < 0 || capacity > MAX_SECTORS) {
    throw new RangeError(`virtio-blk: capacity_sectors must be an integer in [0, ${MAX_SECTORS}], got ${capacity}`);
  }
  const disk = new Uint8Array(capacity * SECTOR);
  for (let s = 0; s < capacity; s++) for (let i = 0; i < SECTOR; i++) disk[s * SECTOR + i] = virtioDiskPattern(s, i);

  // Transport state; everything but the disk goes back to these values on a reset.
  let status = 0;
  let device_features_sel = 0;
  let driver_features_sel = 0;
  let driver_features = [0, 0];
  let queue_sel = 0;
  let num = 0;
  let ready = false;
  let desc = [0, 0];
  let avail = [0, 0];
  let used = [0, 0];
  let interrupt_status = 0;
  /** The next available-ring index to serve, and the used idx last published (both mod 2^16). */
  let last_avail = 0;
  let used_idx = 0;
  /** Set by QueueNotify: the honest device looks at the ring only when kicked. */
  let notified = false;
  /** The head completed last (-1: none yet): the "just freed" id a hostile device may repeat. */
  let last_head = -1;
  let rewritable: Rewritable | null = null;

  const reset = (): void => {
    status = 0;
    device_features_sel = driver_features_sel = queue_sel = 0;
    driver_features = [0, 0];
    num = 0;
    ready = false;
    desc = [0, 0];
    avail = [0, 0];
    used = [0, 0];
    interrupt_status = 0;
    last_avail = used_idx = 0;
    notified = false;
    last_head = -1;
    rewritable = null;
  };

  const addr = (pair: number[]): number => pair[0]! + pair[1]! * TWO_32;
  const live = (): boolean => (status & S.DRIVER_OK) !== 0 && (status & S.DEVICE_NEEDS_RESET) === 0 && ready;

  /** §2.1.2: the device gives up on a malformed queue and tells the driver through a config interrupt. */
  const fail = (dev: DeviceContext): void => {
    status |= S.DEVICE_NEEDS_RESET;
    if ((status & S.DRIVER_OK) !== 0) {
      interrupt_status |= virtioConstants.interrupt.CONFIG_CHANGE;
      dev.raise_irq();
    }
  };

  const writeStatus = (value: number): void => {
    if (value === 0) return reset();
    if ((value & S.FEATURES_OK) !== 0 && (status & S.FEATURES_OK) === 0) {
      const offered = driver_features.every((w, i) => (w & ~DEVICE_FEATURE_WORDS[i]!) === 0);
      const modern = (driver_features[1]! & 1) !== 0;
      if (!offered || !modern) value &= ~S.FEATURES_OK;
    }
    status = value;
  };

  // ── the virtqueue ──

  /** Walks the chain at `head`; null when it is malformed (the device then needs a reset). */
  const walk = (dev: DeviceContext, head: number): { readable: Segment[]; writable: Segment[] } | null => {
    const readable: Segment[] = [];
    const writable: Segment[] = [];
    const table = addr(desc);
    let i = head;
    // A chain never holds more descriptors than the table: a longer one loops.
    for (let steps = 0; steps < num; steps++) {
      if (i >= num) return null;
      const d = new DataView(dev.dma_read(table + i * virtioConstants.desc.SIZE, virtioConstants.desc.SIZE).buffer);
      const seg = { addr: d.getUint32(0, true) + d.getUint32(4, true) * TWO_32, len: d.getUint32(8, true) };
      const flags = d.getUint16(12, true);
      if ((flags & virtioConstants.desc.INDIRECT) !== 0) return null;
      if ((flags & virtioConstants.desc.WRITE) !== 0) writable.push(seg);
      else if (writable.length > 0) return null; // §2.7.4.2: readable descriptors come first
      else readable.push(seg);
      if ((flags & virtioConstants.desc.NEXT) === 0) return { readable, writable };
      i = d.getUint16(14, true);
    }
    return null;
  };

  /** Reads `len` bytes at offset `off` of the byte stream the segments form. */
  const gather = (dev: DeviceContext, segs: readonly Segment[], off: number, len: number): Uint8Array => {
    const out = new Uint8Array(len);
    let base = 0;
    for (const s of segs) {
      const from = Math.max(off, base);
      const to = Math.min(off + len, base + s.len);
      if (from < to) out.set(dev.dma_read(s.addr + (from - base), to - from), from - off);
      base += s.len;
    }
    return out;
  };

  /** Writes `bytes` at offset `off` of the byte stream the segments form. */
  const scatter = (dev: DeviceContext, segs: readonly Segment[], off: number, bytes: Uint8Array): void => {
    let base = 0;
    for (const s of segs) {
      const from = Math.max(off, base);
      const to = Math.min(off + bytes.length, base + s.len);
      if (from < to) dev.dma_write(s.addr + (from - base), bytes.subarray(from - off, to - off));
      base += s.len;
    }
  };

  const total = (segs: readonly Segment[]): number => segs.reduce((n, s) => n + s.len, 0);

  /** Serves one block request; returns the bytes written into the chain, or null when malformed. */
  const serve = (dev: DeviceContext, readable: Segment[], writable: Segment[]): number | null => {
    const in_len = total(readable);
    const out_len = total(writable);
    if (out_len < 1) return null; // no status byte: the driver cannot even be told
    let result: number = B.S_OK;
    let written = 1;
    if (in_len < B.HEADER_SIZE) {
      result = B.S_IOERR;
    } else {
      const h = new DataView(gather(dev, readable, 0, B.HEADER_SIZE).buffer);
      const type = h.getUint32(0, true);
      const sector = h.getUint32(8, true) + h.getUint32(12, true) * TWO_32;
      const data_len = type === B.T_IN ? out_len - 1 : in_len - B.HEADER_SIZE;
      // Range first, so that a huge length from a buggy driver moves no data at all.
      const fits = data_len % SECTOR === 0 && sector <= capacity && data_len / SECTOR <= capacity - sector;
      if (type !== B.T_IN && type !== B.T_OUT) result = B.S_UNSUPP;
      else if (!fits) result = B.S_IOERR;
      else if (type === B.T_IN) {
        scatter(dev, writable, 0, disk.subarray(sector * SECTOR, sector * SECTOR + data_len));
        written += data_len;
      } else {
        disk.set(gather(dev, readable, B.HEADER_SIZE, data_len), sector * SECTOR);
      }
    }
    scatter(dev, writable, out_len - 1, Uint8Array.of(result));
    return written;
  };

  /** Publishes a used element for `head` and bumps the used idx; the id and len may lie. */
  const complete = (dev: DeviceContext, head: number, written: number, buffer_len: number): void => {
    const ring = addr(used);
    const slot = ring + 4 + 8 * (used_idx % num);
    const idBounds = last_head >= 0 ? [num, num + 1, last_head] : [num, num + 1];
    dev.dma_write_u32(slot, pick(dev, head, 32, idBounds));
    dev.dma_write_u32(slot + 4, pick(dev, written, 32, [buffer_len + 1, 0xffff_ffff]));
    used_idx = (used_idx + 1) & 0xffff;
    dev.dma_write_u16(ring + 2, used_idx);
    last_head = head;
    if (dev.hostile) rewritable = { slot, head, idBounds, id: true, idx: true };
  };

  /**
   * The double fetch: after the driver had a chance to read the last used element once, write its
   * id, or the used idx, again with a value the seed picks. Each at most once per element.
   */
  const rewrite = (dev: DeviceContext): void => {
    const r = rewritable;
    if (r === null || !live()) return;
    if (r.id && coin(dev)) {
      r.id = false;
      dev.dma_write_u32(r.slot, mask(dev.choose(r.head, 32, r.idBounds), 32));
    }
    if (r.idx && coin(dev)) {
      r.idx = false;
      const lies = [(used_idx + 1) & 0xffff, (used_idx + num) & 0xffff];
      dev.dma_write_u16(addr(used) + 2, mask(dev.choose(used_idx, 16, lies), 16));
    }
  };

  const process = (dev: DeviceContext): void => {
    if (!is_pow2(num) || num > queue_size) return fail(dev);
    const ring = addr(avail);
    const avail_idx = dev.dma_read_u16(ring + 2);
    // More heads than the ring holds: the driver's idx is corrupt; serving them would re-serve chains.
    if (((avail_idx - last_avail) & 0xffff) > num) return fail(dev);
    let completed = 0;
    while (last_avail !== avail_idx) {
      const head = dev.dma_read_u16(ring + 4 + 2 * (last_avail % num));
      const chain = walk(dev, head);
      const written = chain && serve(dev, chain.readable, chain.writable);
      if (chain === null || written === null) return fail(dev);
      complete(dev, head, written, total(chain.writable));
      last_avail = (last_avail + 1) & 0xffff;
      completed++;
    }
    if (completed > 0 && (dev.dma_read_u16(ring) & virtioConstants.avail.NO_INTERRUPT) === 0) {
      interrupt_status |= virtioConstants.interrupt.USED_BUFFER;
      dev.raise_irq();
    }
  };

  // ── registers ──

  const readConfig = (off: number, size: 1 | 2 | 4 | 8, dev: DeviceContext): number | bigint => {
    const bytes = new Uint8Array(Math.max(off + size, B.CONFIG_CAPACITY + 8));
    if (off < B.CONFIG_CAPACITY + 8) {
      // Only an access that touches `capacity` asks for a lie, so the seed's choices stay few.
      const cap = pick(dev, capacity, 32, [capacity + 1]);
      new DataView(bytes.buffer).setBigUint64(B.CONFIG_CAPACITY, BigInt(cap), true);
    }
    const v = new DataView(bytes.buffer, off);
    return size === 1 ? v.getUint8(0) : size === 2 ? v.getUint16(0, true) : size === 4 ? v.getUint32(0, true) : v.getBigUint64(0, true);
  };

  const readRegister = (off: number, dev: DeviceContext): number => {
    switch (off) {
      case R.MAGIC_VALUE:
        return virtioConstants.MAGIC;
      case R.VERSION:
        return virtioConstants.MMIO_VERSION;
      case R.DEVICE_ID:
        return virtioConstants.DEVICE_ID_BLOCK;
      case R.VENDOR_ID:
        return virtioConstants.VENDOR_ID;
      case R.DEVICE_FEATURES:
        return DEVICE_FEATURE_WORDS[device_features_sel] ?? 0;
      case R.QUEUE_NUM_MAX:
        return queue_sel === 0 ? pick(dev, queue_size, 32, [queue_size, queue_size + 1, 0]) : 0;
      case R.QUEUE_READY:
        return queue_sel === 0 && ready ? 1 : 0;
      case R.INTERRUPT_STATUS:
        return interrupt_status;
      case R.STATUS:
        return status;
      default:
        return 0; // write-only, reserved, and ConfigGeneration (the configuration never changes)
    }
  };

  const writeRegister = (off: number, v: number): void => {
    const q0 = queue_sel === 0;
    switch (off) {
      case R.DEVICE_FEATURES_SEL:
        device_features_sel = v;
        break;
      case R.DRIVER_FEATURES:
        if (driver_features_sel < 2) driver_features[driver_features_sel] = v;
        break;
      case R.DRIVER_FEATURES_SEL:
        driver_features_sel = v;
        break;
      case R.QUEUE_SEL:
        queue_sel = v;
        break;
      case R.QUEUE_NUM:
        if (q0) num = v;
        break;
      case R.QUEUE_READY:
        if (q0) ready = (v & 1) === 1;
        break;
      case R.QUEUE_NOTIFY:
        if (v === 0) notified = true;
        break;
      case R.INTERRUPT_ACK:
        interrupt_status &= ~v;
        break;
      case R.STATUS:
        writeStatus(v);
        break;
      case R.QUEUE_DESC_LOW:
      case R.QUEUE_DESC_HIGH:
        if (q0) desc[(off - R.QUEUE_DESC_LOW) / 4] = v;
        break;
      case R.QUEUE_DRIVER_LOW:
      case R.QUEUE_DRIVER_HIGH:
        if (q0) avail[(off - R.QUEUE_DRIVER_LOW) / 4] = v;
        break;
      case R.QUEUE_DEVICE_LOW:
      case R.QUEUE_DEVICE_HIGH:
        if (q0) used[(off - R.QUEUE_DEVICE_LOW) / 4] = v;
        break;
      default:
        break; // read-only and reserved registers ignore writes
    }
  };

  return {
    name: "virtio-blk",
    disk,
    mmio_read(offset, size, dev) {
      if (offset >= R.CONFIG) return readConfig(offset - R.CONFIG, size, dev);
      if (size !== 4) return size === 8 ? 0n : 0;
      return readRegister(offset, dev);
    },
    mmio_write(offset, size, value) {
      if (offset >= R.CONFIG || size !== 4) return;
      writeRegister(offset, typeof value === "bigint" ? Number(BigInt.asUintN(32, value)) : value >>> 0);
    },
    run(dev) {
      if (dev.hostile) rewrite(dev);
      if (!notified) return;
      notified = false;
      if (live()) process(dev);
    },
  };
}
