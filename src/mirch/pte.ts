/**
 * Page-table entries and page arithmetic on plain JavaScript numbers.
 *
 * ## Why the arithmetic is split in halves
 *
 * A Mirch entry is a 64-bit `usize` in memory, but every meaningful bit lies below bit 53, so an
 * entry fits a JavaScript number exactly. JavaScript's bitwise operators, however, first truncate
 * their operands to 32 bits: `pte & PteFlags.DIRTY` is always 0, and `pte | flags` loses the
 * address bits above 31. So every function here splits a value into its high half
 * (`Math.floor(x / 2 ** 32)`, exact for integers below 2^53) and its low half (`x >>> 0`, which is
 * `x mod 2^32` for any integer below 2^53), works on each half with 32-bit operators, and joins
 * them with `hi * 2 ** 32 + lo`. Divisions and multiplications by powers of two are exact in
 * floating point, so nothing is rounded.
 *
 * ## Entry layout
 *
 * | bits | meaning |
 * |---|---|
 * | 0..8 | flags (`VALID` … `WRITE_THROUGH`) |
 * | 9..11 | `AVAIL1..3`, free for the OS |
 * | 12..50 | physical address of the next table or of the mapped page |
 * | 51, 52 | `ACCESSED`, `DIRTY` (kept for the OS; Mirch never sets them) |
 *
 * The contract's snake_case names (`pte_new`, …) are kept so that shims re-export them as they are.
 */

import { NR_ENTRIES_PER_PAGE, PAGE_SIZE } from "./constants.js";

const TWO_32 = 2 ** 32;
/** Low-half mask of the address field: bits 12..31. */
const ADDR_LO = 0xffff_f000;
/** High-half mask of the address field: bits 32..50 are bits 0..18 of the high half. */
const ADDR_HI = 0x7_ffff;
/** Low-half mask of the flag bits: bits 0..11. */
const FLAGS_LO = 0xfff;
/** High-half mask of the flag bits: bits 51 and 52 are bits 19 and 20 of the high half. */
const FLAGS_HI = 0x18_0000;

/**
 * `2 ** (12 + 9 * (level - 1))` for levels 1..5: the bytes one entry of a table at `level` covers
 * (index 5 is the whole 48-bit space, what a root table covers). A table rather than `2 ** …`,
 * because the walker divides by it for every level of every walk.
 */
const LEVEL_SIZE: readonly number[] = [0, 2 ** 12, 2 ** 21, 2 ** 30, 2 ** 39, 2 ** 48];

/**
 * A page-table entry mapping `paddr` with `flags`.
 *
 * Bits of `paddr` outside the address field (its page offset, bits 51 and up) and bits of `flags`
 * inside the address field are dropped, as hardware would ignore them: build with page-aligned
 * addresses and flags from {@link PteFlags}.
 *
 * @param paddr - the physical address of the next-level table or of the mapped page
 * @param flags - a sum of {@link PteFlags} values (ACCESSED and DIRTY included)
 * @returns the entry, an integer below 2^53
 * @example
 * ```ts
 * const pte = pte_new(0x20_0000, PteFlags.VALID + PteFlags.READABLE + PteFlags.HUGE);
 * pte_paddr(pte); // 0x20_0000
 * ```
 */
export function pte_new(paddr: number, flags: number): number {
  const hi = ((Math.floor(paddr / TWO_32) & ADDR_HI) | (Math.floor(flags / TWO_32) & FLAGS_HI)) >>> 0;
  const lo = (((paddr >>> 0) & ADDR_LO) | ((flags >>> 0) & FLAGS_LO)) >>> 0;
  return hi * TWO_32 + lo;
}

/**
 * The physical address an entry holds (bits 12..50), page-aligned.
 *
 * @param pte - a page-table entry
 * @returns the address of the next table or of the mapped page
 */
export function pte_paddr(pte: number): number {
  return (Math.floor(pte / TWO_32) & ADDR_HI) * TWO_32 + (((pte >>> 0) & ADDR_LO) >>> 0);
}

/**
 * The flag bits of an entry: bits 0..11 and 51..52, the address removed.
 *
 * @param pte - a page-table entry
 * @returns a sum of {@link PteFlags} values
 */
export function pte_flags(pte: number): number {
  return (Math.floor(pte / TWO_32) & FLAGS_HI) * TWO_32 + ((pte >>> 0) & FLAGS_LO);
}

/**
 * The index of `vaddr` in a table of `level`: 9 bits of the address, bits `12 + 9 * (level - 1)`
 * and up.
 *
 * @param vaddr - a virtual address below 2^48
 * @param level - 1 for the last level (4 KiB pages) up to 4 for the root
 * @returns an index in `[0, 512)`
 */
export function pte_index(vaddr: number, level: number): number {
  return Math.floor(vaddr / LEVEL_SIZE[level]!) % NR_ENTRIES_PER_PAGE;
}

/**
 * Whether every bit of `flag` is set in `pte` (or in a flags value): the 53-bit-safe form of
 * `(pte & flag) === flag`.
 *
 * @param pte - an entry or a flags value
 * @param flag - one {@link PteFlags} value, or a sum of several
 * @example
 * ```ts
 * pteHas(pte, PteFlags.DIRTY);                       // bit 52: `pte & DIRTY` would always be 0
 * pteHas(pte, PteFlags.VALID + PteFlags.WRITABLE);   // both
 * ```
 */
export function pteHas(pte: number, flag: number): boolean {
  const fhi = Math.floor(flag / TWO_32) >>> 0;
  const flo = flag >>> 0;
  if (((pte >>> 0) & flo) >>> 0 !== flo) return false;
  return fhi === 0 || ((Math.floor(pte / TWO_32) & fhi) >>> 0) === fhi;
}

/**
 * The 53-bit-safe union of flag values (`a | b` for values with bits above 31).
 *
 * @param a - an entry or a flags value
 * @param b - an entry or a flags value
 */
export function flagsUnion(a: number, b: number): number {
  const hi = (Math.floor(a / TWO_32) | Math.floor(b / TWO_32)) >>> 0;
  const lo = ((a >>> 0) | (b >>> 0)) >>> 0;
  return hi * TWO_32 + lo;
}

/**
 * `a` with the bits of `b` cleared (`a & ~b` for values with bits above 31).
 *
 * @param a - an entry or a flags value
 * @param b - the bits to clear
 */
export function flagsWithout(a: number, b: number): number {
  const hi = (Math.floor(a / TWO_32) & ~Math.floor(b / TWO_32)) >>> 0;
  const lo = ((a >>> 0) & ~(b >>> 0)) >>> 0;
  return hi * TWO_32 + lo;
}

/**
 * The bytes one entry of a table at `level` covers: 4 KiB at level 1, 2 MiB at 2, 1 GiB at 3,
 * 512 GiB at 4 (the size of the page a leaf at that level maps).
 *
 * @param level - 1..4 (5 gives the whole 48-bit space, what a root table covers)
 */
export function levelPageSize(level: number): number {
  return LEVEL_SIZE[level]!;
}

/**
 * `addr` rounded down to a multiple of `align` (a power of two, default {@link PAGE_SIZE}), exact
 * for any non-negative integer below 2^53 (`addr & ~(align - 1)` would cut it to 32 bits).
 */
export function pageAlignDown(addr: number, align: number = PAGE_SIZE): number {
  return addr - (addr % align);
}

/** `addr` rounded up to a multiple of `align` (a power of two, default {@link PAGE_SIZE}). */
export function pageAlignUp(addr: number, align: number = PAGE_SIZE): number {
  const r = addr % align;
  return r === 0 ? addr : addr - r + align;
}

/** Whether `addr` is a multiple of `align` (a power of two, default {@link PAGE_SIZE}). */
export function isPageAligned(addr: number, align: number = PAGE_SIZE): boolean {
  return addr % align === 0;
}

/**
 * `n` as `0x…` lowercase hexadecimal (Rust's `{:#x}`), the form every Mirch message uses for
 * addresses; anything that is not a non-negative integer is printed as is.
 */
export function hex(n: number): string {
  return Number.isInteger(n) && n >= 0 ? "0x" + n.toString(16) : String(n);
}
