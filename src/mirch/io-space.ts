/**
 * The I/O space of a Machine: where attached devices answer (MMIO windows in the holes of the
 * physical map, port ranges), and which ranges the kernel has claimed.
 *
 * Two separate things are tracked:
 *
 * - **Placement**, by `attach_device`: each device gets an MMIO window (page-aligned, in attach
 *   order from {@link DEVICE_MMIO_BASE}, in the MMIO holes) and a port range (from
 *   {@link DEVICE_PORT_BASE}, in attach order). {@link IoSpace.mmioAt} / {@link IoSpace.portAt}
 *   route an access to the device and the offset in its window.
 * - **Claims**, by the annotations `io_mem_claim` / `io_port_claim` that OSTD's `IoMem` and port
 *   allocators call when they hand a range to a driver. An access outside every claimed range, an
 *   overlapping claim, or a release of what is not claimed is an `mmio` report.
 *
 * Few devices are attached, so windows are kept in small arrays and looked up by a scan, with the
 * window hit last checked first (drivers hammer one device's registers at a time). Claims are
 * sorted, disjoint, merged intervals ({@link IntervalSet}).
 */

import { DEVICE_MMIO_BASE, DEVICE_PORT_BASE, MAX_IO_PORT, MMIO_HOLES, PAGE_SIZE } from "./constants.js";
import { hex } from "./pte.js";

/** Where an access lands: which attached device, and the offset into its window or port range. */
export interface IoTarget {
  /** The device's index (its attach order, as the engine numbers devices). */
  readonly device: number;
  /** The offset from the start of the device's window or port range. */
  readonly offset: number;
}

/** A range `[base, base + len)` of MMIO addresses or ports given to a device. */
export interface IoWindow {
  readonly device: number;
  readonly base: number;
  readonly len: number;
}

/**
 * A set of integers kept as sorted, disjoint, non-adjacent intervals `[start, end)`: the claimed
 * MMIO bytes, or the claimed ports. Adding requires the range to be free, removing requires it to
 * be wholly in the set (a removal may split an interval).
 */
export class IntervalSet {
  /** `starts[i]`, `ends[i]`: interval `i`, sorted, with `ends[i] < starts[i + 1]`. */
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];

  /** The number of intervals. */
  get count(): number {
    return this.starts.length;
  }

  /** The intervals, in order. */
  intervals(): [start: number, end: number][] {
    return this.starts.map((s, i) => [s, this.ends[i]!]);
  }

  /** The first point of `[start, end)` in the set, or -1. */
  firstIn(start: number, end: number): number {
    const i = this.indexAfter(start) - 1; // the last interval starting at or before `start`
    if (i >= 0 && this.ends[i]! > start) return start;
    const j = i + 1;
    return j < this.starts.length && this.starts[j]! < end ? this.starts[j]! : -1;
  }

  /** Whether every point of `[start, end)` is in the set (an empty range is). */
  covers(start: number, end: number): boolean {
    if (start >= end) return true;
    const i = this.indexAfter(start) - 1;
    return i >= 0 && this.ends[i]! >= end;
  }

  /** Adds `[start, end)`, which must be free: returns false (and changes nothing) otherwise. */
  add(start: number, end: number): boolean {
    if (start >= end) return true;
    if (this.firstIn(start, end) !== -1) return false;
    let i = this.indexAfter(start); // the interval after the new one
    let s = start;
    let e = end;
    // Merge with an adjacent neighbour on either side, so `covers` is one lookup.
    if (i > 0 && this.ends[i - 1] === start) {
      i--;
      s = this.starts[i]!;
      this.starts.splice(i, 1);
      this.ends.splice(i, 1);
    }
    if (i < this.starts.length && this.starts[i] === end) {
      e = this.ends[i]!;
      this.starts.splice(i, 1);
      this.ends.splice(i, 1);
    }
    this.starts.splice(i, 0, s);
    this.ends.splice(i, 0, e);
    return true;
  }

  /** Removes `[start, end)`, which must be wholly in the set: returns false (and changes nothing) otherwise. */
  remove(start: number, end: number): boolean {
    if (start >= end) return true;
    if (!this.covers(start, end)) return false;
    const i = this.indexAfter(start) - 1;
    const s = this.starts[i]!;
    const e = this.ends[i]!;
    const pieces: [number, number][] = [];
    if (s < start) pieces.push([s, start]);
    if (end < e) pieces.push([end, e]);
    this.starts.splice(i, 1, ...pieces.map((p) => p[0]));
    this.ends.splice(i, 1, ...pieces.map((p) => p[1]));
    return true;
  }

  /** The index of the first interval starting after `x` (binary search). */
  private indexAfter(x: number): number {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.starts[mid]! <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** The placement of devices in the I/O space and the kernel's claims on it. */
export class IoSpace {
  private readonly mmio: IoWindow[] = [];
  private readonly ports: IoWindow[] = [];
  private lastMmio: IoWindow | null = null;
  private lastPorts: IoWindow | null = null;
  /** Where the next MMIO window goes (page-aligned). */
  private nextMmio = DEVICE_MMIO_BASE;
  /** The next free port for a device. */
  private nextPort = DEVICE_PORT_BASE;
  private readonly mmioClaims = new IntervalSet();
  private readonly portClaims = new IntervalSet();

  /** The MMIO windows of attached devices, in attach order. */
  mmioWindows(): readonly IoWindow[] {
    return this.mmio;
  }

  /** The port ranges of attached devices, in attach order. */
  portRanges(): readonly IoWindow[] {
    return this.ports;
  }

  /**
   * Places an MMIO window of `len` bytes (rounded up to whole pages) for `device` at the next free
   * page-aligned address of the MMIO holes, in attach order.
   *
   * @returns the window, or why not (no room left, a bad length)
   */
  allocateMmio(device: number, len: number): IoWindow | string {
    if (!Number.isInteger(len) || len < 1) return `an MMIO window of ${len} bytes: the length must be a positive integer`;
    const size = Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
    for (const [start, end] of MMIO_HOLES) {
      const base = Math.max(this.nextMmio, start);
      if (base + size <= end) {
        const bad = this.addMmio(device, base, len);
        if (typeof bad === "string") return bad;
        this.nextMmio = base + size;
        return bad;
      }
    }
    return `no room left in the MMIO holes for a window of ${hex(len)} bytes`;
  }

  /**
   * Places `len` ports for `device` at the next free port, in attach order.
   *
   * @returns the range, or why not (no ports left, a bad length)
   */
  allocatePorts(device: number, len: number): IoWindow | string {
    if (!Number.isInteger(len) || len < 1) return `a port range of ${len} ports: the length must be a positive integer`;
    const base = this.nextPort;
    const r = this.addPorts(device, base, len);
    if (typeof r !== "string") this.nextPort = base + len;
    return r;
  }

  /**
   * Gives `device` the MMIO window `[paddr, paddr + len)` at a chosen address (it must lie in an
   * MMIO hole and overlap no other window). Later automatic placements go after it.
   *
   * @returns the window, or why not
   */
  addMmio(device: number, paddr: number, len: number): IoWindow | string {
    if (!Number.isInteger(paddr) || !Number.isInteger(len) || len < 1) return `an MMIO window of ${len} bytes at ${hex(paddr)}: bad address or length`;
    if (!MMIO_HOLES.some(([s, e]) => paddr >= s && paddr + len <= e)) {
      return `an MMIO window [${hex(paddr)}, ${hex(paddr + len)}) outside the MMIO holes of the physical map`;
    }
    const other = this.mmio.find((w) => paddr < w.base + w.len && w.base < paddr + len);
    if (other !== undefined) return `an MMIO window [${hex(paddr)}, ${hex(paddr + len)}) overlaps device ${other.device}'s at ${hex(other.base)}`;
    const w: IoWindow = Object.freeze({ device, base: paddr, len });
    this.mmio.push(w);
    const end = Math.ceil((paddr + len) / PAGE_SIZE) * PAGE_SIZE;
    if (end > this.nextMmio) this.nextMmio = end;
    return w;
  }

  /**
   * Gives `device` the ports `[base, base + len)` at a chosen base (within `[0, MAX_IO_PORT]`,
   * overlapping no other device's ports).
   *
   * @returns the range, or why not
   */
  addPorts(device: number, base: number, len: number): IoWindow | string {
    if (!Number.isInteger(base) || !Number.isInteger(len) || len < 1 || base < 0 || base + len - 1 > MAX_IO_PORT) {
      return `a port range of ${len} ports at ${hex(base)} outside [0, ${hex(MAX_IO_PORT)}]`;
    }
    const other = this.ports.find((w) => base < w.base + w.len && w.base < base + len);
    if (other !== undefined) return `ports [${hex(base)}, ${hex(base + len)}) overlap device ${other.device}'s at ${hex(other.base)}`;
    const w: IoWindow = Object.freeze({ device, base, len });
    this.ports.push(w);
    if (base + len > this.nextPort) this.nextPort = base + len;
    return w;
  }

  /** The device whose MMIO window holds `paddr`, and the offset in it; `null` when no device answers. */
  mmioAt(paddr: number): IoTarget | null {
    const w = findWindow(this.mmio, this.lastMmio, paddr);
    if (w === null) return null;
    this.lastMmio = w;
    return { device: w.device, offset: paddr - w.base };
  }

  /** The device owning `port`, and the offset in its range; `null` when no device answers. */
  portAt(port: number): IoTarget | null {
    const w = findWindow(this.ports, this.lastPorts, port);
    if (w === null) return null;
    this.lastPorts = w;
    return { device: w.device, offset: port - w.base };
  }

  /**
   * `io_mem_claim`: the kernel hands `[paddr, paddr + len)` to a driver.
   *
   * @returns `null`, or why not (an overlap with a claimed range, a bad range), with no change
   */
  claimMmio(paddr: number, len: number): string | null {
    const bad = checkLen("io_mem_claim", paddr, len);
    if (bad !== null) return bad;
    if (this.mmioClaims.add(paddr, paddr + len)) return null;
    return `io_mem_claim of [${hex(paddr)}, ${hex(paddr + len)}) overlaps a claimed range at ${hex(this.mmioClaims.firstIn(paddr, paddr + len))}`;
  }

  /**
   * `io_mem_release`: the range returns to the allocator.
   *
   * @returns `null`, or why not (some byte not claimed), with no change
   */
  releaseMmio(paddr: number, len: number): string | null {
    const bad = checkLen("io_mem_release", paddr, len);
    if (bad !== null) return bad;
    if (this.mmioClaims.remove(paddr, paddr + len)) return null;
    return `io_mem_release of [${hex(paddr)}, ${hex(paddr + len)}), which is not wholly claimed`;
  }

  /**
   * `io_port_claim`.
   *
   * @returns `null`, or why not (an overlap with claimed ports, a bad range), with no change
   */
  claimPorts(base: number, len: number): string | null {
    const bad = checkPorts("io_port_claim", base, len);
    if (bad !== null) return bad;
    if (this.portClaims.add(base, base + len)) return null;
    return `io_port_claim of ports [${hex(base)}, ${hex(base + len)}) overlaps claimed port ${hex(this.portClaims.firstIn(base, base + len))}`;
  }

  /**
   * `io_port_release`.
   *
   * @returns `null`, or why not (some port not claimed), with no change
   */
  releasePorts(base: number, len: number): string | null {
    const bad = checkPorts("io_port_release", base, len);
    if (bad !== null) return bad;
    if (this.portClaims.remove(base, base + len)) return null;
    return `io_port_release of ports [${hex(base)}, ${hex(base + len)}), which are not all claimed`;
  }

  /** Whether every byte of `[paddr, paddr + len)` is claimed (an access outside is `mmio`). */
  mmioClaimed(paddr: number, len: number): boolean {
    return this.mmioClaims.covers(paddr, paddr + len);
  }

  /** Whether `port` is claimed (a port access is checked at its first port). */
  portClaimed(port: number): boolean {
    return this.portClaims.covers(port, port + 1);
  }
}

/**
 * Whether an MMIO access may reach a device: 1, 2, 4 or 8 bytes, naturally aligned.
 *
 * @returns `null`, or why not
 */
export function checkMmioAccess(paddr: number, size: number): string | null {
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8) {
    return `an MMIO access of ${size} bytes at ${hex(paddr)}: device registers take 1, 2, 4 or 8 bytes`;
  }
  if (paddr % size !== 0) return `an MMIO access of ${size} bytes at ${hex(paddr)} is not aligned to its size`;
  return null;
}

function findWindow(windows: readonly IoWindow[], last: IoWindow | null, x: number): IoWindow | null {
  if (last !== null && x >= last.base && x < last.base + last.len) return last;
  for (const w of windows) if (x >= w.base && x < w.base + w.len) return w;
  return null;
}

function checkLen(verb: string, paddr: number, len: number): string | null {
  if (!Number.isInteger(paddr) || !Number.isInteger(len) || paddr < 0 || len < 1) return `${verb} of ${len} bytes at ${hex(paddr)}: not a range`;
  return null;
}

function checkPorts(verb: string, base: number, len: number): string | null {
  if (!Number.isInteger(base) || !Number.isInteger(len) || base < 0 || len < 1 || base + len - 1 > MAX_IO_PORT) {
    return `${verb} of ${len} ports at ${hex(base)}: not a range of [0, ${hex(MAX_IO_PORT)}]`;
  }
  return null;
}
