/**
 * Where allocations live in Mirch's address space: a bump allocator that never reuses an address.
 *
 * Both runtimes place allocations with this same function, so a program sees the same addresses
 * checked and native (a program that prints or computes with addresses behaves the same in both).
 * A gap is left after every allocation, so that an out-of-bounds address never falls silently into
 * the next allocation: an address found by a lookup (an exposed pointer, a diagnostic) belongs to
 * at most one allocation, and the one-past-the-end address of one never is the base of another.
 */

/** Options of an {@link AddressSpace}. */
export interface AddressSpaceOptions {
  /** The first address handed out (default `0x10000`: the first 64 KiB, null page included, are never allocated). */
  start?: number;
  /** Bytes left unused after every allocation (default 16). */
  gap?: number;
  /** Every base is aligned to at least this (default 16, a power of two). */
  minAlign?: number;
}

/** Default first address. */
export const DEFAULT_START = 0x10000;
/** Default gap between allocations. */
export const DEFAULT_GAP = 16;
/** Default minimum alignment of a base address. */
export const DEFAULT_MIN_ALIGN = 16;
/** Addresses stay below 2^53 (a `usize` is a JS number). */
export const ADDRESS_LIMIT = 2 ** 53;

/** A bump allocator of addresses. */
export class AddressSpace {
  /** The first address handed out. */
  readonly start: number;
  /** Bytes left unused after every allocation. */
  readonly gap: number;
  /** Minimum alignment of every base. */
  readonly minAlign: number;
  /** The end of the last reservation (exclusive). */
  private top: number;

  constructor(options: AddressSpaceOptions = {}) {
    this.start = options.start ?? DEFAULT_START;
    this.gap = options.gap ?? DEFAULT_GAP;
    this.minAlign = options.minAlign ?? DEFAULT_MIN_ALIGN;
    // The first base is `start` itself (aligned), not `start + gap`.
    this.top = this.start - this.gap;
  }

  /**
   * Reserves `size` bytes aligned to `align` (a power of two) and returns their base address, or
   * `-1` when the address space is exhausted.
   */
  reserve(size: number, align: number): number {
    const a = align > this.minAlign ? align : this.minAlign;
    // Math.ceil on a quotient by a power of two is exact for integers below 2^53.
    const base = Math.ceil((this.top + this.gap) / a) * a;
    if (base + size >= ADDRESS_LIMIT) return -1;
    this.top = base + size;
    return base;
  }

  /** The end (exclusive) of the highest reservation so far. */
  get end(): number {
    return this.top;
  }
}
