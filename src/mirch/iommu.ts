/**
 * The Mirch IOMMU: one remapping domain translating device addresses (`daddr`) to physical pages.
 *
 * A device's DMA reaches only pages mapped here, one 4 KiB page per mapping, within
 * [0, {@link IOMMU_DADDR_END}) (a 3-level, 39-bit table on real hardware; a `Map` here, since only
 * the mappings matter). A reverse count per physical page answers "is this page still mapped for a
 * device?", which the engine asks when the kernel frees a page (freeing a page a device can still
 * write is a `dma` report).
 *
 * Arguments are checked here and reported as problem strings, never thrown, so the engine can
 * turn them into `dma` reports at the program's call. Whether the *page* may be mapped (allocated,
 * not typed) depends on the physical memory's state, which this module does not own: see
 * {@link dmaTargetProblem}.
 */

import { IOMMU_DADDR_END, PAGE_SIZE, type PageState } from "./constants.js";
import { hex } from "./pte.js";

/** A device address translated: where it lands and whether the device may write there. */
export interface IommuTranslation {
  /** The physical address, page offset included. */
  readonly paddr: number;
  /** Whether the mapping lets the device write. */
  readonly writable: boolean;
}

/** One contiguous piece of a device access: `len` bytes at physical `paddr`. */
export interface DmaSegment {
  readonly daddr: number;
  readonly paddr: number;
  readonly len: number;
}

interface Mapping {
  /** The physical page number. */
  readonly ppn: number;
  readonly writable: boolean;
}

/**
 * Why a page in state `state` may not be mapped for DMA (a typed page holds kernel objects a
 * device must not see; a free or reserved one belongs to no one), or `null` when it may.
 *
 * @param paddr - the page's physical address (for the message)
 * @param state - its state
 */
export function dmaTargetProblem(paddr: number, state: PageState): string | null {
  if (state.state === "untyped") return null;
  if (state.state === "typed") return `mapping page ${hex(paddr)} for DMA, which is typed \`${state.type}\`: only untyped pages may be shared with a device`;
  return `mapping page ${hex(paddr)} for DMA, which is not allocated: it is ${state.state}`;
}

/** The IOMMU's one remapping domain. */
export class Iommu {
  /** Device page number → mapping. */
  private readonly pages = new Map<number, Mapping>();
  /** Physical page number → how many device pages map it (absent when none). */
  private readonly reverse = new Map<number, number>();

  /** The number of mapped device pages. */
  get size(): number {
    return this.pages.size;
  }

  /**
   * Maps the device page at `daddr` to the physical page at `paddr`.
   *
   * @param daddr - a page-aligned device address below {@link IOMMU_DADDR_END}
   * @param paddr - a page-aligned physical address
   * @param writable - whether the device may write there (default true)
   * @returns `null` when mapped; why not otherwise (bad address, `daddr` already mapped), with no change
   */
  map(daddr: number, paddr: number, writable = true): string | null {
    const bad = checkDaddr("mapping", daddr);
    if (bad !== null) return bad;
    if (!Number.isInteger(paddr) || paddr < 0 || paddr % PAGE_SIZE !== 0) {
      return `mapping device address ${hex(daddr)} to ${hex(paddr)}: the physical address is not page-aligned`;
    }
    const dpn = daddr / PAGE_SIZE;
    const old = this.pages.get(dpn);
    if (old !== undefined) {
      return `mapping device address ${hex(daddr)}, which is already mapped (to ${hex(old.ppn * PAGE_SIZE)}): unmap it first`;
    }
    const ppn = paddr / PAGE_SIZE;
    this.pages.set(dpn, { ppn, writable });
    this.reverse.set(ppn, (this.reverse.get(ppn) ?? 0) + 1);
    return null;
  }

  /**
   * Removes the mapping of the device page at `daddr`.
   *
   * @returns `null` when unmapped; why not otherwise (bad address, nothing mapped there)
   */
  unmap(daddr: number): string | null {
    const bad = checkDaddr("unmapping", daddr);
    if (bad !== null) return bad;
    const dpn = daddr / PAGE_SIZE;
    const m = this.pages.get(dpn);
    if (m === undefined) return `unmapping device address ${hex(daddr)}, which is not mapped`;
    this.pages.delete(dpn);
    const n = this.reverse.get(m.ppn)!;
    if (n === 1) this.reverse.delete(m.ppn);
    else this.reverse.set(m.ppn, n - 1);
    return null;
  }

  /**
   * Where the device address `daddr` lands, or `null` when its page is not mapped (or `daddr` is
   * out of range).
   */
  translate(daddr: number): IommuTranslation | null {
    const m = this.pages.get(Math.floor(daddr / PAGE_SIZE));
    if (m === undefined || !(daddr >= 0)) return null;
    return { paddr: m.ppn * PAGE_SIZE + (daddr % PAGE_SIZE), writable: m.writable };
  }

  /**
   * Translates a device access of `len` bytes from `daddr`, page by page, merging pieces that are
   * physically contiguous.
   *
   * @param write - whether the device writes (each page must then be writable)
   * @returns the pieces in order, or why the access faults (the first unmapped or read-only page)
   */
  translateRange(daddr: number, len: number, write: boolean): DmaSegment[] | string {
    if (!Number.isInteger(daddr) || !Number.isInteger(len) || daddr < 0 || len < 0 || daddr + len > IOMMU_DADDR_END) {
      return `a device access of ${len} bytes at ${hex(daddr)} is outside the device address space [0, ${hex(IOMMU_DADDR_END)})`;
    }
    const out: DmaSegment[] = [];
    for (let d = daddr; d < daddr + len; ) {
      const t = this.translate(d);
      if (t === null) return `a device ${write ? "write" : "read"} at ${hex(d)}, which the IOMMU does not map`;
      if (write && !t.writable) return `a device write at ${hex(d)}, which the IOMMU maps read-only`;
      const n = Math.min(PAGE_SIZE - (d % PAGE_SIZE), daddr + len - d);
      const last = out[out.length - 1];
      if (last !== undefined && last.paddr + last.len === t.paddr) out[out.length - 1] = { daddr: last.daddr, paddr: last.paddr, len: last.len + n };
      else out.push({ daddr: d, paddr: t.paddr, len: n });
      d += n;
    }
    return out;
  }

  /** Whether some device page maps the physical page holding `paddr`. */
  isMapped(paddr: number): boolean {
    return this.reverse.has(Math.floor(paddr / PAGE_SIZE));
  }

  /** The device addresses mapping the physical page holding `paddr` (for reports). O(mappings). */
  daddrsOf(paddr: number): number[] {
    const ppn = Math.floor(paddr / PAGE_SIZE);
    const out: number[] = [];
    for (const [dpn, m] of this.pages) if (m.ppn === ppn) out.push(dpn * PAGE_SIZE);
    return out.sort((a, b) => a - b);
  }
}

function checkDaddr(verb: string, daddr: number): string | null {
  if (!Number.isInteger(daddr) || daddr < 0 || daddr >= IOMMU_DADDR_END) {
    return `${verb} device address ${hex(daddr)}, outside the device address space [0, ${hex(IOMMU_DADDR_END)})`;
  }
  if (daddr % PAGE_SIZE !== 0) return `${verb} device address ${hex(daddr)}, which is not page-aligned`;
  return null;
}
