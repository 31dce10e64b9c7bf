/**
 * The Mirch MMU in software: the page-table walker, the permission check of one access, the
 * checks `activate_page_table` (the CR3 write) and every TLB fill apply, and the builder firmware
 * uses for the boot page table.
 *
 * Everything here reaches memory only through callbacks (`read64`, `write64`, `pageState`), so a
 * simulator can use it on its own memory (a `Map`, a `DataView`), and the checked Machine on its
 * physical memory.
 *
 * ## The walk
 *
 * A table is one 4 KiB page of 512 eight-byte entries; there are 4 levels, the root at level 4.
 * Level `L` is indexed by the 9 bits of the virtual address from bit `12 + 9 * (L - 1)`. An entry
 * without VALID ends the walk with a fault. At level 1 every present entry is a leaf (HUGE is
 * ignored there, as x86 ignores its PAT bit); above it, a present entry with HUGE is a leaf
 * mapping `2 ** (12 + 9 * (L - 1))` bytes, and one without points to the next table.
 *
 * Permissions combine as on x86: USER and WRITABLE count only when set at *every* level (their AND
 * is what a {@link Translation} reports), READABLE and EXECUTABLE are the leaf's.
 *
 * The walker runs at every TLB miss, so it allocates nothing but its result and keeps the running
 * AND of the permission bits in one integer.
 *
 * ## The checks (kind `page-table` in reports)
 *
 * A table that the MMU may walk must be made of `page-table` pages, and what its leaves map must be
 * memory someone owns: allocated RAM (untyped or typed) or an MMIO hole — except in the linear map,
 * whose mappings are untracked (any page may lie under them; Mirch resolves linear addresses
 * directly and never consults a table for them). A USER leaf must not map a typed page (user code
 * would reach kernel objects). HUGE leaves exist only up to {@link HIGHEST_TRANSLATION_LEVEL} and
 * must be aligned to their size. {@link checkPageTableTree} applies these rules to a whole tree (the
 * CR3 write); {@link checkLeaf} and {@link checkTranslationPath} to one translation (a TLB fill:
 * tables change while live, as OSTD maps into them).
 */

import {
  HIGHEST_TRANSLATION_LEVEL,
  KERNEL_CODE_BASE,
  KERNEL_IMAGE_BYTES,
  KERNEL_IMAGE_PADDR,
  LINEAR_MAPPING_BASE,
  NR_ENTRIES_PER_PAGE,
  NR_LEVELS,
  PAGE_SIZE,
  PteFlags,
  VMALLOC_BASE,
  type PageState,
} from "./constants.js";
import { hex, levelPageSize, pte_flags, pte_index, pte_new, pte_paddr } from "./pte.js";

/** Reads the 8-byte entry at physical address `paddr` as a number (entries use only bits 0..52). */
export type Read64 = (paddr: number) => number;
/** Writes the 8-byte entry `value` at physical address `paddr`. */
export type Write64 = (paddr: number, value: number) => void;
/** The state of the physical page holding `paddr` (a `PhysicalMemoryMap`'s `state`). */
export type PageStateOf = (paddr: number) => PageState;

/** A successful walk: where a virtual address leads and with which rights. */
export interface Translation {
  /** Discriminant: a translation, not a {@link Fault}. */
  readonly fault: false;
  /** The physical address the virtual address maps to, page offset included. */
  readonly paddr: number;
  /** The base of the mapped page (a 4 KiB page, or a huge page aligned to its size). */
  readonly leafPaddr: number;
  /** The leaf's flags, with USER and WRITABLE replaced by their AND over all levels. */
  readonly flags: number;
  /** The leaf's level: 1 = 4 KiB page, 2 = 2 MiB, 3 = 1 GiB, 4 = 512 GiB. */
  readonly level: number;
  /** The bytes the leaf maps ({@link levelPageSize} of `level`). */
  readonly size: number;
  /** The physical address of the leaf entry. */
  readonly pteAddr: number;
  /** The leaf entry as read. */
  readonly pte: number;
}

/** A failed walk: an entry on the way lacks VALID. */
export interface Fault {
  /** Discriminant: a fault, not a {@link Translation}. */
  readonly fault: true;
  /** The level of the entry that is not present. */
  readonly level: number;
  /** The physical address of that entry. */
  readonly pteAddr: number;
  /** Always false: the walk found no mapping (permission faults come from {@link checkAccess}). */
  readonly present: false;
}

/** A broken rule of a page table, for a `page-table` report. */
export interface PageTableProblem {
  /** What is wrong, in a sentence. */
  readonly message: string;
  /** The (first) virtual address concerned: the start of the range the faulty entry maps. */
  readonly vaddr: number;
  /** The level of the faulty entry (for the root itself: {@link NR_LEVELS}). */
  readonly level: number;
  /** The physical address of the faulty entry (for the root itself: the root's address). */
  readonly pteAddr: number;
}

/** How the checks treat special memory. */
export interface PageTableCheckOptions {
  /** Whether `paddr` lies in an MMIO hole (device registers may be mapped there). */
  isMmioHole(paddr: number): boolean;
  /**
   * Whether entries mapping only addresses of the linear map ([LINEAR_MAPPING_BASE, VMALLOC_BASE))
   * are skipped with everything below them. Mirch sets it: those mappings are untracked and never
   * consulted, so checking them would only cost time. When false, they are checked as any other.
   */
  readonly skipLinearMap: boolean;
}

/** Options of {@link buildBootPageTable}; every field has the Machine's default. */
export interface BootPageTableOptions {
  /** Flags of the linear map's leaves (HUGE added for 2 MiB ones): READABLE | WRITABLE | GLOBAL | VALID. */
  readonly linearFlags?: number;
  /** The kernel image's physical address, default {@link KERNEL_IMAGE_PADDR}. */
  readonly kernelImagePaddr?: number;
  /** The kernel image's size, default {@link KERNEL_IMAGE_BYTES}. */
  readonly kernelImageBytes?: number;
  /** Where the kernel image is mapped, default {@link KERNEL_CODE_BASE}. */
  readonly kernelVaddr?: number;
  /** Flags of the kernel image's leaves: READABLE | WRITABLE | EXECUTABLE | GLOBAL | VALID. */
  readonly kernelFlags?: number;
}

const VALID = PteFlags.VALID;
const READABLE = PteFlags.READABLE;
const WRITABLE = PteFlags.WRITABLE;
const EXECUTABLE = PteFlags.EXECUTABLE;
const USER = PteFlags.USER;
const HUGE = PteFlags.HUGE;
/** The bits whose AND over the levels counts (both below bit 32, so `&` is safe on them). */
const AND_BITS = WRITABLE | USER;
const HUGE_2M = levelPageSize(2);

/**
 * Walks the table rooted at `root` for `vaddr`, as the MMU does on a TLB miss.
 *
 * @param root - the physical address of the root table (level 4)
 * @param vaddr - a virtual address below 2^48 (higher bits would be ignored)
 * @param read64 - reads one entry of physical memory
 * @returns the translation, or the fault at the first entry without VALID
 * @example
 * ```ts
 * const t = walk(root, 0x40_1234, (pa) => memory.get(pa) ?? 0);
 * if (!t.fault) console.log(hex(t.paddr), t.level);
 * ```
 */
export function walk(root: number, vaddr: number, read64: Read64): Translation | Fault {
  let table = root;
  let perm = AND_BITS;
  for (let level: number = NR_LEVELS; ; level--) {
    const pteAddr = table + pte_index(vaddr, level) * 8;
    const pte = read64(pteAddr);
    // The low 32 bits hold every flag the walk looks at: `>>> 0` once, then plain 32-bit tests.
    const lo = pte >>> 0;
    if ((lo & VALID) === 0) return { fault: true, level, pteAddr, present: false };
    perm &= lo;
    if (level === 1 || (lo & HUGE) !== 0) {
      const size = levelPageSize(level);
      const target = pte_paddr(pte);
      // A huge leaf's address bits below its size are not address bits: hardware ignores (or
      // faults on) them; the walker ignores them and the checks report the misalignment.
      const leafPaddr = target - (target % size);
      const flags = pte_flags(pte) - (lo & AND_BITS) + perm;
      return { fault: false, paddr: leafPaddr + (vaddr % size), leafPaddr, flags, level, size, pteAddr, pte };
    }
    table = pte_paddr(pte);
  }
}

/**
 * Whether a translation allows an access: a user access needs USER at every level, a write
 * WRITABLE at every level, an instruction fetch EXECUTABLE on the leaf, any other read READABLE on
 * the leaf. (A write does not also need READABLE.)
 *
 * @param t - a translation from {@link walk} (its flags already hold the ANDs)
 * @param access - what the access does
 * @returns `null` when allowed, else why not (a protection fault, `present: true`)
 */
export function checkAccess(t: Translation, access: { readonly write: boolean; readonly user: boolean; readonly exec?: boolean }): string | null {
  const f = t.flags >>> 0;
  if (access.user && (f & USER) === 0) return "a user access needs USER at every level of the mapping";
  if (access.write) return (f & WRITABLE) === 0 ? "a write needs WRITABLE at every level of the mapping" : null;
  if (access.exec) return (f & EXECUTABLE) === 0 ? "an instruction fetch needs EXECUTABLE on the leaf" : null;
  return (f & READABLE) === 0 ? "a read needs READABLE on the leaf" : null;
}

/** Whether `[start, start + size)` lies wholly in the linear map. */
function inLinearMap(start: number, size: number): boolean {
  return start >= LINEAR_MAPPING_BASE && start + size <= VMALLOC_BASE;
}

/** Whether `[start, start + size)` meets the linear map. */
function meetsLinearMap(start: number, size: number): boolean {
  return start + size > LINEAR_MAPPING_BASE && start < VMALLOC_BASE;
}

function levelSizeName(level: number): string {
  return ["", "4 KiB", "2 MiB", "1 GiB", "512 GiB"][level] ?? `level ${level}`;
}

function isPageTablePage(s: PageState): boolean {
  return s.state === "typed" && s.type === "page-table";
}

function describe(s: PageState): string {
  return s.state === "typed" ? `typed \`${s.type}\`` : s.state;
}

/**
 * The leaf rules on one leaf entry: HUGE only up to level 2 and aligned; every page under it
 * allocated RAM or an MMIO hole; no typed page under a leaf that user code may reach.
 *
 * @param vbase - the first virtual address the entry maps
 * @param user - whether USER is set at every level down to this leaf
 */
function checkLeafEntry(
  vbase: number,
  level: number,
  pte: number,
  pteAddr: number,
  user: boolean,
  pageState: PageStateOf,
  options: PageTableCheckOptions,
): PageTableProblem | null {
  if (level > HIGHEST_TRANSLATION_LEVEL) {
    return {
      message: `the entry at ${hex(pteAddr)} is a HUGE leaf at level ${level} (${levelSizeName(level)} pages) mapping ${hex(vbase)}; leaves may only be at level ${HIGHEST_TRANSLATION_LEVEL} or below`,
      vaddr: vbase,
      level,
      pteAddr,
    };
  }
  const size = levelPageSize(level);
  const target = pte_paddr(pte);
  if (target % size !== 0) {
    return {
      message: `the HUGE leaf at ${hex(pteAddr)} maps ${hex(vbase)} to ${hex(target)}, which is not aligned to its ${levelSizeName(level)} size`,
      vaddr: vbase,
      level,
      pteAddr,
    };
  }
  for (let off = 0; off < size; off += PAGE_SIZE) {
    const p = target + off;
    if (options.isMmioHole(p)) continue;
    const s = pageState(p);
    if (s.state === "untyped") continue;
    if (s.state === "typed") {
      if (!user) continue;
      return {
        message: `the USER leaf at ${hex(pteAddr)} maps ${hex(vbase + off)} to page ${hex(p)}, which is ${describe(s)}: user code would reach kernel objects`,
        vaddr: vbase + off,
        level,
        pteAddr,
      };
    }
    return {
      message: `the leaf at ${hex(pteAddr)} maps ${hex(vbase + off)} to page ${hex(p)}, which is not allocated RAM or MMIO: it is ${describe(s)}`,
      vaddr: vbase + off,
      level,
      pteAddr,
    };
  }
  return null;
}

function checkTableTarget(child: number, vbase: number, level: number, pteAddr: number, pageState: PageStateOf): PageTableProblem | null {
  const s = pageState(child);
  if (isPageTablePage(s)) return null;
  return {
    message: `the entry at ${hex(pteAddr)} (level ${level}, mapping from ${hex(vbase)}) points to a table at ${hex(child)}, which is not a page-table page: it is ${describe(s)}`,
    vaddr: vbase,
    level,
    pteAddr,
  };
}

function checkRoot(root: number, pageState: PageStateOf): PageTableProblem | null {
  const s = root % PAGE_SIZE === 0 ? pageState(root) : null;
  if (s !== null && isPageTablePage(s)) return null;
  return {
    message: s === null
      ? `the root table ${hex(root)} is not page-aligned`
      : `the root table ${hex(root)} is not a page-table page: it is ${describe(s)}`,
    vaddr: 0,
    level: NR_LEVELS,
    pteAddr: root,
  };
}

/**
 * The checks of `activate_page_table` on the whole tree rooted at `root`: the root and every table
 * reached from a present entry are typed `page-table` pages; every leaf obeys the leaf rules (see
 * the module comment); entries wholly inside the linear map are skipped with their subtrees when
 * `options.skipLinearMap` is set.
 *
 * A table shared by several entries (OSTD shares the kernel half between address spaces) is checked
 * once per USER-ness of the path to it: a subtree found sound, with no part skipped, is sound
 * wherever it is linked, so a tree with many shared tables still costs about its size.
 *
 * @param root - the physical address of the root table
 * @param read64 - reads one entry of physical memory
 * @param pageState - the state of a physical page
 * @param options - MMIO holes, and whether the linear map is skipped
 * @returns the first problem in walk order, or `null` when the tree is sound
 */
export function checkPageTableTree(root: number, read64: Read64, pageState: PageStateOf, options: PageTableCheckOptions): PageTableProblem | null {
  const rootProblem = checkRoot(root, pageState);
  if (rootProblem !== null) return rootProblem;
  // Subtrees found sound, keyed by table address + level * 2 + (USER along the path ? 1 : 0):
  // the address is page-aligned, so the low bits are free and no string key is built.
  const sound = new Set<number>();

  const visit = (table: number, level: number, vbase: number, perm: number): PageTableProblem | null => {
    const size = levelPageSize(level);
    for (let i = 0; i < NR_ENTRIES_PER_PAGE; i++) {
      const pteAddr = table + i * 8;
      const pte = read64(pteAddr);
      const lo = pte >>> 0;
      if ((lo & VALID) === 0) continue;
      const v = vbase + i * size;
      if (options.skipLinearMap && inLinearMap(v, size)) continue;
      const p = perm & lo;
      if (level === 1 || (lo & HUGE) !== 0) {
        const problem = checkLeafEntry(v, level, pte, pteAddr, (p & USER) !== 0, pageState, options);
        if (problem !== null) return problem;
        continue;
      }
      const child = pte_paddr(pte);
      const key = child + (level - 1) * 2 + ((p & USER) !== 0 ? 1 : 0);
      if (sound.has(key)) continue;
      const problem = checkTableTarget(child, v, level, pteAddr, pageState) ?? visit(child, level - 1, v, p);
      if (problem !== null) return problem;
      // Remember only subtrees checked in full: a partly skipped one proves nothing elsewhere.
      if (!options.skipLinearMap || !meetsLinearMap(v, size)) sound.add(key);
    }
    return null;
  };
  return visit(root, NR_LEVELS, 0, AND_BITS);
}

/**
 * The leaf rules on one translation, as a TLB fill applies them before caching it: HUGE only up
 * to {@link HIGHEST_TRANSLATION_LEVEL} and aligned to its size; every page under the leaf allocated
 * RAM or an MMIO hole; no typed page under a leaf with USER at every level. Skipped (null) for a
 * linear-map address when `options.skipLinearMap` is set.
 *
 * @param vaddr - any virtual address the translation covers
 * @param t - the translation from {@link walk}
 * @param pageState - the state of a physical page
 * @param options - MMIO holes, and whether the linear map is skipped
 * @returns the problem, or `null`
 */
export function checkLeaf(vaddr: number, t: Translation, pageState: PageStateOf, options: PageTableCheckOptions): PageTableProblem | null {
  const vbase = vaddr - (vaddr % t.size);
  if (options.skipLinearMap && inLinearMap(vbase, t.size)) return null;
  return checkLeafEntry(vbase, t.level, t.pte, t.pteAddr, ((t.flags >>> 0) & USER) !== 0, pageState, options);
}

/**
 * Walks `vaddr` and checks everything on the way: the root and each table the walk passes through
 * are `page-table` pages, and the leaf obeys {@link checkLeaf}'s rules. For a TLB fill that wants
 * the tables linked in since the CR3 write checked too (one walk, no more costly than
 * {@link walk}). A fault (no mapping) is not a problem here: it returns `null`.
 *
 * @returns the first problem on the path, or `null`
 */
export function checkTranslationPath(
  root: number,
  vaddr: number,
  read64: Read64,
  pageState: PageStateOf,
  options: PageTableCheckOptions,
): PageTableProblem | null {
  const rootProblem = checkRoot(root, pageState);
  if (rootProblem !== null) return rootProblem;
  let table = root;
  let perm = AND_BITS;
  for (let level: number = NR_LEVELS; ; level--) {
    const size = levelPageSize(level);
    const vbase = vaddr - (vaddr % size);
    if (options.skipLinearMap && inLinearMap(vbase, size)) return null;
    const pteAddr = table + pte_index(vaddr, level) * 8;
    const pte = read64(pteAddr);
    const lo = pte >>> 0;
    if ((lo & VALID) === 0) return null;
    perm &= lo;
    if (level === 1 || (lo & HUGE) !== 0) return checkLeafEntry(vbase, level, pte, pteAddr, (perm & USER) !== 0, pageState, options);
    table = pte_paddr(pte);
    const problem = checkTableTarget(table, vbase, level, pteAddr, pageState);
    if (problem !== null) return problem;
  }
}

/**
 * Builds the boot page table, as firmware does before the kernel runs: the linear map of every RAM
 * range (`vaddr = paddr + LINEAR_MAPPING_BASE`; 2 MiB HUGE leaves where a range allows them, 4 KiB
 * leaves elsewhere) and the kernel image at {@link KERNEL_CODE_BASE}. Table entries get
 * VALID | READABLE | WRITABLE (no USER: the boot table maps nothing for user code). Each table frame
 * is zeroed with `write64` before use, since RAM is uninitialised at boot. MMIO holes are not
 * mapped: Mirch resolves linear addresses without consulting any table.
 *
 * The builder remembers the tables it made itself, so it never reads memory back.
 *
 * @param ramRanges - the physical ranges `[start, end)` to map linearly (page-aligned), e.g. `ramRangesFor(ramBytes)`
 * @param allocFrame - hands out a fresh physical frame for a table (firmware gives them from 0x1000 up)
 * @param write64 - writes one entry of physical memory
 * @param options - the kernel image and the flags, when not the Machine's defaults
 * @returns the root's physical address and the number of frames used
 */
export function buildBootPageTable(
  ramRanges: readonly (readonly [start: number, end: number])[],
  allocFrame: () => number,
  write64: Write64,
  options: BootPageTableOptions = {},
): { root: number; frames: number } {
  const linearFlags = options.linearFlags ?? READABLE + WRITABLE + PteFlags.GLOBAL + VALID;
  const kernelFlags = options.kernelFlags ?? READABLE + WRITABLE + EXECUTABLE + PteFlags.GLOBAL + VALID;
  const kernelPaddr = options.kernelImagePaddr ?? KERNEL_IMAGE_PADDR;
  const kernelBytes = options.kernelImageBytes ?? KERNEL_IMAGE_BYTES;
  const kernelVaddr = options.kernelVaddr ?? KERNEL_CODE_BASE;
  const tableFlags = VALID + READABLE + WRITABLE;

  let frames = 0;
  const newTable = (): number => {
    const frame = allocFrame();
    frames++;
    for (let i = 0; i < NR_ENTRIES_PER_PAGE; i++) write64(frame + i * 8, 0);
    return frame;
  };
  // Entry address → the table it points to, for the tables made here.
  const children = new Map<number, number>();
  const root = newTable();

  /** Maps one page of `level` (1 or 2) at `vaddr` to `paddr`. */
  const mapOne = (vaddr: number, paddr: number, level: number, flags: number): void => {
    let table = root;
    for (let l = NR_LEVELS; l > level; l--) {
      const entry = table + pte_index(vaddr, l) * 8;
      let child = children.get(entry);
      if (child === undefined) {
        child = newTable();
        children.set(entry, child);
        write64(entry, pte_new(child, tableFlags));
      }
      table = child;
    }
    write64(table + pte_index(vaddr, level) * 8, pte_new(paddr, level > 1 ? flags + HUGE : flags));
  };
  /** Maps `[paddr, paddr + len)` at `vaddr`, with 2 MiB leaves wherever both sides allow them. */
  const mapRange = (vaddr: number, paddr: number, len: number, flags: number): void => {
    for (let off = 0; off < len; ) {
      const v = vaddr + off;
      const p = paddr + off;
      if (v % HUGE_2M === 0 && p % HUGE_2M === 0 && len - off >= HUGE_2M) {
        mapOne(v, p, 2, flags);
        off += HUGE_2M;
      } else {
        mapOne(v, p, 1, flags);
        off += PAGE_SIZE;
      }
    }
  };

  for (const [start, end] of ramRanges) mapRange(LINEAR_MAPPING_BASE + start, start, end - start, linearFlags);
  mapRange(kernelVaddr, kernelPaddr, kernelBytes, kernelFlags);
  return { root, frames };
}

/**
 * How many frames {@link buildBootPageTable} needs for these ranges and options: a dry run (fake
 * frames, no writes), so firmware can reserve the frames, and describe them in the memory map,
 * before building the table.
 */
export function bootPageTableFrameCount(
  ramRanges: readonly (readonly [start: number, end: number])[],
  options: BootPageTableOptions = {},
): number {
  let next = 0;
  return buildBootPageTable(ramRanges, () => (next += PAGE_SIZE), () => {}, options).frames;
}
