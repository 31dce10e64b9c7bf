/**
 * The physical memory map of a Mirch Machine and the state of every 4 KiB physical page.
 *
 * ## Layout
 *
 * RAM starts at physical address 0. Firmware keeps the first MiB (`reserved`), except the frames
 * of the boot page table it builds there, from 0x1000 (typed `page-table`, listed as a
 * `boot-page-table` region so the kernel can free them later). The kernel image follows (2 MiB at
 * {@link KERNEL_IMAGE_PADDR}, typed `kernel`), then free RAM. RAM that would overlap the MMIO hole
 * below 4 GiB is placed from 4 GiB instead, as PC chipsets remap it; the two MMIO holes
 * ({@link MMIO_HOLES}) are `reserved` pages where device windows live. Nothing else exists: an
 * address outside every region is not in the Machine.
 *
 * ## Why page states are sparse
 *
 * A Machine may be configured with gigabytes of RAM, of which a test touches a few pages. So the
 * map stores a state only for pages whose state differs from their *boot state* (computed from the
 * layout by a few comparisons), in a `Map` keyed by page number; a page that returns to its boot
 * state (a page freed back to `free`) leaves the map. A 4 GiB machine thus costs nothing until its
 * pages are used, and `state()` is one `Map.get` plus a few comparisons. States are shared frozen
 * objects, so reading one allocates nothing.
 *
 * ## Transitions
 *
 * `free → alloc → untyped → retype → typed`, and `untyped | typed → dealloc → free`, as the
 * contract's `alloc_pages`, `retype_pages`, `dealloc_pages`. Each transition is checked on every
 * page first and applied only when all pages pass: a failed call changes nothing and returns a
 * {@link PageProblem} naming the first offending page, so the engine can report it as `page-state`.
 *
 * ## Generations
 *
 * Each page has a generation, bumped whenever the page is freed or retyped. A TLB entry records the
 * generation of the frame it maps when it is filled; a later hit whose page-table entry changed and
 * whose frame's generation moved is a use of a freed (or retyped) frame through a stale translation.
 */

import {
  DEFAULT_RAM_BYTES,
  FIRMWARE_RESERVED_END,
  KERNEL_IMAGE_BYTES,
  KERNEL_IMAGE_PADDR,
  MMIO_HOLES,
  PAGE_SIZE,
  type MemoryRegion,
  type PageState,
  type PageType,
} from "./constants.js";
import { hex } from "./pte.js";

/** Why a page transition was refused: the first offending page and a sentence for the report. */
export interface PageProblem {
  /** The physical address of the offending page (the call's address when its arguments are bad). */
  readonly page: number;
  /** What was wrong, e.g. "allocating page 0x5000, which is not free: it is typed `slab`". */
  readonly message: string;
}

/** How a {@link PhysicalMemoryMap} is configured. */
export interface PhysicalMemoryOptions {
  /** Bytes of RAM (page-aligned, at least 4 MiB); default {@link DEFAULT_RAM_BYTES}. */
  readonly ramBytes?: number;
  /** Frames firmware used for the boot page table, from 0x1000 (see {@link bootPageTableFrameCount}). */
  readonly bootTableFrames: number;
}

/** The shared, frozen state of every reserved page. */
export const RESERVED_PAGE: PageState = Object.freeze({ state: "reserved" });
/** The shared, frozen state of every free page. */
export const FREE_PAGE: PageState = Object.freeze({ state: "free" });
/** The shared, frozen state of every untyped page. */
export const UNTYPED_PAGE: PageState = Object.freeze({ state: "untyped" });

const TYPED_PAGES: Readonly<Record<PageType, PageState>> = Object.freeze({
  slab: Object.freeze({ state: "typed", type: "slab" }),
  "page-table": Object.freeze({ state: "typed", type: "page-table" }),
  stack: Object.freeze({ state: "typed", type: "stack" }),
  meta: Object.freeze({ state: "typed", type: "meta" }),
  kernel: Object.freeze({ state: "typed", type: "kernel" }),
});

/**
 * The shared, frozen state of a typed page of `type` (states are compared by identity inside the
 * map, so use these rather than fresh objects).
 *
 * @param type - what the page holds
 * @returns the frozen state
 */
export function typedPageState(type: PageType): PageState {
  return TYPED_PAGES[type];
}

/** Whether `type` names a {@link PageType} (for arguments that come from a program). */
export function isPageType(type: unknown): type is PageType {
  return typeof type === "string" && Object.prototype.hasOwnProperty.call(TYPED_PAGES, type);
}

/**
 * A page state in the words of a report: "free", "reserved", "untyped", "typed `slab`".
 *
 * @param s - a page state
 */
export function describePageState(s: PageState): string {
  return s.state === "typed" ? `typed \`${s.type}\`` : s.state;
}

/** The first MMIO hole, below 4 GiB: RAM that would overlap it is moved to {@link HIGH_RAM_BASE}. */
const LOW_HOLE_START = MMIO_HOLES[0]![0];
/** Where RAM that does not fit below the first hole continues (4 GiB, the end of that hole). */
const HIGH_RAM_BASE = MMIO_HOLES[0]![1];
/** The second MMIO hole's start: RAM may not reach it. */
const HIGH_HOLE_START = MMIO_HOLES[1]![0];
/** The end of the second hole: the highest physical address of the Machine. */
const HIGH_HOLE_END = MMIO_HOLES[1]![1];
/** The end of the kernel image: free RAM starts here. */
const KERNEL_IMAGE_END = KERNEL_IMAGE_PADDR + KERNEL_IMAGE_BYTES;
/** The smallest RAM a Machine may have: the first MiB, the kernel image, and 1 MiB to spare. */
const MIN_RAM_BYTES = KERNEL_IMAGE_END + 0x10_0000;
/** The first frame of the boot page table (page 0 stays reserved, as a null page). */
export const BOOT_TABLE_PADDR = 0x1000;

/**
 * The physical ranges `[start, end)` backed by RAM for `ramBytes` of RAM: `[0, min(ramBytes,
 * 0xfe00_0000))` and, when RAM does not fit below the first MMIO hole, the rest from 4 GiB. This
 * is what the boot page table's linear map covers (firmware, kernel image and free RAM alike), and
 * it depends only on the RAM size, so firmware can size the boot table before building the map.
 *
 * @param ramBytes - bytes of RAM (page-aligned)
 * @returns one or two ranges, sorted
 * @throws RangeError for a RAM size the layout cannot hold (see {@link PhysicalMemoryMap})
 */
export function ramRangesFor(ramBytes: number): readonly (readonly [start: number, end: number])[] {
  checkRamBytes(ramBytes);
  if (ramBytes <= LOW_HOLE_START) return [[0, ramBytes]];
  return [
    [0, LOW_HOLE_START],
    [HIGH_RAM_BASE, HIGH_RAM_BASE + (ramBytes - LOW_HOLE_START)],
  ];
}

function checkRamBytes(ramBytes: number): void {
  if (!Number.isInteger(ramBytes) || ramBytes % PAGE_SIZE !== 0 || ramBytes < MIN_RAM_BYTES) {
    throw new RangeError(`Mirch: RAM size ${ramBytes} must be a multiple of ${PAGE_SIZE} of at least ${hex(MIN_RAM_BYTES)} bytes`);
  }
  if (ramBytes > LOW_HOLE_START && HIGH_RAM_BASE + (ramBytes - LOW_HOLE_START) > HIGH_HOLE_START) {
    throw new RangeError(`Mirch: RAM size ${hex(ramBytes)} would overlap the MMIO hole at ${hex(HIGH_HOLE_START)}`);
  }
}

/**
 * The physical memory of a Machine: its boot memory map and the state of each of its pages.
 *
 * @example
 * ```ts
 * const mem = new PhysicalMemoryMap({ bootTableFrames: 8 });
 * mem.state(0x40_0000);          // { state: "free" }
 * mem.alloc(0x40_0000, 2);       // null: two pages now untyped
 * mem.retype(0x40_0000, 1, "slab");
 * mem.alloc(0x40_0000, 1)?.message; // "allocating page 0x400000, which is not free: it is typed `slab`"
 * ```
 */
export class PhysicalMemoryMap {
  /** Bytes of RAM, as configured. */
  readonly ramBytes: number;
  /** Frames of the boot page table, from {@link BOOT_TABLE_PADDR}. */
  readonly bootTableFrames: number;
  /** The end of the boot page table's frames. */
  private readonly bootTableEnd: number;
  /** The end of RAM below the first MMIO hole. */
  private readonly lowRamEnd: number;
  /** The end of RAM above 4 GiB, or {@link HIGH_RAM_BASE} when there is none. */
  private readonly highRamEnd: number;
  private readonly regionList: readonly MemoryRegion[];
  /** Page number → state, only for pages whose state differs from their boot state. */
  private readonly changed = new Map<number, PageState>();
  /** Page number → generation, only for pages freed or retyped at least once. */
  private readonly generations = new Map<number, number>();

  /**
   * @param options - the RAM size and the boot page table's frame count
   * @throws RangeError when the RAM size is not page-aligned, smaller than 4 MiB or reaches the
   *   second MMIO hole, or when the boot page table does not fit in the first MiB
   */
  constructor(options: PhysicalMemoryOptions) {
    const ramBytes = options.ramBytes ?? DEFAULT_RAM_BYTES;
    checkRamBytes(ramBytes);
    const frames = options.bootTableFrames;
    if (!Number.isInteger(frames) || frames < 0 || BOOT_TABLE_PADDR + frames * PAGE_SIZE > FIRMWARE_RESERVED_END) {
      throw new RangeError(`Mirch: ${frames} boot page-table frames do not fit in the first MiB`);
    }
    this.ramBytes = ramBytes;
    this.bootTableFrames = frames;
    this.bootTableEnd = BOOT_TABLE_PADDR + frames * PAGE_SIZE;
    this.lowRamEnd = Math.min(ramBytes, LOW_HOLE_START);
    this.highRamEnd = ramBytes > LOW_HOLE_START ? HIGH_RAM_BASE + (ramBytes - LOW_HOLE_START) : HIGH_RAM_BASE;

    const regions: MemoryRegion[] = [];
    const add = (start: number, end: number, kind: MemoryRegion["kind"]) => {
      if (end > start) regions.push(Object.freeze({ start, end, kind }));
    };
    add(0, BOOT_TABLE_PADDR, "reserved");
    add(BOOT_TABLE_PADDR, this.bootTableEnd, "boot-page-table");
    add(this.bootTableEnd, FIRMWARE_RESERVED_END, "reserved");
    add(KERNEL_IMAGE_PADDR, KERNEL_IMAGE_END, "kernel");
    add(KERNEL_IMAGE_END, this.lowRamEnd, "ram");
    add(LOW_HOLE_START, HIGH_RAM_BASE, "mmio");
    add(HIGH_RAM_BASE, this.highRamEnd, "ram");
    add(HIGH_HOLE_START, HIGH_HOLE_END, "mmio");
    this.regionList = Object.freeze(regions);
  }

  /**
   * The boot memory map, as firmware hands it to the kernel (`memory_regions()`): sorted,
   * non-overlapping, covering every physical address the Machine has. A `ram` region holds only
   * pages that are free at boot.
   */
  regions(): readonly MemoryRegion[] {
    return this.regionList;
  }

  /** The region holding `paddr`, or `null` when the address is not in the Machine. */
  regionAt(paddr: number): MemoryRegion | null {
    for (const r of this.regionList) if (paddr >= r.start && paddr < r.end) return r;
    return null;
  }

  /** The physical ranges backed by RAM (see {@link ramRangesFor}). */
  ramRanges(): readonly (readonly [start: number, end: number])[] {
    return ramRangesFor(this.ramBytes);
  }

  /**
   * Whether `paddr` is backed by RAM: any region but the MMIO holes (the reserved first MiB and the
   * kernel image are RAM too; whether a page may be accessed is its {@link state}).
   */
  isRam(paddr: number): boolean {
    return (paddr >= 0 && paddr < this.lowRamEnd) || (paddr >= HIGH_RAM_BASE && paddr < this.highRamEnd);
  }

  /** Whether `paddr` lies in one of the {@link MMIO_HOLES}. */
  isMmioHole(paddr: number): boolean {
    return (paddr >= LOW_HOLE_START && paddr < HIGH_RAM_BASE) || (paddr >= HIGH_HOLE_START && paddr < HIGH_HOLE_END);
  }

  /** Whether `paddr` is an address the Machine has (RAM or an MMIO hole). */
  inMachine(paddr: number): boolean {
    return this.isRam(paddr) || this.isMmioHole(paddr);
  }

  /**
   * The state of the page holding `paddr`. Addresses outside the Machine read as `reserved` (no
   * one may own them); tell them apart with {@link inMachine}.
   */
  state(paddr: number): PageState {
    const page = Math.floor(paddr / PAGE_SIZE);
    return this.changed.get(page) ?? this.bootState(page * PAGE_SIZE);
  }

  /**
   * The generation of the page holding `paddr`: how many times it was freed or retyped.
   */
  generation(paddr: number): number {
    return this.generations.get(Math.floor(paddr / PAGE_SIZE)) ?? 0;
  }

  /**
   * The sum of the generations of `count` pages from `paddr`: it changes exactly when one of them
   * is freed or retyped (generations only grow), so a TLB entry for a huge page can watch all of
   * its frames with one number. O(count).
   */
  generationSum(paddr: number, count: number): number {
    if (this.generations.size === 0) return 0;
    const first = Math.floor(paddr / PAGE_SIZE);
    let sum = 0;
    for (let p = first; p < first + count; p++) sum += this.generations.get(p) ?? 0;
    return sum;
  }

  /**
   * `alloc_pages`: makes `count` free pages from `paddr` allocated and untyped.
   *
   * @returns `null` when done; a problem (and no change) when an argument is bad or a page is not free
   */
  alloc(paddr: number, count: number): PageProblem | null {
    const bad = checkArgs("allocating", paddr, count);
    if (bad !== null) return bad;
    for (let i = 0; i < count; i++) {
      const p = paddr + i * PAGE_SIZE;
      const s = this.state(p);
      if (s !== FREE_PAGE) return { page: p, message: `allocating page ${hex(p)}, which is not free: it is ${this.describeAt(p, s)}` };
    }
    for (let i = 0; i < count; i++) this.set(paddr + i * PAGE_SIZE, UNTYPED_PAGE);
    return null;
  }

  /**
   * `dealloc_pages`: returns `count` allocated pages (untyped or typed) from `paddr` to free, and
   * bumps their generations.
   *
   * @returns `null` when done; a problem (and no change) when an argument is bad or a page is not allocated
   */
  dealloc(paddr: number, count: number): PageProblem | null {
    const bad = checkArgs("freeing", paddr, count);
    if (bad !== null) return bad;
    for (let i = 0; i < count; i++) {
      const p = paddr + i * PAGE_SIZE;
      const s = this.state(p);
      if (s.state !== "untyped" && s.state !== "typed") {
        return { page: p, message: `freeing page ${hex(p)}, which is not allocated: it is ${this.describeAt(p, s)}` };
      }
    }
    for (let i = 0; i < count; i++) {
      const p = paddr + i * PAGE_SIZE;
      this.set(p, FREE_PAGE);
      this.bumpGeneration(p);
    }
    return null;
  }

  /**
   * `retype_pages`: turns `count` untyped pages from `paddr` into typed pages of `type`, and bumps
   * their generations (pointers made before the retype must not reach the new objects).
   *
   * @returns `null` when done; a problem (and no change) when an argument is bad or a page is not untyped
   */
  retype(paddr: number, count: number, type: PageType): PageProblem | null {
    const bad = checkArgs("retyping", paddr, count);
    if (bad !== null) return bad;
    if (!isPageType(type)) {
      return { page: paddr, message: `retyping pages at ${hex(paddr)} to \`${String(type)}\`, which is not a page type (one of ${Object.keys(TYPED_PAGES).join(", ")})` };
    }
    for (let i = 0; i < count; i++) {
      const p = paddr + i * PAGE_SIZE;
      const s = this.state(p);
      if (s.state === "typed") {
        return { page: p, message: `retyping page ${hex(p)}, which is already ${describePageState(s)}: only untyped pages can be retyped (free it first)` };
      }
      if (s !== UNTYPED_PAGE) return { page: p, message: `retyping page ${hex(p)}, which is not allocated: it is ${this.describeAt(p, s)}` };
    }
    const typed = TYPED_PAGES[type];
    for (let i = 0; i < count; i++) {
      const p = paddr + i * PAGE_SIZE;
      this.set(p, typed);
      this.bumpGeneration(p);
    }
    return null;
  }

  /**
   * Every allocated page (untyped or typed), sorted by address: pages still typed from boot (the
   * boot page table, the kernel image) and every page allocated since. A slow path, for leak
   * reports and tests: O(boot-typed pages + changed pages).
   */
  allocatedPages(): { readonly paddr: number; readonly state: PageState }[] {
    const out: { paddr: number; state: PageState }[] = [];
    for (const r of this.regionList) {
      if (r.kind !== "boot-page-table" && r.kind !== "kernel") continue;
      for (let p = r.start; p < r.end; p += PAGE_SIZE) if (!this.changed.has(p / PAGE_SIZE)) out.push({ paddr: p, state: this.bootState(p) });
    }
    for (const [page, state] of this.changed) {
      if (state.state === "untyped" || state.state === "typed") out.push({ paddr: page * PAGE_SIZE, state });
    }
    return out.sort((a, b) => a.paddr - b.paddr);
  }

  /** Every typed page, sorted by address, with its type (see {@link allocatedPages}). */
  typedPages(): { readonly paddr: number; readonly type: PageType }[] {
    const out: { paddr: number; type: PageType }[] = [];
    for (const { paddr, state } of this.allocatedPages()) if (state.state === "typed") out.push({ paddr, type: state.type });
    return out;
  }

  /**
   * How many pages the map stores explicitly (pages whose state differs from boot): 0 on a fresh
   * map whatever the RAM size, which is what keeps large Machines cheap.
   */
  get changedPageCount(): number {
    return this.changed.size;
  }

  /**
   * Page counts by state over the whole Machine (MMIO holes count as reserved pages). O(changed
   * pages + regions).
   */
  stats(): { free: number; untyped: number; typed: number; reserved: number } {
    const counts = { free: 0, untyped: 0, typed: 0, reserved: 0 };
    for (const r of this.regionList) counts[this.bootState(r.start).state] += (r.end - r.start) / PAGE_SIZE;
    for (const [page, state] of this.changed) {
      counts[this.bootState(page * PAGE_SIZE).state]--;
      counts[state.state]++;
    }
    return counts;
  }

  /** The state of the page at `paddr` (page-aligned) before anything changed it. */
  private bootState(paddr: number): PageState {
    // Ordered by how often each case is met: free RAM first.
    if (paddr >= KERNEL_IMAGE_END && paddr < this.lowRamEnd) return FREE_PAGE;
    if (paddr >= HIGH_RAM_BASE && paddr < this.highRamEnd) return FREE_PAGE;
    if (paddr >= KERNEL_IMAGE_PADDR && paddr < KERNEL_IMAGE_END) return TYPED_PAGES.kernel;
    if (paddr >= BOOT_TABLE_PADDR && paddr < this.bootTableEnd) return TYPED_PAGES["page-table"];
    return RESERVED_PAGE;
  }

  /** A state in a report, telling MMIO holes and absent addresses from firmware pages. */
  private describeAt(paddr: number, s: PageState): string {
    if (s.state !== "reserved" || this.changed.has(Math.floor(paddr / PAGE_SIZE))) return describePageState(s);
    if (this.isMmioHole(paddr)) return "reserved (an MMIO hole)";
    if (!this.isRam(paddr)) return "outside the Machine's physical memory";
    return "reserved (firmware)";
  }

  private set(paddr: number, s: PageState): void {
    const page = paddr / PAGE_SIZE;
    if (s === this.bootState(paddr)) this.changed.delete(page);
    else this.changed.set(page, s);
  }

  private bumpGeneration(paddr: number): void {
    const page = paddr / PAGE_SIZE;
    this.generations.set(page, (this.generations.get(page) ?? 0) + 1);
  }
}

/** The argument checks shared by the transitions: a page-aligned address and a count of at least 1. */
function checkArgs(verb: string, paddr: number, count: number): PageProblem | null {
  if (!Number.isInteger(paddr) || paddr < 0 || paddr % PAGE_SIZE !== 0) {
    return { page: paddr, message: `${verb} pages at ${hex(paddr)}: the address is not page-aligned (a multiple of ${hex(PAGE_SIZE)})` };
  }
  if (!Number.isInteger(count) || count < 1) {
    return { page: paddr, message: `${verb} ${count} pages at ${hex(paddr)}: the count must be an integer of at least 1` };
  }
  if (paddr + count * PAGE_SIZE > HIGH_HOLE_END) {
    return { page: paddr, message: `${verb} ${count} pages at ${hex(paddr)}: the range ends beyond the Machine's physical memory` };
  }
  return null;
}
