/** Page-table entries: 53-bit-safe packing of the address and flags, indices, alignment. */
import { describe, expect, test } from "vitest";
import { PteFlags } from "../../src/mirch/constants.js";
import {
  flagsUnion, flagsWithout, hex, isPageAligned, levelPageSize, pageAlignDown, pageAlignUp,
  pte_flags, pte_index, pte_new, pte_paddr, pteHas,
} from "../../src/mirch/pte.js";

describe("pte_new / pte_paddr / pte_flags", () => {
  test("round-trip an address above 4 GiB with ACCESSED and DIRTY", () => {
    const paddr = 0x7_1234_5678_9000; // bit 50 set: the top of the address field
    const flags = PteFlags.VALID + PteFlags.WRITABLE + PteFlags.AVAIL3 + PteFlags.ACCESSED + PteFlags.DIRTY;
    const pte = pte_new(paddr, flags);
    expect(pte_paddr(pte)).toBe(paddr);
    expect(pte_flags(pte)).toBe(flags);
    expect(pte).toBe(paddr + flags);
    expect(Number.isSafeInteger(pte)).toBe(true);
  });

  test("drop bits outside their fields", () => {
    expect(pte_paddr(pte_new(0x5123, 0))).toBe(0x5000);
    expect(pte_flags(pte_new(0, 0x1000 + PteFlags.VALID))).toBe(PteFlags.VALID);
  });

  test("pteHas tests bits above 31", () => {
    const pte = pte_new(0x1_0000_0000, PteFlags.VALID + PteFlags.DIRTY);
    expect(pteHas(pte, PteFlags.DIRTY)).toBe(true);
    expect(pteHas(pte, PteFlags.ACCESSED)).toBe(false);
    expect(pteHas(pte, PteFlags.VALID + PteFlags.DIRTY)).toBe(true);
    expect(pteHas(pte, PteFlags.VALID + PteFlags.USER)).toBe(false);
    // The address bits do not read as flags.
    expect(pteHas(pte_new(0x8_0000_0000_0000 - 4096, 0), PteFlags.ACCESSED)).toBe(false);
  });

  test("flagsUnion / flagsWithout", () => {
    const f = flagsUnion(PteFlags.VALID, PteFlags.DIRTY);
    expect(f).toBe(1 + 2 ** 52);
    expect(flagsWithout(f, PteFlags.DIRTY)).toBe(1);
    expect(flagsWithout(f, PteFlags.VALID)).toBe(2 ** 52);
  });
});

describe("pte_index", () => {
  test("takes 9 bits per level", () => {
    const vaddr = 0x0000_c000_0000_0000 + (3 * 2 ** 39) + (5 * 2 ** 30) + (7 * 2 ** 21) + (9 * 2 ** 12) + 0x123;
    expect([4, 3, 2, 1].map((l) => pte_index(vaddr, l))).toEqual([384 + 3, 5, 7, 9]);
    expect(pte_index(0x0000_8000_0000_0000, 4)).toBe(256);
    expect(pte_index(0x0000_ffff_8000_0000, 4)).toBe(511);
    expect(pte_index(0x0000_ffff_8000_0000, 3)).toBe(510);
  });
  test("levelPageSize", () => {
    expect([1, 2, 3, 4].map(levelPageSize)).toEqual([4096, 2 ** 21, 2 ** 30, 2 ** 39]);
  });
});

describe("alignment", () => {
  test("works above 2^32", () => {
    expect(pageAlignDown(0x1_2345_6789)).toBe(0x1_2345_6000);
    expect(pageAlignUp(0x1_2345_6001)).toBe(0x1_2345_7000);
    expect(pageAlignUp(0x1_2345_6000)).toBe(0x1_2345_6000);
    expect(isPageAligned(0xffff_8000_0000)).toBe(true);
    expect(isPageAligned(0xffff_8000_0008)).toBe(false);
    expect(pageAlignDown(0x30_1000, 2 ** 21)).toBe(0x20_0000);
  });
  test("hex", () => {
    expect(hex(0x5000)).toBe("0x5000");
    expect(hex(-1)).toBe("-1");
  });
});
