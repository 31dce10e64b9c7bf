/**
 * Mirch's physical memory as allocations of the Machine's memory: what `alloc_pages`,
 * `retype_pages` and `dealloc_pages` make and unmake, and how an address finds the allocation
 * that holds it.
 *
 * An allocation of physical pages lives at its *linear-map* address (`LINEAR_MAPPING_BASE +
 * paddr`), so a pointer made through the linear map carries it directly and takes the memory's
 * fast path, as a heap pointer does. One `alloc_pages` / `retype_pages` call makes one allocation
 * spanning its pages, or one per slot (`slot_size`): a 4-page stack is one object, and a 64-byte
 * metadata slot another. The page-state rules themselves are the engine-free
 * {@link PhysicalMemoryMap}'s; this module keeps the allocations in step with it.
 *
 * **Sparse.** Nothing is kept for a page nobody allocated: the index holds allocated pages only,
 * and the bytes a freed page held (RAM keeps them: allocating or retyping a page keeps what it
 * held) are kept only for pages that had initialised bytes. A machine with 4 GiB of RAM costs
 * nothing until its pages are used.
 *
 * **Freeing part of an allocation.** OSTD frees a segment's frames one by one and retypes single
 * frames of a larger untyped block. The allocation is then split: it dies, and each run of its
 * pages that stays gets a new allocation holding its bytes. Pointers made before still carry the
 * old allocation, which becomes an indirect marker (`markIndirect`): on their slow path the
 * resolver sends them to the piece that holds their address now, or to the dead piece of the
 * freed pages (a `use-after-free`). The pieces start without borrow-stack history (their accesses
 * are not checked against tags made before the split: a documented imprecision).
 */
import { LINEAR_MAPPING_BASE, PAGE_SIZE, type PageType } from "../../mirch/constants.js";
import { EMPTY_VIEW, markIndirect, type Allocation } from "../memory/allocation.js";
import type { Memory } from "../memory/memory.js";

/** Mirch's slot of a physical allocation (`Allocation.page`). */
export interface PhysSlot {
  readonly mirch: "phys";
  /** The physical address of its first byte. */
  readonly paddr: number;
  /** Its type (`null`: untyped). */
  readonly type: PageType | null;
  /**
   * The kernel virtual address the allocation's base is used at: -1 until the first access after
   * the retype binds it, {@link LINEAR_BINDING} for the linear map, else the base's address in
   * the vmalloc or metadata area (typed pages only: a typed page accessed through two kernel
   * virtual addresses is `page-state`).
   */
  binding: number;
  /** The borrow tracker's root tag of the allocation (pointers made through the linear map carry it). */
  root: number;
  /** The indirect markers pointers to it carry (made on first need; see pointers.ts). */
  markers: Map<string, Allocation> | null;
  /** After a split: the allocations that hold its pages now (the freed ones dead), by address. */
  pieces: Allocation[] | null;
}

/** {@link PhysSlot.binding} of an allocation bound to the linear map. */
export const LINEAR_BINDING = 0;

/** The Mirch slot of `a`, or `null` for an allocation that is not physical memory. */
export function physSlot(a: Allocation): PhysSlot | null {
  const p = a.page as PhysSlot | null;
  return p !== null && p.mirch === "phys" ? p : null;
}

/** The bytes (and initialisation) a freed page held. */
interface Residue {
  readonly bytes: Uint8Array;
  /** One byte per byte, 1 where initialised; `null`: all of them. */
  readonly init: Uint8Array | null;
}

/** Page number of a physical address. */
const pfnOf = (paddr: number): number => Math.floor(paddr / PAGE_SIZE);

/** The physical allocations of one Machine. */
export class PhysicalPages {
  /** Allocated pages: the allocation covering each (a page of slots: its slots, in address order). */
  private readonly index = new Map<number, Allocation | Allocation[]>();
  /** What freed pages held, for the next allocation of them (pages with initialised bytes only). */
  private readonly residue = new Map<number, Residue>();
  /** The site that last freed or retyped each page (the help line of a stale TLB entry). */
  private readonly freedAt = new Map<number, number>();

  /** The site that last freed or retyped a page of `[paddr, paddr + size)`, or -1. */
  lastFreedSite(paddr: number, size: number): number {
    let site = -1;
    for (let p = pfnOf(paddr); p < pfnOf(paddr + size - 1) + 1; p++) {
      const s = this.freedAt.get(p);
      if (s !== undefined) site = s;
      if (size > 64 * PAGE_SIZE) break;
    }
    return site;
  }

  constructor(
    private readonly memory: Memory,
    /** The borrow tracker's root tag of a new allocation (0 when nothing is tracked). */
    private readonly rootTag: (a: Allocation, site: number) => number,
  ) {}

  /** The live allocation holding the byte at `paddr`, or `null` (a free or reserved page, a gap between slots). */
  at(paddr: number): Allocation | null {
    const e = this.index.get(pfnOf(paddr));
    if (e === undefined) return null;
    if (!Array.isArray(e)) return e;
    const addr = LINEAR_MAPPING_BASE + paddr;
    for (const a of e) if (addr >= a.base && addr < a.base + a.size) return a;
    return null;
  }

  /** Every live physical allocation (leak roots: physical memory is the kernel's, never leaked). */
  *live(): Iterable<Allocation> {
    const seen = new Set<Allocation>();
    for (const e of this.index.values()) {
      for (const a of Array.isArray(e) ? e : [e]) {
        if (!seen.has(a)) {
          seen.add(a);
          yield a;
        }
      }
    }
  }

  /**
   * Makes the allocation(s) of `count` pages from `paddr` — untyped (`type` null) or typed, one
   * spanning them or one per `slotSize` bytes — holding what the pages held.
   */
  make(paddr: number, count: number, type: PageType | null, slotSize: number, site: number): Allocation[] {
    const made: Allocation[] = [];
    const kind = type === null ? "untyped" : "ram";
    if (slotSize > 0 && slotSize < PAGE_SIZE) {
      for (let p = 0; p < count; p++) {
        const page = paddr + p * PAGE_SIZE;
        const slots: Allocation[] = [];
        for (let off = 0; off < PAGE_SIZE; off += slotSize) slots.push(this.newAllocation(page + off, slotSize, kind, type, site));
        this.index.set(pfnOf(page), slots);
        made.push(...slots);
      }
      return made;
    }
    const a = this.newAllocation(paddr, count * PAGE_SIZE, kind, type, site);
    for (let p = 0; p < count; p++) this.index.set(pfnOf(paddr) + p, a);
    return [a];
  }

  /**
   * Takes `count` pages from `paddr` out of the allocations holding them (a free or a retype):
   * each affected allocation dies; what it keeps of other pages lives on in new pieces; the freed
   * pages keep their bytes for the next allocation. Returns the allocations that died.
   */
  remove(paddr: number, count: number, site: number): Allocation[] {
    const first = pfnOf(paddr);
    for (let p = first; p < first + count; p++) this.freedAt.set(p, site);
    const affected = new Set<Allocation>();
    for (let p = first; p < first + count; p++) {
      const e = this.index.get(p);
      if (e === undefined) continue;
      for (const a of Array.isArray(e) ? e : [e]) affected.add(a);
    }
    const lo = LINEAR_MAPPING_BASE + paddr;
    const hi = lo + count * PAGE_SIZE;
    for (const a of affected) {
      // Only the pages taken out keep their bytes as residue; what stays moves into its piece.
      this.save(a, Math.max(lo, a.base), Math.min(hi, a.base + a.size));
      const slot = physSlot(a)!;
      const keepBefore = Math.max(0, Math.min(hi, lo) - a.base);
      const keepAfterStart = Math.max(a.base, hi);
      const pieces: Allocation[] = [];
      const piece = (base: number, end: number, freed: boolean): void => {
        if (end <= base) return;
        const b = this.newAllocation(base - LINEAR_MAPPING_BASE, end - base, a.kind as "ram" | "untyped", slot.type, a.allocSite, false, freed ? null : a);
        physSlot(b)!.binding = slot.binding;
        if (freed) this.memory.deallocateAt(b, site);
        else for (let p = pfnOf(base - LINEAR_MAPPING_BASE); p < pfnOf(end - LINEAR_MAPPING_BASE); p++) this.index.set(p, b);
        pieces.push(b);
      };
      if (a.base < lo || a.base + a.size > hi) {
        // Part of it stays: split.
        piece(a.base, a.base + keepBefore, false);
        piece(Math.max(a.base, lo), Math.min(a.base + a.size, hi), true);
        piece(keepAfterStart, a.base + a.size, false);
        slot.pieces = pieces;
        markIndirect(a);
      }
      this.memory.deallocateAt(a, site);
    }
    for (let p = first; p < first + count; p++) {
      const e = this.index.get(p);
      if (e !== undefined && (Array.isArray(e) || !e.live || (e.base >= lo && e.base + e.size <= hi))) this.index.delete(p);
    }
    return [...affected];
  }

  /** Reads 8 bytes at `paddr` as a number below 2^53 (a page-table entry), unchecked; 0 where nothing is. */
  read64(paddr: number): number {
    const a = this.at(paddr);
    if (a === null) return 0;
    const off = LINEAR_MAPPING_BASE + paddr - a.base;
    if (off + 8 > a.size) return 0;
    const v = a.view;
    // Little-endian halves; an entry's bits stay below 2^53.
    return v.getUint32(off, true) + v.getUint32(off + 4, true) * 2 ** 32;
  }

  /** Writes 8 bytes at `paddr` (firmware's boot page table), unchecked. */
  write64(paddr: number, value: number): void {
    const a = this.at(paddr);
    if (a === null) throw new Error(`kmiri internal error: firmware wrote to 0x${paddr.toString(16)}, where no page is`);
    const off = LINEAR_MAPPING_BASE + paddr - a.base;
    a.view.setUint32(off, value % 2 ** 32, true);
    a.view.setUint32(off + 4, Math.floor(value / 2 ** 32), true);
    a.markInit(off, 8);
  }

  /**
   * A new physical allocation of `size` bytes at `paddr`, holding what its pages held: the bytes of
   * `from` (a live allocation it is split from, copied in one go: freeing a large block page by page
   * stays linear in what is freed, not in what is left), else the pages' residue.
   */
  private newAllocation(
    paddr: number,
    size: number,
    kind: "ram" | "untyped",
    type: PageType | null,
    site: number,
    announce = true,
    from: Allocation | null = null,
  ): Allocation {
    // Aligned as its address is (a page, or a slot's size).
    const low = paddr % PAGE_SIZE;
    const align = low === 0 ? PAGE_SIZE : low & -low;
    const a = this.memory.allocateAt(LINEAR_MAPPING_BASE + paddr, size, align, kind, site, announce);
    const slot: PhysSlot = { mirch: "phys", paddr, type, binding: -1, root: 0, markers: null, pieces: null };
    a.page = slot;
    if (from !== null) this.copyFrom(a, from);
    else this.restore(a, paddr);
    // Typed memory is checked by Stacked Borrows as heap memory is; untyped memory takes no
    // references (page-state), so it has no borrow stacks.
    if (type !== null) slot.root = this.rootTag(a, site);
    return a;
  }

  /** A piece split from `from` gets its bytes and their initialisation. */
  private copyFrom(a: Allocation, from: Allocation): void {
    if (from.view === EMPTY_VIEW || a.size === 0) return;
    const off = a.base - from.base;
    a.bytes.set(from.bytes.subarray(off, off + a.size));
    a.initFrom(from.init, off);
  }

  /**
   * Saves the bytes of `a`'s pages (those of the linear-map range `[lo, hi)`: all by default) that
   * hold initialised bytes, for the next allocation of them.
   */
  private save(a: Allocation, lo = a.base, hi = a.base + a.size): void {
    if (a.view === EMPTY_VIEW) return;
    const bytes = a.bytes;
    const init = a.init;
    const start = a.base - LINEAR_MAPPING_BASE;
    for (let off = lo - a.base; off < hi - a.base; ) {
      const paddr = start + off;
      const pageOff = paddr % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - pageOff, a.size - off);
      const pfn = pfnOf(paddr);
      let any = init === null;
      if (!any) for (let i = off; i < off + n; i++) if (init![i] === 1) { any = true; break; }
      if (any) {
        let r = this.residue.get(pfn);
        if (r === undefined || r.bytes.length !== PAGE_SIZE) {
          r = { bytes: new Uint8Array(PAGE_SIZE), init: new Uint8Array(PAGE_SIZE) };
          this.residue.set(pfn, r);
        }
        r.bytes.set(bytes.subarray(off, off + n), pageOff);
        if (init === null) r.init!.fill(1, pageOff, pageOff + n);
        else r.init!.set(init.subarray(off, off + n), pageOff);
      }
      off += n;
    }
  }

  /** Gives a new allocation at `paddr` the bytes its pages held (uninitialised where they held none). */
  private restore(a: Allocation, paddr: number): void {
    if (this.residue.size === 0) return;
    for (let off = 0; off < a.size; ) {
      const p = paddr + off;
      const pageOff = p % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - pageOff, a.size - off);
      const r = this.residue.get(pfnOf(p));
      if (r !== undefined) {
        new Uint8Array(a.view.buffer, a.view.byteOffset + off, n).set(r.bytes.subarray(pageOff, pageOff + n));
        // Runs of initialised bytes become initialised.
        let i = 0;
        while (i < n) {
          if (r.init === null || r.init[pageOff + i] === 1) {
            let j = i;
            while (j < n && (r.init === null || r.init[pageOff + j] === 1)) j++;
            a.markInit(off + i, j - i);
            i = j;
          } else i++;
        }
      }
      off += n;
    }
  }
}
