/**
 * Streaming-DMA ownership: who may touch each byte of a streaming mapping, and when.
 *
 * On a machine without cache-coherent DMA, a buffer shared with a device is owned in turn: the CPU
 * fills it, *syncs it for the device* (cache lines written back), the device reads it; the device
 * writes, the CPU *syncs it for itself* (stale lines dropped) and reads. Skipping a sync works on a
 * coherent machine and corrupts data on another, so kmiri checks the protocol OSTD's `DmaStream`
 * follows, through the contract's annotations:
 *
 * - `dma_stream_begin(paddr, len, direction)`: the bytes enter a stream, owned by the CPU;
 * - `dma_sync_for_device`: the device owns them, and the CPU's writes so far are visible to it;
 * - `dma_sync_for_cpu`: the CPU owns them, and the device's writes so far are visible to it;
 * - `dma_stream_end`: the bytes leave the stream (possibly part of it).
 *
 * Reported (`dma`), by the checks below:
 * - a device read of bytes the CPU wrote with no `dma_sync_for_device` since (allowed in a
 *   `from-device` stream, whose contents the device does not consume);
 * - a device write while the CPU owns the bytes (before any `dma_sync_for_device`, or after a
 *   `dma_sync_for_cpu` took them back), or into a `to-device` stream;
 * - a CPU read of bytes the device wrote with no `dma_sync_for_cpu` since.
 *
 * Memory outside every stream is not checked here: it is coherent DMA memory, ordered by MMIO
 * accesses and interrupts instead.
 *
 * ## Representation
 *
 * One {@link RangeMap} over the physical address space, whose runs hold `null` (no stream) or a
 * {@link DmaStreamState}. Per-byte state is what the protocol needs (the device writes some bytes
 * of a buffer, the CPU syncs part of it), and runs keep it cheap: a stream is usually one run.
 * States are interned frozen objects (24 combinations), so runs compare with `===` and updating a
 * run allocates nothing. When no stream exists, every check returns at once: the CPU checks run on
 * accesses to untyped memory, which are frequent.
 */

import { RangeMap, primitiveOps } from "../data-structures/range-map.js";
import { hex } from "./pte.js";

/** The direction of a streaming mapping, as the contract's `dma_stream_begin` takes it. */
export type DmaDirection = "to-device" | "from-device" | "bidirectional";

/** The state of the bytes of one stream (shared, frozen: compare with `===`). */
export interface DmaStreamState {
  readonly direction: DmaDirection;
  /** Who owns the bytes: the CPU after `dma_stream_begin` and `dma_sync_for_cpu`, the device after `dma_sync_for_device`. */
  readonly owner: "cpu" | "device";
  /** Whether the CPU wrote the bytes since the last `dma_sync_for_device`. */
  readonly cpuWrote: boolean;
  /** Whether the device wrote the bytes since the last `dma_sync_for_cpu`. */
  readonly deviceWrote: boolean;
}

/** Physical addresses are below 2^51 (the address field of an entry ends at bit 50). */
const PHYS_END = 2 ** 51;

const DIRECTIONS: readonly DmaDirection[] = ["to-device", "from-device", "bidirectional"];
/** The interned states, indexed by direction * 8 + owner * 4 + cpuWrote * 2 + deviceWrote. */
const STATES: readonly DmaStreamState[] = (() => {
  const out: DmaStreamState[] = [];
  for (const direction of DIRECTIONS)
    for (const owner of ["cpu", "device"] as const)
      for (const cpuWrote of [false, true]) for (const deviceWrote of [false, true]) out.push(Object.freeze({ direction, owner, cpuWrote, deviceWrote }));
  return out;
})();

/** The interned state with these fields. */
function stateOf(direction: DmaDirection, owner: "cpu" | "device", cpuWrote: boolean, deviceWrote: boolean): DmaStreamState {
  return STATES[DIRECTIONS.indexOf(direction) * 4 * 2 + (owner === "device" ? 4 : 0) + (cpuWrote ? 2 : 0) + (deviceWrote ? 1 : 0)]!;
}

/** The streaming-DMA state of the whole physical address space. */
export class DmaStreams {
  private readonly bytes = new RangeMap<DmaStreamState | null>(PHYS_END, null, primitiveOps());
  /** Bytes currently in some stream: 0 lets every check return at once. */
  private streamBytes = 0;

  /** How many bytes are in a stream. */
  get size(): number {
    return this.streamBytes;
  }

  /**
   * `dma_stream_begin`: `[paddr, paddr + len)` enters a stream of `direction`, owned by the CPU.
   *
   * @returns `null`, or why not (bytes already in a stream, a bad range), with no change
   */
  begin(paddr: number, len: number, direction: DmaDirection): string | null {
    const bad = checkRange("dma_stream_begin", paddr, len);
    if (bad !== null || len === 0) return bad;
    if (!DIRECTIONS.includes(direction)) return `dma_stream_begin: \`${String(direction)}\` is not a direction (one of ${DIRECTIONS.join(", ")})`;
    const inside = this.firstWhere(paddr, len, (s) => s !== null);
    if (inside !== -1) return `dma_stream_begin of [${hex(paddr)}, ${hex(paddr + len)}): byte ${hex(inside)} is already in a DMA stream`;
    this.bytes.fill(paddr, paddr + len, stateOf(direction, "cpu", false, false));
    this.streamBytes += len;
    return null;
  }

  /**
   * `dma_stream_end`: `[paddr, paddr + len)` leaves its stream (a part of a stream may end).
   *
   * @returns `null`, or why not (bytes in no stream), with no change
   */
  end(paddr: number, len: number): string | null {
    const bad = this.checkAllInStream("dma_stream_end", paddr, len);
    if (bad !== null || len === 0) return bad;
    this.bytes.fill(paddr, paddr + len, null);
    this.streamBytes -= len;
    return null;
  }

  /**
   * `dma_sync_for_device`: the device owns the bytes, and has seen the CPU's writes.
   *
   * @returns `null`, or why not (bytes in no stream), with no change
   */
  syncForDevice(paddr: number, len: number): string | null {
    const bad = this.checkAllInStream("dma_sync_for_device", paddr, len);
    if (bad !== null || len === 0) return bad;
    this.bytes.update(paddr, paddr + len, (s) => stateOf(s!.direction, "device", false, s!.deviceWrote));
    return null;
  }

  /**
   * `dma_sync_for_cpu`: the CPU owns the bytes, and has seen the device's writes.
   *
   * @returns `null`, or why not (bytes in no stream), with no change
   */
  syncForCpu(paddr: number, len: number): string | null {
    const bad = this.checkAllInStream("dma_sync_for_cpu", paddr, len);
    if (bad !== null || len === 0) return bad;
    this.bytes.update(paddr, paddr + len, (s) => stateOf(s!.direction, "cpu", s!.cpuWrote, false));
    return null;
  }

  /**
   * A device read (DMA) of `[paddr, paddr + len)`: a problem when it reads stream bytes the CPU
   * wrote with no `dma_sync_for_device` since (except in a `from-device` stream).
   */
  deviceRead(paddr: number, len: number): string | null {
    if (this.streamBytes === 0) return null;
    const b = this.firstWhere(paddr, len, (s) => s !== null && s.cpuWrote && s.direction !== "from-device");
    if (b === -1) return null;
    return `the device reads ${hex(b)}, in a DMA stream, which the CPU wrote with no dma_sync_for_device since: the device may read stale memory`;
  }

  /**
   * A device write (DMA) of `[paddr, paddr + len)`: a problem when it writes stream bytes the CPU
   * owns, or bytes of a `to-device` stream. The write is recorded either way (the CPU must sync
   * before reading those bytes).
   */
  deviceWrite(paddr: number, len: number): string | null {
    if (this.streamBytes === 0) return null;
    let problem: string | null = null;
    const toDevice = this.firstWhere(paddr, len, (s) => s !== null && s.direction === "to-device");
    if (toDevice !== -1) problem = `the device writes ${hex(toDevice)}, in a to-device DMA stream, which the device may only read`;
    else {
      const cpuOwned = this.firstWhere(paddr, len, (s) => s !== null && s.owner === "cpu");
      if (cpuOwned !== -1) {
        problem = `the device writes ${hex(cpuOwned)}, in a DMA stream the CPU owns: no dma_sync_for_device since dma_stream_begin or the last dma_sync_for_cpu`;
      }
    }
    this.mark(paddr, len, (s) => (s.deviceWrote ? s : stateOf(s.direction, s.owner, s.cpuWrote, true)));
    return problem;
  }

  /**
   * A CPU read of `[paddr, paddr + len)`: a problem when it reads stream bytes the device wrote with
   * no `dma_sync_for_cpu` since (the CPU may see stale cache lines).
   */
  cpuRead(paddr: number, len: number): string | null {
    if (this.streamBytes === 0) return null;
    const b = this.firstWhere(paddr, len, (s) => s !== null && s.deviceWrote);
    if (b === -1) return null;
    return `the CPU reads ${hex(b)}, in a DMA stream, which the device wrote with no dma_sync_for_cpu since: the CPU may read stale memory`;
  }

  /**
   * A CPU write of `[paddr, paddr + len)`: recorded, so that a device read before the next
   * `dma_sync_for_device` is reported. Never a problem by itself (the contract reports the read).
   */
  cpuWrite(paddr: number, len: number): string | null {
    if (this.streamBytes === 0) return null;
    this.mark(paddr, len, (s) => (s.cpuWrote ? s : stateOf(s.direction, s.owner, true, s.deviceWrote)));
    return null;
  }

  /** Whether any byte of `[paddr, paddr + len)` is in a stream. */
  inStream(paddr: number, len: number): boolean {
    return this.streamBytes !== 0 && this.firstWhere(paddr, len, (s) => s !== null) !== -1;
  }

  /** The stream state of the byte at `paddr`, or `null` outside every stream. */
  stateAt(paddr: number): DmaStreamState | null {
    return paddr >= 0 && paddr < PHYS_END ? this.bytes.get(paddr) : null;
  }

  /** The first byte of `[paddr, paddr + len)` (clipped to the address space) whose state passes `test`, or -1. */
  private firstWhere(paddr: number, len: number, test: (s: DmaStreamState | null) => boolean): number {
    const start = Math.max(paddr, 0);
    const end = Math.min(paddr + len, PHYS_END);
    let found = -1;
    if (start < end) {
      this.bytes.forEach(start, end, (s, from) => {
        if (!test(s)) return false;
        found = from;
        return true;
      });
    }
    return found;
  }

  /** Replaces the state of the stream bytes of `[paddr, paddr + len)` (clipped) by `fn(state)`. */
  private mark(paddr: number, len: number, fn: (s: DmaStreamState) => DmaStreamState): void {
    const start = Math.max(paddr, 0);
    const end = Math.min(paddr + len, PHYS_END);
    if (start >= end || this.firstWhere(start, end - start, (s) => s !== null && fn(s) !== s) === -1) return;
    this.bytes.update(start, end, (s) => (s === null ? null : fn(s)));
  }

  private checkAllInStream(verb: string, paddr: number, len: number): string | null {
    const bad = checkRange(verb, paddr, len);
    if (bad !== null) return bad;
    const outside = this.firstWhere(paddr, len, (s) => s === null);
    return outside === -1 ? null : `${verb} of [${hex(paddr)}, ${hex(paddr + len)}): byte ${hex(outside)} is in no DMA stream`;
  }
}

function checkRange(verb: string, paddr: number, len: number): string | null {
  if (!Number.isInteger(paddr) || !Number.isInteger(len) || paddr < 0 || len < 0 || paddr + len > PHYS_END) {
    return `${verb}: [${hex(paddr)}, +${len}) is not a range of physical memory`;
  }
  return null;
}
