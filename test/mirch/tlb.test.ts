/** The TLB: lookups by page size, the flush rules (GLOBAL survives flushAll(false)), the stale rule. */
import { describe, expect, test } from "vitest";
import { PteFlags, VMALLOC_BASE } from "../../src/mirch/constants.js";
import { walk, type Translation } from "../../src/mirch/page-table.js";
import { pte_index, pte_new } from "../../src/mirch/pte.js";
import { isStale, Tlb, tlbEntryFor, type TlbEntry } from "../../src/mirch/tlb.js";

function entry(vbase: number, size: number, global: boolean, extra: Partial<TlbEntry> = {}): TlbEntry {
  return { vbase, pbase: 0x40_0000, size, flags: PteFlags.VALID, global, pteAddr: 0x9000, pte: 1, generation: 0, ...extra };
}

describe("Tlb", () => {
  test("lookup by 4 KiB and 2 MiB pages; the smaller entry answers first", () => {
    const tlb = new Tlb();
    const small = entry(VMALLOC_BASE + 0x1000, 4096, false);
    const huge = entry(VMALLOC_BASE, 2 ** 21, false);
    tlb.fill(small);
    tlb.fill(huge);
    expect(tlb.size).toBe(2);
    expect(tlb.lookup(VMALLOC_BASE + 0x1fff)).toBe(small);
    expect(tlb.lookup(VMALLOC_BASE + 0x2000)).toBe(huge);
    expect(tlb.lookup(VMALLOC_BASE + 2 ** 21)).toBeUndefined();
  });

  test("a fill replaces the entry for the same page", () => {
    const tlb = new Tlb();
    tlb.fill(entry(0x40_0000, 4096, false));
    const again = entry(0x40_0000, 4096, false, { pbase: 0x50_0000 });
    tlb.fill(again);
    expect(tlb.size).toBe(1);
    expect(tlb.lookup(0x40_0000)).toBe(again);
  });

  test("flushAddr drops every entry covering the address, GLOBAL or not", () => {
    const tlb = new Tlb();
    tlb.fill(entry(VMALLOC_BASE + 0x1000, 4096, true));
    tlb.fill(entry(VMALLOC_BASE, 2 ** 21, true));
    tlb.fill(entry(VMALLOC_BASE + 0x5000, 4096, false));
    expect(tlb.flushAddr(VMALLOC_BASE + 0x1008)).toBe(true);
    expect(tlb.lookup(VMALLOC_BASE + 0x1008)).toBeUndefined();
    expect(tlb.size).toBe(1);
    expect(tlb.flushAddr(VMALLOC_BASE + 0x9000)).toBe(false);
  });

  test("flushRange drops the entries covering a page of the range, and a huge range costs O(entries) (fuzz)", () => {
    const fill = (tlb: Tlb) => {
      tlb.fill(entry(VMALLOC_BASE + 0x1000, 4096, true));
      tlb.fill(entry(VMALLOC_BASE + 0x3000, 4096, false));
      tlb.fill(entry(VMALLOC_BASE + 2 ** 21, 2 ** 21, false));
      tlb.fill(entry(VMALLOC_BASE + 2 ** 23, 4096, false));
    };
    for (const end of [VMALLOC_BASE + 2 ** 21 + 1, 2 ** 53]) {
      const tlb = new Tlb();
      fill(tlb);
      tlb.flushRange(VMALLOC_BASE + 0x1fff, end); // from the page of 0x1fff: drops 0x1000 too
      const left = [...tlb.entries()].map((e) => e.vbase - VMALLOC_BASE);
      expect(left, String(end)).toEqual(end === 2 ** 53 ? [] : [2 ** 23]);
    }
    const tlb = new Tlb();
    fill(tlb);
    tlb.flushRange(VMALLOC_BASE + 0x2000, VMALLOC_BASE + 0x3000); // [0x2000, 0x3000): nothing cached
    expect(tlb.size).toBe(4);
  });

  test("flushAll(false) keeps GLOBAL entries; flushAll(true) drops everything", () => {
    const tlb = new Tlb();
    const g = entry(VMALLOC_BASE, 4096, true);
    tlb.fill(g);
    tlb.fill(entry(0x40_0000, 4096, false));
    tlb.fill(entry(0x60_0000, 2 ** 21, false));
    tlb.fill(entry(2 ** 30, 2 ** 30, false)); // a 1 GiB leaf: kept in a map of its own
    expect(tlb.lookup(2 ** 30 + 5)?.size).toBe(2 ** 30);
    tlb.flushAll(false);
    expect([...tlb.entries()]).toEqual([g]);
    tlb.flushAll(true);
    expect(tlb.size).toBe(0);
  });

  test("tlbEntryFor builds an entry from a walk", () => {
    const words = new Map<number, number>();
    const read64 = (pa: number) => words.get(pa) ?? 0;
    const va = VMALLOC_BASE + 0x20_3456;
    let table = 0x1000;
    for (const level of [4, 3]) {
      words.set(table + pte_index(va, level) * 8, pte_new(table + 0x1000, PteFlags.VALID + PteFlags.WRITABLE));
      table += 0x1000;
    }
    words.set(table + pte_index(va, 2) * 8, pte_new(0x80_0000, PteFlags.VALID + PteFlags.READABLE + PteFlags.HUGE + PteFlags.GLOBAL));
    const t = walk(0x1000, va, read64) as Translation;
    const e = tlbEntryFor(va, t, 7);
    expect(e).toMatchObject({ vbase: VMALLOC_BASE + 0x20_0000, pbase: 0x80_0000, size: 2 ** 21, global: true, pte: t.pte, generation: 7 });
  });
});

describe("isStale", () => {
  const e = entry(0x40_0000, 4096, false, { pte: 0x50_0003, generation: 2 });
  test("stale only when the entry changed AND the frame was freed or retyped", () => {
    expect(isStale(e, 0x50_0003, 2)).toBe(false); // nothing changed
    expect(isStale(e, 0, 2)).toBe(false); // unmapped, frame still the same allocation
    expect(isStale(e, 0x50_0003, 3)).toBe(false); // frame freed but still mapped: a page-state matter
    expect(isStale(e, 0, 3)).toBe(true); // unmapped and freed, no flush: stale-tlb
  });
});
