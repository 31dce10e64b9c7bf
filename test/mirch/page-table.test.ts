/**
 * The software MMU: the walker on hand-built tables (a Map-backed physical memory), permissions,
 * the CR3 checker, the per-leaf check of TLB fills, and the boot page table builder.
 */
import { describe, expect, test } from "vitest";
import {
  FRAME_METADATA_BASE, KERNEL_CODE_BASE, LINEAR_MAPPING_BASE, PteFlags, VMALLOC_BASE, type PageState,
} from "../../src/mirch/constants.js";
import {
  bootPageTableFrameCount, buildBootPageTable, checkAccess, checkLeaf, checkPageTableTree, checkTranslationPath, walk,
  type Translation,
} from "../../src/mirch/page-table.js";
import { PhysicalMemoryMap, ramRangesFor } from "../../src/mirch/physical-memory.js";
import { pte_index, pte_new } from "../../src/mirch/pte.js";

const { VALID, READABLE, WRITABLE, EXECUTABLE, USER, GLOBAL, HUGE } = PteFlags;
const TABLE = VALID + READABLE + WRITABLE + USER;

/** A physical memory of 8-byte entries, with helpers to link tables by hand. */
class Mem {
  readonly words = new Map<number, number>();
  read64 = (pa: number): number => this.words.get(pa) ?? 0;
  write64 = (pa: number, v: number): void => void this.words.set(pa, v);
  /** Writes `pte` into `table` at the index `vaddr` has at `level`. */
  set(table: number, vaddr: number, level: number, pte: number): number {
    const at = table + pte_index(vaddr, level) * 8;
    this.write64(at, pte);
    return at;
  }
  /** Links root → l3 → l2 (→ l1) for `vaddr` with the given table flags. */
  path(root: number, vaddr: number, tables: number[], flags = TABLE): void {
    let t = root;
    let level = 4;
    for (const next of tables) {
      this.set(t, vaddr, level--, pte_new(next, flags));
      t = next;
    }
  }
}

const ROOT = 0x10_000;
const L3 = 0x11_000;
const L2 = 0x12_000;
const L1 = 0x13_000;

describe("walk", () => {
  test("a 4 KiB leaf", () => {
    const m = new Mem();
    const va = VMALLOC_BASE + 0x1234_5000;
    m.path(ROOT, va, [L3, L2, L1]);
    const leafAt = m.set(L1, va, 1, pte_new(0x40_0000, VALID + READABLE + WRITABLE + GLOBAL));
    const t = walk(ROOT, va + 0x123, m.read64) as Translation;
    expect(t).toMatchObject({ fault: false, paddr: 0x40_0123, leafPaddr: 0x40_0000, level: 1, size: 4096, pteAddr: leafAt });
    expect(t.flags).toBe(VALID + READABLE + WRITABLE + GLOBAL); // USER missing on the leaf → not in the AND
  });

  test("a 2 MiB HUGE leaf", () => {
    const m = new Mem();
    const va = FRAME_METADATA_BASE + 0x60_0000;
    m.path(ROOT, va, [L3, L2]);
    m.set(L2, va, 2, pte_new(0x80_0000, VALID + READABLE + HUGE));
    const t = walk(ROOT, va + 0x1_2345, m.read64) as Translation;
    expect(t).toMatchObject({ fault: false, paddr: 0x81_2345, leafPaddr: 0x80_0000, level: 2, size: 2 ** 21 });
  });

  test("USER and WRITABLE are the AND over the levels", () => {
    const m = new Mem();
    const va = 0x40_0000;
    m.set(ROOT, va, 4, pte_new(L3, VALID + WRITABLE + USER));
    m.set(L3, va, 3, pte_new(L2, VALID + USER)); // not writable here
    m.set(L2, va, 2, pte_new(L1, VALID + WRITABLE + USER));
    m.set(L1, va, 1, pte_new(0x50_0000, VALID + READABLE + WRITABLE + USER + PteFlags.DIRTY));
    const t = walk(ROOT, va, m.read64) as Translation;
    expect(t.flags).toBe(VALID + READABLE + USER + PteFlags.DIRTY);
    expect(checkAccess(t, { write: false, user: true })).toBeNull();
    expect(checkAccess(t, { write: true, user: true })).toMatch(/WRITABLE at every level/);
    expect(checkAccess(t, { write: false, user: false, exec: true })).toMatch(/EXECUTABLE/);
  });

  test("read needs READABLE on the leaf; user needs USER", () => {
    const m = new Mem();
    const va = 0x40_0000;
    m.path(ROOT, va, [L3, L2, L1], VALID + WRITABLE);
    m.set(L1, va, 1, pte_new(0x50_0000, VALID + WRITABLE + USER));
    const t = walk(ROOT, va, m.read64) as Translation;
    expect(checkAccess(t, { write: false, user: false })).toMatch(/READABLE/);
    expect(checkAccess(t, { write: true, user: false })).toBeNull();
    expect(checkAccess(t, { write: true, user: true })).toMatch(/USER at every level/);
  });

  test("a missing entry faults at its level", () => {
    const m = new Mem();
    const va = VMALLOC_BASE + 0x20_0000;
    m.path(ROOT, va, [L3]);
    m.set(L3, va, 3, pte_new(L2, TABLE - VALID)); // OS bits, no VALID
    expect(walk(ROOT, va, m.read64)).toEqual({ fault: true, level: 3, pteAddr: L3 + pte_index(va, 3) * 8, present: false });
    expect(walk(ROOT, 0, m.read64)).toMatchObject({ fault: true, level: 4, pteAddr: ROOT });
  });

  test("HUGE is ignored at level 1", () => {
    const m = new Mem();
    const va = VMALLOC_BASE + 0x3000;
    m.path(ROOT, va, [L3, L2, L1]);
    m.set(L1, va, 1, pte_new(0x60_1000, VALID + READABLE + HUGE));
    const t = walk(ROOT, va + 8, m.read64) as Translation;
    expect(t).toMatchObject({ level: 1, size: 4096, paddr: 0x60_1008 });
  });
});

/** A physical memory map whose pages the tests set up, and the checker's options. */
function setup() {
  const mem = new PhysicalMemoryMap({ bootTableFrames: 1 });
  const state = (pa: number): PageState => mem.state(pa);
  const options = { isMmioHole: (pa: number) => mem.isMmioHole(pa), skipLinearMap: true };
  for (const t of [ROOT, L3, L2, L1].map((x) => x * 0x100)) {
    expect(mem.alloc(t, 1)).toBeNull();
    expect(mem.retype(t, 1, "page-table")).toBeNull();
  }
  return { mem, state, options, m: new Mem() };
}
// Tables at page-table pages of the map above the kernel image (0x100_0000 and up).
const R = ROOT * 0x100, T3 = L3 * 0x100, T2 = L2 * 0x100, T1 = L1 * 0x100;

describe("checkPageTableTree (CR3)", () => {
  test("a sound tree: untyped user page, typed kernel page, MMIO", () => {
    const { mem, state, options, m } = setup();
    mem.alloc(0x400_0000, 2);
    mem.retype(0x400_1000, 1, "slab");
    m.path(R, 0x40_0000, [T3, T2, T1]);
    m.set(T1, 0x40_0000, 1, pte_new(0x400_0000, VALID + READABLE + USER));
    m.set(T1, 0x40_1000, 1, pte_new(0x400_1000, VALID + READABLE)); // typed, but not USER
    m.set(T1, 0x40_2000, 1, pte_new(0xfe00_0000, VALID + READABLE + WRITABLE + PteFlags.UNCACHEABLE));
    expect(checkPageTableTree(R, m.read64, state, options)).toBeNull();
  });

  test("a USER leaf mapping a typed page", () => {
    const { mem, state, options, m } = setup();
    mem.alloc(0x400_0000, 1);
    mem.retype(0x400_0000, 1, "slab");
    m.path(R, 0x40_0000, [T3, T2, T1]);
    const at = m.set(T1, 0x40_5000, 1, pte_new(0x400_0000, VALID + READABLE + USER));
    const p = checkPageTableTree(R, m.read64, state, options);
    expect(p).toMatchObject({ vaddr: 0x40_5000, level: 1, pteAddr: at });
    expect(p?.message).toMatch(/USER leaf .* typed `slab`/);
  });

  test("a USER leaf under a table without USER does not reach user code", () => {
    const { mem, state, options, m } = setup();
    mem.alloc(0x400_0000, 1);
    mem.retype(0x400_0000, 1, "slab");
    m.path(R, VMALLOC_BASE, [T3, T2, T1], VALID + WRITABLE);
    m.set(T1, VMALLOC_BASE, 1, pte_new(0x400_0000, VALID + READABLE + USER));
    expect(checkPageTableTree(R, m.read64, state, options)).toBeNull();
  });

  test("a table entry pointing at a page that is not a page-table page", () => {
    const { mem, state, options, m } = setup();
    mem.alloc(0x400_0000, 1);
    m.path(R, VMALLOC_BASE, [T3]);
    const at = m.set(T3, VMALLOC_BASE, 3, pte_new(0x400_0000, TABLE));
    const p = checkPageTableTree(R, m.read64, state, options);
    expect(p).toMatchObject({ vaddr: VMALLOC_BASE, level: 3, pteAddr: at });
    expect(p?.message).toMatch(/not a page-table page: it is untyped/);
  });

  test("the root itself", () => {
    const { state, options, m } = setup();
    expect(checkPageTableTree(0x400_0000, m.read64, state, options)?.message).toMatch(/root table 0x4000000 is not a page-table page: it is free/);
  });

  test("a misaligned HUGE leaf, and HUGE above level 2", () => {
    const { mem, state, options, m } = setup();
    mem.alloc(0x400_0000, 1024);
    m.path(R, VMALLOC_BASE, [T3, T2]);
    m.set(T2, VMALLOC_BASE, 2, pte_new(0x401_0000, VALID + READABLE + HUGE));
    expect(checkPageTableTree(R, m.read64, state, options)?.message).toMatch(/not aligned to its 2 MiB size/);
    m.set(T2, VMALLOC_BASE, 2, pte_new(0x400_0000, VALID + READABLE + HUGE));
    expect(checkPageTableTree(R, m.read64, state, options)).toBeNull();
    m.set(T3, VMALLOC_BASE + 2 ** 30, 3, pte_new(0x4000_0000, VALID + READABLE + HUGE));
    expect(checkPageTableTree(R, m.read64, state, options)).toMatchObject({ level: 3, vaddr: VMALLOC_BASE + 2 ** 30 });
  });

  test("a leaf over a free page, and one page of a huge leaf free", () => {
    const { mem, state, options, m } = setup();
    m.path(R, VMALLOC_BASE, [T3, T2, T1]);
    m.set(T1, VMALLOC_BASE + 0x1000, 1, pte_new(0x400_0000, VALID + READABLE));
    expect(checkPageTableTree(R, m.read64, state, options)?.message).toMatch(/not allocated RAM or MMIO: it is free/);
    m.set(T1, VMALLOC_BASE + 0x1000, 1, 0);
    mem.alloc(0x400_0000, 511); // the last page of the 2 MiB stays free
    m.set(T2, VMALLOC_BASE + 2 ** 21, 2, pte_new(0x400_0000, VALID + READABLE + HUGE));
    expect(checkPageTableTree(R, m.read64, state, options)).toMatchObject({ vaddr: VMALLOC_BASE + 2 ** 21 + 511 * 4096, level: 2 });
  });

  test("the linear map is untracked (skipped); without skipLinearMap it is checked", () => {
    const { state, options, m } = setup();
    m.path(R, LINEAR_MAPPING_BASE, [T3, T2]);
    m.set(T2, LINEAR_MAPPING_BASE, 2, pte_new(0, VALID + READABLE + HUGE)); // firmware pages
    expect(checkPageTableTree(R, m.read64, state, options)).toBeNull();
    expect(checkPageTableTree(R, m.read64, state, { ...options, skipLinearMap: false })?.message).toMatch(/reserved/);
  });

  test("a shared table is checked once per USER-ness, and a problem under it is still found", () => {
    const { mem, state, options, m } = setup();
    mem.alloc(0x400_0000, 1);
    mem.retype(0x400_0000, 1, "slab");
    // Every entry of T3 points to T2; T2's entries all point to T1; T1 maps the slab page, no USER.
    for (let i = 0; i < 512; i++) {
      m.write64(T3 + i * 8, pte_new(T2, VALID + WRITABLE));
      m.write64(T2 + i * 8, pte_new(T1, VALID + WRITABLE));
    }
    m.write64(T1, pte_new(0x400_0000, VALID + READABLE + USER));
    m.write64(R, pte_new(T3, VALID + WRITABLE)); // the user half, without USER
    let reads = 0;
    const counting = (pa: number) => (reads++, m.read64(pa));
    expect(checkPageTableTree(R, counting, state, options)).toBeNull();
    expect(reads).toBeLessThan(4 * 512 + 10);
    // The same subtree reached with USER at every level: the typed page is now user-reachable.
    m.write64(R + 8, pte_new(T3, TABLE));
    for (let i = 0; i < 512; i++) m.write64(T3 + i * 8, pte_new(T2, TABLE));
    m.write64(T2, pte_new(T1, TABLE));
    expect(checkPageTableTree(R, m.read64, state, options)?.message).toMatch(/USER leaf/);
  });
});

describe("checkLeaf and checkTranslationPath (TLB fill)", () => {
  test("checks the leaf a walk found", () => {
    const { mem, state, options, m } = setup();
    mem.alloc(0x400_0000, 1);
    m.path(R, 0x40_0000, [T3, T2, T1]);
    m.set(T1, 0x40_0000, 1, pte_new(0x400_0000, VALID + READABLE + USER));
    const t = walk(R, 0x40_0010, m.read64) as Translation;
    expect(checkLeaf(0x40_0010, t, state, options)).toBeNull();
    mem.retype(0x400_0000, 1, "stack"); // retyped after the tree was activated
    expect(checkLeaf(0x40_0010, t, state, options)).toMatchObject({ vaddr: 0x40_0000, level: 1 });
    expect(checkTranslationPath(R, 0x40_0010, m.read64, state, options)?.message).toMatch(/typed `stack`/);
  });

  test("checkTranslationPath finds a table linked in after the CR3 write", () => {
    const { mem, state, options, m } = setup();
    mem.alloc(0x400_0000, 1); // untyped: not a page-table page
    m.path(R, VMALLOC_BASE, [T3, T2]);
    m.set(T2, VMALLOC_BASE, 2, pte_new(0x400_0000, TABLE));
    expect(checkTranslationPath(R, VMALLOC_BASE + 5, m.read64, state, options)).toMatchObject({ level: 2 });
    expect(checkTranslationPath(R, VMALLOC_BASE + 2 ** 30, m.read64, state, options)).toBeNull(); // unmapped
  });
});

describe("buildBootPageTable", () => {
  test("maps all RAM linearly (2 MiB where aligned) and the kernel image; the CR3 checks pass", () => {
    const ranges = ramRangesFor(256 * 1024 * 1024 + 0x3000); // a RAM tail of three 4 KiB pages
    const frames = bootPageTableFrameCount(ranges);
    const mem = new PhysicalMemoryMap({ ramBytes: 256 * 1024 * 1024 + 0x3000, bootTableFrames: frames });
    const m = new Mem();
    let next = 0x1000;
    const built = buildBootPageTable(ranges, () => ((next += 0x1000), next - 0x1000), m.write64);
    expect(built).toEqual({ root: 0x1000, frames });
    expect(frames).toBeLessThan(10);

    const lin = walk(built.root, LINEAR_MAPPING_BASE + 0x30_0123, m.read64) as Translation;
    expect(lin).toMatchObject({ paddr: 0x30_0123, level: 2, flags: VALID + READABLE + WRITABLE + GLOBAL + HUGE });
    const tail = walk(built.root, LINEAR_MAPPING_BASE + 256 * 1024 * 1024 + 0x2008, m.read64) as Translation;
    expect(tail).toMatchObject({ paddr: 256 * 1024 * 1024 + 0x2008, level: 1 });
    expect(walk(built.root, LINEAR_MAPPING_BASE + 256 * 1024 * 1024 + 0x3000, m.read64)).toMatchObject({ fault: true });

    const k = walk(built.root, KERNEL_CODE_BASE + 0x1_2345, m.read64) as Translation;
    expect(k).toMatchObject({ paddr: 0x11_2345, level: 1, flags: VALID + READABLE + WRITABLE + EXECUTABLE + GLOBAL });
    expect(walk(built.root, KERNEL_CODE_BASE + 0x20_0000, m.read64)).toMatchObject({ fault: true });

    const options = { isMmioHole: (pa: number) => mem.isMmioHole(pa), skipLinearMap: true };
    expect(checkPageTableTree(built.root, m.read64, (pa) => mem.state(pa), options)).toBeNull();
  });

  test("a 4 GiB machine's boot table fits in the first MiB", () => {
    const ranges = ramRangesFor(4 * 1024 ** 3);
    const frames = bootPageTableFrameCount(ranges);
    expect(frames).toBe(1 + 1 + 5 + 3); // root, linear L3, 5 linear L2s, kernel L3 + L2 + L1
    expect(() => new PhysicalMemoryMap({ ramBytes: 4 * 1024 ** 3, bootTableFrames: frames })).not.toThrow();
  });
});
