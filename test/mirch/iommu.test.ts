/** The IOMMU: mappings, translation, the reverse count, and problems for bad arguments. */
import { describe, expect, test } from "vitest";
import { IOMMU_DADDR_END } from "../../src/mirch/constants.js";
import { dmaTargetProblem, Iommu } from "../../src/mirch/iommu.js";

describe("Iommu", () => {
  test("map, translate, unmap", () => {
    const io = new Iommu();
    expect(io.map(0x1000, 0x40_0000)).toBeNull();
    expect(io.map(0x2000, 0x50_0000, false)).toBeNull();
    expect(io.translate(0x1234)).toEqual({ paddr: 0x40_0234, writable: true });
    expect(io.translate(0x2fff)).toEqual({ paddr: 0x50_0fff, writable: false });
    expect(io.translate(0x3000)).toBeNull();
    expect(io.unmap(0x1000)).toBeNull();
    expect(io.translate(0x1234)).toBeNull();
    expect(io.size).toBe(1);
  });

  test("the reverse count: a page mapped twice stays mapped until both are gone", () => {
    const io = new Iommu();
    io.map(0x1000, 0x40_0000);
    io.map(0x8000, 0x40_0000);
    expect(io.isMapped(0x40_0fff)).toBe(true);
    expect(io.daddrsOf(0x40_0000)).toEqual([0x1000, 0x8000]);
    io.unmap(0x1000);
    expect(io.isMapped(0x40_0000)).toBe(true);
    io.unmap(0x8000);
    expect(io.isMapped(0x40_0000)).toBe(false);
  });

  test("problems: double map, unmap of nothing, bad addresses; nothing changes", () => {
    const io = new Iommu();
    io.map(0x1000, 0x40_0000);
    expect(io.map(0x1000, 0x50_0000)).toMatch(/already mapped \(to 0x400000\)/);
    expect(io.translate(0x1000)?.paddr).toBe(0x40_0000);
    expect(io.unmap(0x2000)).toMatch(/not mapped/);
    expect(io.map(0x1001, 0x40_0000)).toMatch(/not page-aligned/);
    expect(io.map(0x3000, 0x40_0010)).toMatch(/physical address is not page-aligned/);
    expect(io.map(IOMMU_DADDR_END, 0x40_0000)).toMatch(/outside the device address space/);
    expect(io.unmap(-4096)).toMatch(/outside/);
  });

  test("translateRange merges contiguous pages and stops at a fault", () => {
    const io = new Iommu();
    io.map(0x1000, 0x40_0000);
    io.map(0x2000, 0x40_1000);
    io.map(0x3000, 0x90_0000, false);
    expect(io.translateRange(0x1800, 0x1000, true)).toEqual([{ daddr: 0x1800, paddr: 0x40_0800, len: 0x1000 }]);
    expect(io.translateRange(0x2800, 0x1000, false)).toEqual([
      { daddr: 0x2800, paddr: 0x40_1800, len: 0x800 },
      { daddr: 0x3000, paddr: 0x90_0000, len: 0x800 },
    ]);
    expect(io.translateRange(0x2800, 0x1000, true)).toMatch(/write at 0x3000, which the IOMMU maps read-only/);
    expect(io.translateRange(0x3800, 0x1000, false)).toMatch(/read at 0x4000, which the IOMMU does not map/);
  });

  test("dmaTargetProblem", () => {
    expect(dmaTargetProblem(0x5000, { state: "untyped" })).toBeNull();
    expect(dmaTargetProblem(0x5000, { state: "typed", type: "slab" })).toMatch(/typed `slab`/);
    expect(dmaTargetProblem(0x5000, { state: "free" })).toMatch(/not allocated: it is free/);
  });
});
