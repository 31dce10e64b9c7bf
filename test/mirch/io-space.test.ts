/** The I/O space: device placement and routing, claims and their overlaps, MMIO access sizes. */
import { describe, expect, test } from "vitest";
import { DEVICE_MMIO_BASE, DEVICE_PORT_BASE } from "../../src/mirch/constants.js";
import { checkMmioAccess, IntervalSet, IoSpace } from "../../src/mirch/io-space.js";

describe("placement", () => {
  test("MMIO windows page-aligned in attach order, ports consecutive", () => {
    const io = new IoSpace();
    expect(io.allocateMmio(0, 0x1000)).toEqual({ device: 0, base: DEVICE_MMIO_BASE, len: 0x1000 });
    expect(io.allocateMmio(1, 0x200)).toEqual({ device: 1, base: DEVICE_MMIO_BASE + 0x1000, len: 0x200 });
    expect(io.allocateMmio(2, 0x1000)).toMatchObject({ base: DEVICE_MMIO_BASE + 0x2000 });
    expect(io.allocatePorts(0, 8)).toEqual({ device: 0, base: DEVICE_PORT_BASE, len: 8 });
    expect(io.allocatePorts(2, 4)).toEqual({ device: 2, base: DEVICE_PORT_BASE + 8, len: 4 });
    expect(io.mmioAt(DEVICE_MMIO_BASE + 0x1010)).toEqual({ device: 1, offset: 0x10 });
    expect(io.mmioAt(DEVICE_MMIO_BASE + 0x1200)).toBeNull(); // past device 1's 0x200 bytes
    expect(io.portAt(DEVICE_PORT_BASE + 9)).toEqual({ device: 2, offset: 1 });
    expect(io.portAt(DEVICE_PORT_BASE + 12)).toBeNull();
  });

  test("explicit windows must lie in a hole and not overlap", () => {
    const io = new IoSpace();
    expect(io.addMmio(0, 0x1000_0000, 0x1000)).toMatch(/outside the MMIO holes/);
    expect(io.addMmio(0, 0x100_0000_0000, 0x1000)).toMatchObject({ base: 0x100_0000_0000 });
    expect(io.addMmio(1, 0x100_0000_0800, 0x1000)).toMatch(/overlaps device 0/);
    expect(io.addPorts(0, 0xfffe, 4)).toMatch(/outside/);
    expect(io.addPorts(0, 0x60, 4)).toMatchObject({ base: 0x60 });
    expect(io.addPorts(1, 0x62, 1)).toMatch(/overlap device 0/);
  });
});

describe("claims", () => {
  test("overlapping claims and releases of what is not claimed", () => {
    const io = new IoSpace();
    expect(io.claimMmio(0xfe00_0000, 0x1000)).toBeNull();
    expect(io.claimMmio(0xfe00_0800, 0x1000)).toMatch(/overlaps a claimed range at 0xfe000800/);
    expect(io.claimMmio(0xfe00_1000, 0x1000)).toBeNull(); // adjacent is fine
    expect(io.mmioClaimed(0xfe00_0ff8, 0x10)).toBe(true); // across the two claims
    expect(io.mmioClaimed(0xfe00_1ff8, 0x10)).toBe(false);
    expect(io.releaseMmio(0xfe00_0800, 0x1000)).toBeNull(); // part of a claim
    expect(io.mmioClaimed(0xfe00_0000, 0x800)).toBe(true);
    expect(io.mmioClaimed(0xfe00_0800, 1)).toBe(false);
    expect(io.releaseMmio(0xfe00_0000, 0x1000)).toMatch(/not wholly claimed/);
    expect(io.mmioClaimed(0xfe00_0000, 0x800)).toBe(true); // nothing changed
  });

  test("ports", () => {
    const io = new IoSpace();
    expect(io.claimPorts(0x1000, 8)).toBeNull();
    expect(io.portClaimed(0x1007)).toBe(true);
    expect(io.portClaimed(0x1008)).toBe(false);
    expect(io.claimPorts(0x1004, 8)).toMatch(/overlaps claimed port 0x1004/);
    expect(io.releasePorts(0x1000, 9)).toMatch(/not all claimed/);
    expect(io.releasePorts(0x1000, 8)).toBeNull();
    expect(io.portClaimed(0x1000)).toBe(false);
    expect(io.claimPorts(0xffff, 2)).toMatch(/not a range/);
  });

  test("IntervalSet keeps sorted, merged intervals", () => {
    const s = new IntervalSet();
    s.add(10, 20);
    s.add(30, 40);
    s.add(20, 30);
    expect(s.intervals()).toEqual([[10, 40]]);
    expect(s.remove(15, 25)).toBe(true);
    expect(s.intervals()).toEqual([[10, 15], [25, 40]]);
    expect(s.add(14, 16)).toBe(false);
    expect(s.firstIn(0, 100)).toBe(10);
    expect(s.firstIn(15, 25)).toBe(-1);
  });
});

describe("checkMmioAccess", () => {
  test.each([
    [0x1000, 1, null],
    [0x1002, 2, null],
    [0x1004, 4, null],
    [0x1008, 8, null],
    [0x1004, 8, /not aligned/],
    [0x1001, 2, /not aligned/],
    [0x1000, 3, /1, 2, 4 or 8/],
    [0x1000, 16, /1, 2, 4 or 8/],
  ] as const)("%s, %s bytes", (paddr, size, expected) => {
    const r = checkMmioAccess(paddr, size);
    if (expected === null) expect(r).toBeNull();
    else expect(r).toMatch(expected);
  });
});
