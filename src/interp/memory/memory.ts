/**
 * The Machine's memory: the table of allocations.
 *
 * A pointer carries its allocation as its provenance, so an access never looks an address up:
 * it is O(1) by construction, and this table is consulted only to allocate, to free, and for the
 * rare address lookups (an exposed pointer turned back into one, a diagnostic). Allocations are
 * placed by a bump {@link AddressSpace}, so the table, in id order, is also in address order and
 * an address lookup is a binary search.
 *
 * Freed allocations stay in the table (their bytes released) so that a use after free can say
 * what the allocation was and where it was allocated and freed.
 */
import type { UBKind } from "../diagnostics/report.js";
import type { ReportOptions } from "../host.js";
import { current } from "../host.js";
import { AddressSpace, type AddressSpaceOptions } from "./address-space.js";
import { Allocation, type AllocKind } from "./allocation.js";

/** How a {@link Memory} stops the run on resource exhaustion: by default, the running Machine's report. */
export type MemoryReporter = (kind: UBKind, message: string, options?: ReportOptions) => never;

/** Options of a {@link Memory}. */
export interface MemoryOptions extends AddressSpaceOptions {
  /** The most bytes live at once (default 1 GiB); allocating more is `resource-exhaustion`. */
  limit?: number;
  /** Reports exhaustion (default: `current.report` of the running Machine). */
  report?: MemoryReporter;
}

/** Default memory limit: 1 GiB. */
export const DEFAULT_MEMORY_LIMIT = 2 ** 30;

/** The largest single allocation a JS typed array can hold comfortably (2 GiB - 1). */
const MAX_ALLOCATION = 2 ** 31 - 1;

/** The allocation table of one Machine. */
export class Memory {
  /** The most bytes live at once. */
  readonly limit: number;
  /** Bytes live now. */
  inUse = 0;
  /** The most bytes ever live at once. */
  peak = 0;
  private readonly space: AddressSpace;
  /** Every allocation ever made, by `id - 1` (hence by base address too). */
  private readonly table: Allocation[] = [];
  private readonly reporter: MemoryReporter;

  constructor(options: MemoryOptions = {}) {
    this.limit = options.limit ?? DEFAULT_MEMORY_LIMIT;
    this.space = new AddressSpace(options);
    this.reporter = options.report ?? ((kind, message, opts) => current.report(kind, message, opts));
  }

  /**
   * Makes a new allocation of `size` bytes aligned to `align`, uninitialised unless `zeroed`.
   * Reports `resource-exhaustion` when it would exceed the memory limit.
   * @param site the program site allocating (for "allocN was allocated here").
   */
  allocate(size: number, align: number, kind: AllocKind, site: number, zeroed = false): Allocation {
    if (!(align > 0 && (align & (align - 1)) === 0)) {
      throw new RangeError(`kmiri internal error: alignment ${align} is not a power of two`);
    }
    if (size > MAX_ALLOCATION || this.inUse + size > this.limit) this.exhausted(size);
    const base = this.space.reserve(size, align);
    if (base < 0) this.exhausted(size);
    const a = new Allocation(this.table.length + 1, base, size, align, kind, zeroed, site);
    this.table.push(a);
    this.inUse += size;
    if (this.inUse > this.peak) this.peak = this.inUse;
    return a;
  }

  /** Frees `a` (which must be live: the caller has checked). */
  deallocate(a: Allocation, site: number): void {
    this.inUse -= a.size;
    a.kill(site);
  }

  /** The allocation `alloc<id>`, live or freed. */
  get(id: number): Allocation | undefined {
    return this.table[id - 1];
  }

  /** How many allocations were ever made. */
  get count(): number {
    return this.table.length;
  }

  /** Every allocation ever made, in id (and address) order. */
  all(): readonly Allocation[] {
    return this.table;
  }

  /**
   * The allocation whose range `[base, base + size]` contains `addr` (one past the end included),
   * live or freed, or `undefined`. O(log n).
   */
  findByAddress(addr: number): Allocation | undefined {
    const t = this.table;
    let lo = 0;
    let hi = t.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const a = t[mid]!;
      if (addr < a.base) hi = mid - 1;
      else if (addr > a.base + a.size) lo = mid + 1;
      else return a;
    }
    return undefined;
  }

  /**
   * The live heap allocations that are leaks at the end of a run: everything not freed, except
   * what was leaked on purpose (`Box::leak`) and zero-sized blocks (Rust allocates nothing for them).
   * Memory reachable from a static is not yet excluded (that needs pointers stored in memory).
   */
  leaks(): Allocation[] {
    return this.table.filter((a) => a.live && a.kind === "heap" && !a.leakOk && a.size > 0);
  }

  private exhausted(size: number): never {
    return this.reporter(
      "resource-exhaustion",
      `tried to allocate ${size} bytes, but only ${Math.max(0, this.limit - this.inUse)} of the ` +
        `memory limit of ${this.limit} bytes are free`,
      {
        title: "resource exhaustion",
        label: "resource exhaustion occurred here",
        help: [
          { message: `${this.inUse} bytes are live; a program that allocates without freeing runs out` },
          { message: "the limit is the Machine's memory limit option; raise it if the program needs more" },
        ],
      },
    );
  }
}
