/** The contract's constants (mirch.d.ts) and the classification of virtual addresses. */
import { describe, expect, test } from "vitest";
import * as C from "../../src/mirch/constants.js";

describe("constants", () => {
  test("match the contract", () => {
    expect(C.PAGE_SIZE).toBe(4096);
    expect(C.NR_LEVELS).toBe(4);
    expect(C.NR_ENTRIES_PER_PAGE).toBe(512);
    expect(C.ADDRESS_WIDTH).toBe(48);
    expect(C.VA_SIGN_EXT).toBe(false);
    expect(C.HIGHEST_TRANSLATION_LEVEL).toBe(2);
    expect(C.MAX_USERSPACE_VADDR).toBe(0x0000_8000_0000_0000 - 4096);
    expect(C.KERNEL_BASE).toBe(0x0000_8000_0000_0000);
    expect(C.LINEAR_MAPPING_BASE).toBe(0x0000_8000_0000_0000);
    expect(C.VMALLOC_BASE).toBe(0x0000_c000_0000_0000);
    expect(C.FRAME_METADATA_BASE).toBe(0x0000_e000_0000_0000);
    expect(C.FRAME_METADATA_CAP - C.FRAME_METADATA_BASE).toBe(2 ** 40);
    expect(C.KERNEL_CODE_BASE).toBe(0x0000_ffff_8000_0000);
    expect(C.KERNEL_END).toBe(0x0000_ffff_ffff_0000);
    expect(C.MAX_IO_PORT).toBe(0xffff);
    expect([C.IRQ_NUM_MIN, C.IRQ_NUM_MAX]).toEqual([32, 255]);
    expect(C.IOMMU_DADDR_END).toBe(2 ** 39);
  });

  test("PteFlags has exactly the contract's bits and is frozen", () => {
    expect(C.PteFlags).toEqual({
      VALID: 0x1, READABLE: 0x2, WRITABLE: 0x4, EXECUTABLE: 0x8, USER: 0x10, GLOBAL: 0x20, UNCACHEABLE: 0x40,
      HUGE: 0x80, WRITE_THROUGH: 0x100, AVAIL1: 0x200, AVAIL2: 0x400, AVAIL3: 0x800,
      ACCESSED: 2 ** 51, DIRTY: 2 ** 52,
    });
    expect(Object.isFrozen(C.PteFlags)).toBe(true);
  });

  test("the default physical layout", () => {
    expect(C.DEFAULT_RAM_BYTES).toBe(256 * 1024 * 1024);
    expect(C.DEFAULT_CPUS).toBe(4);
    expect(C.MMIO_HOLES).toEqual([[0xfe00_0000, 0x1_0000_0000], [0x100_0000_0000, 0x200_0000_0000]]);
    expect(C.KERNEL_IMAGE_PADDR).toBe(C.FIRMWARE_RESERVED_END);
    expect(C.KERNEL_IMAGE_BYTES).toBe(2 * 1024 * 1024);
  });
});

describe("regionOf", () => {
  test.each([
    [0, "user"],
    [C.MAX_USERSPACE_VADDR, "user"],
    [C.MAX_USERSPACE_VADDR + 4095, "user"],
    [C.LINEAR_MAPPING_BASE, "linear"],
    [C.VMALLOC_BASE - 1, "linear"],
    [C.VMALLOC_BASE, "vmalloc"],
    [C.FRAME_METADATA_BASE - 1, "vmalloc"],
    [C.FRAME_METADATA_BASE, "meta"],
    [C.FRAME_METADATA_CAP - 1, "meta"],
    [C.FRAME_METADATA_CAP, "none"],
    [C.KERNEL_CODE_BASE - 1, "none"],
    [C.KERNEL_CODE_BASE, "kernel"],
    [C.KERNEL_END, "kernel"],
    [2 ** 53 - 1, "kernel"],
    [2 ** 53, "none"],
    [-1, "none"],
    [NaN, "none"],
  ] as const)("%s is %s", (vaddr, region) => {
    expect(C.regionOf(vaddr)).toBe(region);
  });
});
