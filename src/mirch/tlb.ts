/**
 * One CPU's translation lookaside buffer.
 *
 * The TLB caches every translation the MMU makes (for the addresses that go through page tables:
 * vmalloc, frame metadata and user space; the linear map and the kernel image never enter it). An
 * entry stays until a flush removes it: {@link Tlb.flushAddr} (`invlpg`, which drops the entry
 * whatever its GLOBAL bit), {@link Tlb.flushAll} with or without global entries (a CR3 write flushes
 * the non-global ones). Real TLBs also evict entries when full; this one never does, on purpose: an
 * architecture allows a TLB to keep any entry until it is flushed, and keeping all of them is the
 * behaviour that exposes every missing flush.
 *
 * ## Lookup
 *
 * Entries live in one `Map` per page size, keyed by virtual page number for that size (`vaddr /
 * size`, floored): a lookup is one `Map.get` for 4 KiB pages and one more for 2 MiB pages, so it
 * stays O(1) however many entries there are. Larger leaves (level 3 and 4, which the checks forbid
 * but the walker can meet) get maps of their own, created only if such an entry is ever filled.
 * When two entries of different sizes cover an address (a huge mapping split into small ones
 * without a flush), the smaller one answers.
 *
 * ## The stale-translation rule (`stale-tlb`)
 *
 * A hit is served from the cached translation, even if the page table changed since the fill:
 * that is what hardware does, and missing flushes are how kernels reach freed memory. A hit is
 * reported as `stale-tlb` when both
 *
 * 1. the page-table entry the translation came from (`pteAddr`) no longer holds `pte` (the mapping
 *    was changed or removed), and
 * 2. the generation of the frame the entry maps moved since the fill (the frame was freed or
 *    retyped in between; see `PhysicalMemoryMap.generation`, and `generationSum` for the frames
 *    of a huge page).
 *
 * A changed entry over a frame that is still the same allocation is harmless (a permission change
 * not yet flushed reaches memory that is still valid); an unchanged entry over a freed frame is a
 * page-state problem that the access check reports on its own. {@link isStale} applies the rule;
 * the engine reads the current entry and generation, and should compare the entry first, since the
 * generation of a huge page costs a loop.
 */

import type { Translation } from "./page-table.js";
import { levelPageSize, pteHas } from "./pte.js";
import { PAGE_SIZE, PteFlags } from "./constants.js";

const HUGE_2M = levelPageSize(2);

/** One cached translation. */
export interface TlbEntry {
  /** The first virtual address the entry covers (aligned to `size`). */
  readonly vbase: number;
  /** The physical address `vbase` maps to (aligned to `size`). */
  readonly pbase: number;
  /** The bytes covered: 4 KiB, 2 MiB (or a larger leaf's size). */
  readonly size: number;
  /** The translation's flags (USER and WRITABLE as their AND over the levels). */
  readonly flags: number;
  /** Whether the leaf had GLOBAL: the entry survives `flushAll(false)`. */
  readonly global: boolean;
  /** The physical address of the leaf entry the translation came from. */
  readonly pteAddr: number;
  /** The leaf entry's value at fill time. */
  readonly pte: number;
  /** The generation of the mapped frame(s) at fill time. */
  readonly generation: number;
}

/**
 * The `stale-tlb` rule: whether a hit on `entry` is a use of a freed or retyped frame through a
 * translation that no one flushed — the page-table entry changed since the fill *and* the frame's
 * generation moved.
 *
 * @param entry - the entry that answered the lookup
 * @param currentPte - the value now at `entry.pteAddr`
 * @param currentGeneration - the frame's generation now (a sum over its frames for a huge page)
 * @example
 * ```ts
 * const e = tlb.lookup(vaddr);
 * if (e && e.pte !== read64(e.pteAddr) && isStale(e, read64(e.pteAddr), mem.generation(e.pbase))) report("stale-tlb");
 * ```
 */
export function isStale(entry: TlbEntry, currentPte: number, currentGeneration: number): boolean {
  return entry.pte !== currentPte && entry.generation !== currentGeneration;
}

/**
 * The TLB entry for a translation of `vaddr` made by the walker.
 *
 * @param vaddr - the address whose walk produced `t`
 * @param t - the translation
 * @param generation - the mapped frame's generation now (a sum over the frames of a huge page)
 */
export function tlbEntryFor(vaddr: number, t: Translation, generation: number): TlbEntry {
  return {
    vbase: vaddr - (vaddr % t.size),
    pbase: t.leafPaddr,
    size: t.size,
    flags: t.flags,
    global: pteHas(t.flags, PteFlags.GLOBAL),
    pteAddr: t.pteAddr,
    pte: t.pte,
    generation,
  };
}

/** A CPU's TLB: cached translations by virtual page, flushed only when told. */
export class Tlb {
  /** The 4 KiB entries, by virtual page number: the common case, looked up first. */
  private readonly small = new Map<number, TlbEntry>();
  /** The 2 MiB entries, by 2 MiB virtual page number. */
  private readonly huge = new Map<number, TlbEntry>();
  /** Entries of larger leaves, by page size then page number; empty on any sound table. */
  private readonly larger = new Map<number, Map<number, TlbEntry>>();

  /** The number of cached entries. */
  get size(): number {
    let n = this.small.size + this.huge.size;
    for (const m of this.larger.values()) n += m.size;
    return n;
  }

  /**
   * The entry covering `vaddr`, or `undefined` on a miss.
   *
   * @param vaddr - a virtual address
   */
  lookup(vaddr: number): TlbEntry | undefined {
    const e = this.small.get(Math.floor(vaddr / PAGE_SIZE));
    if (e !== undefined) return e;
    if (this.huge.size > 0) {
      const h = this.huge.get(Math.floor(vaddr / HUGE_2M));
      if (h !== undefined) return h;
    }
    if (this.larger.size > 0) {
      for (const [size, m] of this.larger) {
        const l = m.get(Math.floor(vaddr / size));
        if (l !== undefined) return l;
      }
    }
    return undefined;
  }

  /**
   * Caches a translation, replacing any entry of the same size for the same virtual page.
   *
   * @param entry - the translation; `vbase` must be aligned to `size`
   */
  fill(entry: TlbEntry): void {
    this.mapFor(entry.size).set(entry.vbase / entry.size, entry);
  }

  /**
   * `invlpg`: drops every entry covering `vaddr`, GLOBAL or not, whatever its size.
   *
   * @returns whether an entry was dropped
   */
  flushAddr(vaddr: number): boolean {
    let dropped = this.small.delete(Math.floor(vaddr / PAGE_SIZE));
    if (this.huge.size > 0 && this.huge.delete(Math.floor(vaddr / HUGE_2M))) dropped = true;
    for (const [size, m] of this.larger) if (m.delete(Math.floor(vaddr / size))) dropped = true;
    return dropped;
  }

  /**
   * `invlpg` of each page of [start, end) (`tlb_flush_addr_range`): drops every entry that covers
   * one of them. A range of more pages than the TLB has entries is done entry by entry, so a huge
   * range costs O(entries), not O(pages).
   */
  flushRange(start: number, end: number): void {
    const first = start - (start % PAGE_SIZE);
    if (end <= first) return;
    if ((end - first) / PAGE_SIZE <= this.size) {
      for (let a = first; a < end; a += PAGE_SIZE) this.flushAddr(a);
      return;
    }
    for (const m of [this.small, this.huge, ...this.larger.values()]) {
      for (const [k, e] of m) if (e.vbase < end && first < e.vbase + e.size) m.delete(k);
    }
  }

  /**
   * Drops every entry (`includeGlobal`), or every entry but the GLOBAL ones (the CR3 write,
   * `tlb_flush_all_excluding_global`). O(entries) without `includeGlobal`.
   */
  flushAll(includeGlobal: boolean): void {
    const maps = [this.small, this.huge, ...this.larger.values()];
    for (const m of maps) {
      if (includeGlobal) m.clear();
      else for (const [k, e] of m) if (!e.global) m.delete(k);
    }
  }

  /** Every cached entry (for diagnostics and tests), smallest pages first. */
  *entries(): IterableIterator<TlbEntry> {
    yield* this.small.values();
    yield* this.huge.values();
    for (const m of this.larger.values()) yield* m.values();
  }

  /** The map for entries of `size` bytes, created on first use for sizes above 2 MiB. */
  private mapFor(size: number): Map<number, TlbEntry> {
    if (size === PAGE_SIZE) return this.small;
    if (size === HUGE_2M) return this.huge;
    let m = this.larger.get(size);
    if (m === undefined) this.larger.set(size, (m = new Map()));
    return m;
  }
}
