/**
 * Physical memory: the boot memory map (default and 4 GiB, with RAM remapped above the hole), the
 * page-state transitions (all-or-nothing, with their problems), the sparse state map and the
 * per-page generations.
 */
import { describe, expect, test } from "vitest";
import { PhysicalMemoryMap, ramRangesFor, describePageState } from "../../src/mirch/physical-memory.js";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe("the boot memory map", () => {
  test("default: 256 MiB", () => {
    const mem = new PhysicalMemoryMap({ bootTableFrames: 6 });
    expect(mem.regions()).toEqual([
      { start: 0, end: 0x1000, kind: "reserved" },
      { start: 0x1000, end: 0x7000, kind: "boot-page-table" },
      { start: 0x7000, end: 0x10_0000, kind: "reserved" },
      { start: 0x10_0000, end: 0x30_0000, kind: "kernel" },
      { start: 0x30_0000, end: 256 * MiB, kind: "ram" },
      { start: 0xfe00_0000, end: 0x1_0000_0000, kind: "mmio" },
      { start: 0x100_0000_0000, end: 0x200_0000_0000, kind: "mmio" },
    ]);
    expect(mem.isRam(0)).toBe(true);
    expect(mem.isRam(256 * MiB)).toBe(false);
    expect(mem.inMachine(256 * MiB)).toBe(false);
    expect(mem.isMmioHole(0xfe00_0000)).toBe(true);
    expect(mem.inMachine(0x1_0000_0000)).toBe(false);
    expect(mem.regionAt(0x5000)?.kind).toBe("boot-page-table");
    expect(mem.regionAt(0x300_0000_0000)).toBeNull();
  });

  test("4 GiB: RAM that would overlap the hole below 4 GiB is placed from 4 GiB", () => {
    const mem = new PhysicalMemoryMap({ ramBytes: 4 * GiB, bootTableFrames: 10 });
    const ram = mem.regions().filter((r) => r.kind === "ram");
    expect(ram).toEqual([
      { start: 0x30_0000, end: 0xfe00_0000, kind: "ram" },
      { start: 0x1_0000_0000, end: 0x1_0000_0000 + (4 * GiB - 0xfe00_0000), kind: "ram" },
    ]);
    expect(ramRangesFor(4 * GiB)).toEqual([[0, 0xfe00_0000], [0x1_0000_0000, 0x1_0200_0000]]);
    // Sorted, non-overlapping, and RAM plus firmware adds up to the RAM size.
    const rs = mem.regions();
    for (let i = 1; i < rs.length; i++) expect(rs[i]!.start).toBeGreaterThanOrEqual(rs[i - 1]!.end);
    const backed = rs.filter((r) => r.kind !== "mmio").reduce((n, r) => n + r.end - r.start, 0);
    expect(backed).toBe(4 * GiB);
    expect(mem.state(0x1_01ff_f000)).toEqual({ state: "free" });
    expect(mem.inMachine(0x1_0200_0000)).toBe(false);
  });

  test("rejects sizes the layout cannot hold", () => {
    expect(() => new PhysicalMemoryMap({ ramBytes: 1 * MiB, bootTableFrames: 1 })).toThrow(RangeError);
    expect(() => new PhysicalMemoryMap({ ramBytes: 256 * MiB + 1, bootTableFrames: 1 })).toThrow(RangeError);
    expect(() => new PhysicalMemoryMap({ bootTableFrames: 300 })).toThrow(/first MiB/);
  });
});

describe("page states", () => {
  test("boot states", () => {
    const mem = new PhysicalMemoryMap({ bootTableFrames: 2 });
    expect(mem.state(0)).toEqual({ state: "reserved" });
    expect(mem.state(0x1fff)).toEqual({ state: "typed", type: "page-table" });
    expect(mem.state(0x3000)).toEqual({ state: "reserved" });
    expect(mem.state(0x20_0000)).toEqual({ state: "typed", type: "kernel" });
    expect(mem.state(0x30_0000)).toEqual({ state: "free" });
    expect(mem.state(0xfe00_1000)).toEqual({ state: "reserved" });
  });

  test("free → alloc → untyped → retype → typed → dealloc → free", () => {
    const mem = new PhysicalMemoryMap({ bootTableFrames: 2 });
    expect(mem.alloc(0x40_0000, 4)).toBeNull();
    expect(mem.state(0x40_3000)).toEqual({ state: "untyped" });
    expect(mem.retype(0x40_0000, 2, "slab")).toBeNull();
    expect(mem.state(0x40_1000)).toEqual({ state: "typed", type: "slab" });
    expect(mem.state(0x40_2000)).toEqual({ state: "untyped" });
    expect(mem.dealloc(0x40_0000, 4)).toBeNull();
    expect(mem.state(0x40_0000)).toEqual({ state: "free" });
    expect(mem.changedPageCount).toBe(0);
  });

  test("problems, and nothing applied when one page fails", () => {
    const mem = new PhysicalMemoryMap({ bootTableFrames: 2 });
    mem.alloc(0x500_0000, 1);
    expect(mem.retype(0x500_0000, 1, "slab")).toBeNull();
    expect(mem.alloc(0x4ff_f000, 2)).toEqual({
      page: 0x500_0000,
      message: "allocating page 0x5000000, which is not free: it is typed `slab`",
    });
    expect(mem.state(0x4ff_f000)).toEqual({ state: "free" }); // the first page was not allocated
    expect(mem.retype(0x500_0000, 1, "stack")?.message).toMatch(/already typed `slab`/);
    expect(mem.retype(0x600_0000, 1, "stack")?.message).toBe("retyping page 0x6000000, which is not allocated: it is free");
    expect(mem.dealloc(0x600_0000, 1)?.message).toBe("freeing page 0x6000000, which is not allocated: it is free");
    expect(mem.alloc(0, 1)?.message).toMatch(/not free: it is reserved \(firmware\)/);
    expect(mem.alloc(0xfe00_0000, 1)?.message).toMatch(/MMIO hole/);
    expect(mem.alloc(0x1_0000_0000 + 0x10_0000, 1)?.message).toMatch(/outside the Machine/);
    expect(mem.alloc(0x30_0001, 1)?.message).toMatch(/not page-aligned/);
    expect(mem.alloc(0x30_0000, 0)?.message).toMatch(/at least 1/);
    expect(mem.retype(0x500_0000, 1, "bogus" as never)?.message).toMatch(/not a page type/);
  });

  test("the kernel may free the boot page table and the kernel image (typed at boot)", () => {
    const mem = new PhysicalMemoryMap({ bootTableFrames: 2 });
    expect(mem.dealloc(0x1000, 2)).toBeNull();
    expect(mem.state(0x1000)).toEqual({ state: "free" });
    expect(mem.alloc(0x1000, 1)).toBeNull();
    expect(mem.changedPageCount).toBe(2);
  });

  test("a 4 GiB map costs nothing until pages are used", () => {
    const mem = new PhysicalMemoryMap({ ramBytes: 4 * GiB, bootTableFrames: 10 });
    expect(mem.changedPageCount).toBe(0);
    const before = mem.stats();
    expect(before.untyped).toBe(0);
    expect(before.typed).toBe(10 + 512);
    expect(mem.alloc(0x1_0000_0000, 3)).toBeNull();
    expect(mem.changedPageCount).toBe(3);
    expect(mem.stats()).toEqual({ ...before, free: before.free - 3, untyped: 3 });
    expect(mem.allocatedPages().filter((p) => p.state.state === "untyped").map((p) => p.paddr)).toEqual([0x1_0000_0000, 0x1_0000_1000, 0x1_0000_2000]);
  });

  test("typedPages lists boot-typed and retyped pages in address order", () => {
    const mem = new PhysicalMemoryMap({ bootTableFrames: 1 });
    mem.alloc(0x40_0000, 1);
    mem.retype(0x40_0000, 1, "meta");
    mem.dealloc(0x10_0000, 0x200); // the whole kernel image
    expect(mem.typedPages()).toEqual([{ paddr: 0x1000, type: "page-table" }, { paddr: 0x40_0000, type: "meta" }]);
  });
});

describe("generations", () => {
  test("bumped at each dealloc and retype", () => {
    const mem = new PhysicalMemoryMap({ bootTableFrames: 1 });
    expect(mem.generation(0x40_0000)).toBe(0);
    mem.alloc(0x40_0000, 2);
    expect(mem.generation(0x40_0000)).toBe(0);
    mem.retype(0x40_0000, 1, "slab");
    expect(mem.generation(0x40_0fff)).toBe(1);
    mem.dealloc(0x40_0000, 2);
    expect(mem.generation(0x40_0000)).toBe(2);
    expect(mem.generation(0x40_1000)).toBe(1);
    expect(mem.generationSum(0x40_0000, 512)).toBe(3);
    // A refused transition bumps nothing.
    mem.dealloc(0x40_0000, 1);
    expect(mem.generation(0x40_0000)).toBe(2);
  });

  test("describePageState", () => {
    expect(describePageState({ state: "typed", type: "stack" })).toBe("typed `stack`");
    expect(describePageState({ state: "free" })).toBe("free");
  });
});
