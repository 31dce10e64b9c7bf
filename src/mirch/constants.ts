/**
 * The constants and basic types of the Mirch pseudo-architecture: the numbers of the
 * program-facing contract (`kmiri/mirch`, see `mirch.d.ts`) and the Machine's default physical
 * layout that firmware, the page-table builder and the simulators agree on.
 *
 * Everything here is a plain JavaScript number below 2^53: Mirch is OSTD's x86-64 layout with the
 * sign extension dropped, so the kernel half is [2^47, 2^48) and no address needs a `bigint`.
 *
 * This module imports nothing: every other `src/mirch/` module, the shims and the engine import it.
 */

// ───────────────────────────── paging geometry ─────────────────────────────

/** The size of a base page and of a page-table page, in bytes. */
export const PAGE_SIZE = 4096 as const;
/** Page-table levels: 4, each indexed by 9 bits of the virtual address. */
export const NR_LEVELS = 4 as const;
/** Entries in one page-table page: 512 entries of 8 bytes fill one 4 KiB page. */
export const NR_ENTRIES_PER_PAGE = 512 as const;
/** Virtual address width in bits (OSTD's `PagingConsts::ADDRESS_WIDTH`). */
export const ADDRESS_WIDTH = 48 as const;
/** Mirch does not sign-extend virtual addresses: the kernel half is simply [2^47, 2^48). */
export const VA_SIGN_EXT = false as const;
/** The highest level that may hold a leaf (a HUGE entry): level 2, i.e. 2 MiB pages. */
export const HIGHEST_TRANSLATION_LEVEL = 2 as const;

// ───────────────────────────── virtual layout ─────────────────────────────

/** The start of the linear map: `vaddr = paddr + LINEAR_MAPPING_BASE`. */
export const LINEAR_MAPPING_BASE = 0x0000_8000_0000_0000;
/** The start of the kernel half (OSTD's `KERNEL_BASE_VADDR`); it equals {@link LINEAR_MAPPING_BASE}. */
export const KERNEL_BASE = LINEAR_MAPPING_BASE;
/** The last user page's address: user space is `[0, MAX_USERSPACE_VADDR + PAGE_SIZE)`. */
export const MAX_USERSPACE_VADDR = LINEAR_MAPPING_BASE - PAGE_SIZE;
/** The start of the vmalloc area (OSTD's `KVirtArea`), translated through the kernel page table. */
export const VMALLOC_BASE = 0x0000_c000_0000_0000;
/** The start of the frame-metadata area, translated through the kernel page table. */
export const FRAME_METADATA_BASE = 0x0000_e000_0000_0000;
/** The end of the frame-metadata area (1 TiB after its base). */
export const FRAME_METADATA_CAP = 0x0000_e100_0000_0000;
/** Where the kernel image is mapped; the Machine's own memory (`kmiri/rt` allocations) lives above it. */
export const KERNEL_CODE_BASE = 0x0000_ffff_8000_0000;
/** The end of the kernel-image area. */
export const KERNEL_END = 0x0000_ffff_ffff_0000;

// ───────────────────────────── I/O, interrupts, IOMMU ─────────────────────────────

/** The highest I/O port: `in`/`out` take 16-bit port numbers. */
export const MAX_IO_PORT = 0xffff as const;
/** The lowest interrupt number a line may have (x86's vectors below 32 are exceptions). */
export const IRQ_NUM_MIN = 32 as const;
/** The highest interrupt number a line may have. */
export const IRQ_NUM_MAX = 255 as const;
/** Device addresses the IOMMU can map are `[0, IOMMU_DADDR_END)`: a 3-level, 39-bit table. */
export const IOMMU_DADDR_END = 2 ** 39;

// ───────────────────────────── page-table entry bits ─────────────────────────────

/**
 * The bits of a Mirch page-table entry, exactly as the contract gives them. ACCESSED and DIRTY lie
 * above bit 31, where JavaScript's 32-bit `&` and `|` cannot reach: combine and test flags with the
 * helpers of `pte.ts` (`pte_new`, `pte_flags`, `pteHas`), never with the bitwise operators.
 */
export const PteFlags = Object.freeze({
  /** The entry is present; without it the entry is absent and the OS may keep anything in it. */
  VALID: 0x1,
  /** The leaf's page may be read. */
  READABLE: 0x2,
  /** Writes are allowed (needed at every level). */
  WRITABLE: 0x4,
  /** The leaf's page may be executed. */
  EXECUTABLE: 0x8,
  /** User-mode accesses are allowed (needed at every level). */
  USER: 0x10,
  /** The translation survives a TLB flush that excludes global entries. */
  GLOBAL: 0x20,
  /** Cache policy bit (write-combining alone; uncacheable with WRITE_THROUGH). */
  UNCACHEABLE: 0x40,
  /** A leaf above level 1 (2 MiB at level 2); ignored at level 1. */
  HUGE: 0x80,
  /** Cache policy bit (write-through alone). */
  WRITE_THROUGH: 0x100,
  /** Bits 9..11: free for the OS (OSTD marks tracked mappings with one). */
  AVAIL1: 0x200,
  AVAIL2: 0x400,
  AVAIL3: 0x800,
  /** Bit 51; kept for the OS, Mirch never sets it. */
  ACCESSED: 0x8_0000_0000_0000,
  /** Bit 52; kept for the OS, Mirch never sets it. */
  DIRTY: 0x10_0000_0000_0000,
} as const);

/** The name of one page-table entry flag. */
export type PteFlagName = keyof typeof PteFlags;

// ───────────────────────────── the Machine's default physical layout ─────────────────────────────

/** RAM of a Machine when its configuration names none: 256 MiB from physical address 0. */
export const DEFAULT_RAM_BYTES = 256 * 1024 * 1024;
/** CPUs of a Machine when its configuration names none (the `--cpus` option). */
export const DEFAULT_CPUS = 4;
/** The end of the first MiB, which firmware keeps (except the boot page table's frames). */
export const FIRMWARE_RESERVED_END = 0x10_0000;
/**
 * The MMIO holes of the physical map, `[start, end)` each: no RAM lies there. The first is where
 * PCs put device windows below 4 GiB (RAM that would overlap it is moved above 4 GiB); the second
 * is a large 64-bit window.
 */
export const MMIO_HOLES: readonly (readonly [start: number, end: number])[] = Object.freeze([
  Object.freeze([0xfe00_0000, 0x1_0000_0000] as const),
  Object.freeze([0x100_0000_0000, 0x200_0000_0000] as const),
]);
/** Where `attach_device` places the first MMIO window (the start of the first hole). */
export const DEVICE_MMIO_BASE = 0xfe00_0000;
/** The first I/O port handed to attached devices (lower ports are the legacy PC range). */
export const DEVICE_PORT_BASE = 0x1000;
/** The physical address of the kernel image: right after the first MiB. */
export const KERNEL_IMAGE_PADDR = 0x10_0000;
/** The size of the kernel image (2 MiB, typed `kernel`, mapped at {@link KERNEL_CODE_BASE} by the boot table). */
export const KERNEL_IMAGE_BYTES = 0x20_0000;

// ───────────────────────────── page states and the memory map ─────────────────────────────

/** What a typed page holds (KernMiri's Slab, PageTable, Stack; plus frame metadata and the kernel image). */
export type PageType = "slab" | "page-table" | "stack" | "meta" | "kernel";

/** The state of one 4 KiB physical page. */
export type PageState =
  | { readonly state: "reserved" }
  | { readonly state: "free" }
  | { readonly state: "untyped" }
  | { readonly state: "typed"; readonly type: PageType };

/** A physical range `[start, end)` of the boot memory map, and what it is. */
export interface MemoryRegion {
  readonly start: number;
  readonly end: number;
  readonly kind: "ram" | "reserved" | "mmio" | "boot-page-table" | "kernel";
}

// ───────────────────────────── virtual-address classification ─────────────────────────────

/** The area of the virtual address space a virtual address lies in (see {@link regionOf}). */
export type VirtualRegion = "user" | "linear" | "vmalloc" | "meta" | "kernel" | "none";

/**
 * Classifies a virtual address by the area of the layout it lies in, which decides how an access
 * is translated: `linear` and `kernel` addresses resolve directly (never through a TLB); `vmalloc`
 * and `meta` go through the kernel half of the active table; `user` goes through the MMU only for
 * fallible accesses. `none` is every gap: between the metadata area and the kernel image, negative
 * values and NaN, 2^53 and above.
 *
 * @param vaddr - a virtual address
 * @returns the area holding `vaddr`
 * @example
 * ```ts
 * regionOf(LINEAR_MAPPING_BASE + 0x1000); // "linear"
 * regionOf(0x40_0000);                    // "user"
 * ```
 */
export function regionOf(vaddr: number): VirtualRegion {
  // Written as a chain of comparisons on purpose: this runs on the hot path of every access.
  if (!(vaddr >= 0)) return "none";
  if (vaddr < LINEAR_MAPPING_BASE) return "user"; // = MAX_USERSPACE_VADDR + PAGE_SIZE
  if (vaddr < VMALLOC_BASE) return "linear";
  if (vaddr < FRAME_METADATA_BASE) return "vmalloc";
  if (vaddr < FRAME_METADATA_CAP) return "meta";
  if (vaddr < KERNEL_CODE_BASE) return "none";
  if (vaddr < 2 ** 53) return "kernel";
  return "none";
}
