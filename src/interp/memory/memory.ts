/**
 * The Machine's memory: the table of allocations.
 *
 * A pointer carries its allocation as its provenance, so an access never looks an address up:
 * it is O(1) by construction, and this table is consulted only to allocate, to free, and for the
 * rare lookups by address (an exposed pointer turned back into one) or id. Allocations are placed
 * by a bump {@link AddressSpace}, so the table, in id order, is also in address order and both
 * lookups are binary searches.
 *
 * A freed allocation lives on in the pointers that still refer to it — which is all a use after
 * free needs to say what it was and where it was allocated and freed — but not in the table: the
 * table drops dead entries in batches, so a program that allocates and frees forever runs in
 * bounded memory.
 *
 * Storage: creating an `ArrayBuffer` per allocation costs about a microsecond in V8, so small
 * allocations get a window (`DataView`) of a shared 1 MiB buffer instead. A buffer is never reused
 * (fresh memory is zeroed, which `alloc_zeroed` relies on) and is collected once every allocation
 * carved from it has been freed (a freed allocation drops its view).
 *
 * Everything that is not memory — who acts, where, how a finding is reported, the borrow tracker,
 * the race detector, address resolution — is reached through the seam (seam.ts) the memory is
 * given: a Memory works the same under the Machine, in a simulator's CPU loop, or in a test.
 *
 * @example
 * ```ts
 * import { Memory, layouts } from "kmiri";
 * const { u32 } = layouts;
 * const mem = new Memory(); // reports throw a UBStop; no borrow tracker, no race detector
 * const a = mem.allocate(4, 4, "heap", -1);
 * mem.store(a.base, a, u32, 7);
 * mem.load(a.base, a, u32); // 7
 * mem.deallocate(a, -1);
 * mem.load(a.base, a, u32); // throws UBStop: use-after-free
 * ```
 */
import { UBStop, UB_HELP, type ReportOptions, type SourceLocation, type UBKind } from "../report.js";
import {
  accessRange,
  atomicLoad,
  atomicRmw,
  atomicStore,
  checkDealloc,
  checkOffset,
  checkReference,
  compareExchange,
  load,
  store,
} from "./access.js";
import { AddressSpace, type AddressSpaceOptions } from "./address-space.js";
import { Allocation, EMPTY_VIEW, WILDCARD, type AllocKind, type StoredPointer } from "./allocation.js";
import { copyBytes, fillBytes } from "./bulk.js";
import type { Layout } from "./layouts.js";
import {
  MAIN_THREAD,
  type Party,
  type AddressResolver,
  type BorrowHook,
  type MemoryHost,
  type MemoryOrdering,
  type PointerFactory,
  type PointerReader,
  type RaceHook,
} from "./seam.js";

/**
 * The kind of access being made: a plain one (`read`, `write`, a reference, a copy), a volatile
 * one (`read_volatile`, `write_volatile`, Mirch's copies), or an atomic one.
 */
export type AccessMode = "plain" | "volatile" | "atomic";

/** Options of a {@link Memory}: its limits and its seam (seam.ts). */
export interface MemoryOptions extends AddressSpaceOptions {
  /** The most bytes live at once (default 1 GiB); allocating more is `resource-exhaustion`. */
  limit?: number;
  /**
   * Who runs the memory: the current site, source locations, and the report function that stops
   * the run. Default {@link standaloneHost}: no sites, and a report throws a {@link UBStop}.
   */
  host?: MemoryHost;
  /** The aliasing model called on accesses to tracked allocations (default none; settable later). */
  borrows?: BorrowHook | null;
  /** The data-race detector (default none: never active; settable later). */
  races?: RaceHook | null;
  /**
   * Resolvers of indirect provenance (Mirch's virtual, physical and MMIO addresses), asked in
   * order before the memory's own (wildcards: the exposed allocation at the address).
   */
  resolvers?: AddressResolver<Allocation>[];
  /**
   * What a `ptr` read from memory becomes (default: a plain `{ address, provenance, layout, tag }`
   * record). The checked runtime installs its `Ptr`.
   */
  pointer?: PointerFactory<Allocation>;
  /** How a pointer written to memory is read (default: its `address`, `provenance` and `tag` fields). */
  readPointer?: PointerReader<Allocation>;
}

/** A race hook that is never active: memory without a race detector. */
export const NO_RACES: RaceHook = Object.freeze({
  active: false,
  allocated() {},
  freed() {},
  read() {},
  write() {},
});

/**
 * The host of a Memory used on its own: no program sites (locations name `<memory>`), the acting
 * party `party()` (default `main`; a simulator passes its current CPU or device), and a report
 * that throws a {@link UBStop} carrying the finding, named after that party (catch it, read
 * `e.report`).
 */
export function standaloneHost(party: () => Party = () => MAIN_THREAD): MemoryHost {
  const location: SourceLocation = { file: "<memory>", line: 0, column: 0 };
  return {
    currentSite: () => -1,
    siteLocation: () => location,
    party,
    report(kind: UBKind, message: string, options: ReportOptions = {}): never {
      const title = options.title ?? "Undefined Behavior";
      const help = options.help ?? [];
      throw new UBStop({
        kind,
        title,
        message,
        location,
        label: options.label,
        thread: party().name,
        backtrace: [],
        help: title === "Undefined Behavior" && help.length === 0 ? UB_HELP.map((m) => ({ message: m })) : help,
        notes: options.notes ?? [],
      });
    },
  };
}

/** The default pointer factory: a plain record. */
const plainPointer: PointerFactory<Allocation> = (address, provenance, layout, tag): StoredPointer & { layout: unknown } => ({
  address,
  provenance,
  layout,
  tag,
});

/** The default pointer reader: a record with a numeric `address` (and `provenance`, `tag`). */
const plainReadPointer: PointerReader<Allocation> = (v) =>
  typeof v === "object" && v !== null && typeof (v as StoredPointer).address === "number" ? (v as StoredPointer) : null;

/** Default memory limit: 1 GiB. */
export const DEFAULT_MEMORY_LIMIT = 2 ** 30;

/**
 * The largest single allocation: 2 GiB − 1 bytes. An allocation's bytes are one JavaScript
 * typed array (and, until it is all initialised, its initialisation map is another of the same
 * length), which kmiri keeps to the 2 GiB a typed array holds comfortably. It is kmiri's limit,
 * not the program's memory limit (`limit`), and it has its own report.
 */
export const MAX_ALLOCATION = 2 ** 31 - 1;
/** Bytes per shared storage buffer. */
const CHUNK_BYTES = 1 << 20;
/** Allocations larger than this get a buffer of their own. */
const OWN_BUFFER_BYTES = CHUNK_BYTES / 8;
/** The table is compacted once it holds this many dead entries, and at least as many as live ones. */
const COMPACT_MIN_DEAD = 1024;

/** The allocation table of one Machine. */
export class Memory {
  /** The most bytes live at once. */
  readonly limit: number;
  /** Bytes live now. */
  inUse = 0;
  /** The most bytes ever live at once. */
  peak = 0;
  private readonly space: AddressSpace;
  /** Live allocations and recently freed ones, in id (hence address) order. */
  private table: Allocation[] = [];
  /** How many entries of {@link table} are dead. */
  private dead = 0;
  /** How many allocations were ever made (the last id). */
  private made = 0;
  /** The shared buffer small allocations are carved from, and how much of it is used. */
  private chunk: ArrayBuffer | null = null;
  private chunkUsed = 0;
  /** The seam: who runs this memory, and reports its findings. */
  readonly host: MemoryHost;
  /** The aliasing model called on accesses to tracked allocations, or `null`. */
  borrows: BorrowHook | null;
  /** The data-race detector ({@link NO_RACES} when there is none). */
  races: RaceHook;
  /** What a `ptr` read from memory becomes. */
  readonly pointer: PointerFactory<Allocation>;
  /** How a pointer written to memory is read. */
  readonly readPointer: PointerReader<Allocation>;
  private readonly resolvers: AddressResolver<Allocation>[];
  /**
   * The address an access through an indirect provenance continues at, once resolved: set to the
   * pointer's address before the resolvers are asked; a resolver that translates (Mirch's
   * virtual addresses) sets it to the address in the allocation it returns. Slow path only.
   */
  translated = 0;
  /**
   * What kind of access the runtime is making now, for resolvers that care (Mirch: untyped memory
   * takes volatile and atomic accesses only): set by the runtime's volatile and atomic operations
   * around their access, `plain` otherwise.
   */
  accessMode: AccessMode = "plain";
  /** The layout of the access being resolved (set by the slow path before it asks the resolvers). */
  accessLayout: Layout<unknown> | null = null;
  /** Whether the access being resolved writes (set with {@link accessLayout}). */
  accessWrite = false;
  /**
   * True while pointer arithmetic (an in-bounds offset) is being resolved, not an access: a
   * resolver applies no access rule, and may answer `UNCHECKED_OFFSET` to leave it unchecked.
   */
  resolvingOffset = false;
  /**
   * Allocations outside the table that keep memory reachable at the end of a run (Mirch's
   * physical memory): roots of {@link leaks}, with the table's statics.
   */
  extraRoots: (() => Iterable<Allocation>) | null = null;

  constructor(options: MemoryOptions = {}) {
    this.limit = options.limit ?? DEFAULT_MEMORY_LIMIT;
    this.space = new AddressSpace(options);
    this.host = options.host ?? standaloneHost();
    this.borrows = options.borrows ?? null;
    this.races = options.races ?? NO_RACES;
    this.pointer = options.pointer ?? plainPointer;
    this.readPointer = options.readPointer ?? plainReadPointer;
    this.resolvers = options.resolvers ? [...options.resolvers] : [];
  }

  /** Adds a resolver of indirect provenance, asked before those added earlier (Mirch plugs in here). */
  addResolver(r: AddressResolver<Allocation>): void {
    this.resolvers.unshift(r);
  }

  /**
   * The allocation an address stands for whose pointer carries the indirect provenance `marker`,
   * for an access or offset of `size` bytes (signed): the first resolver's answer, else — for a
   * wildcard — the exposed allocation there ({@link findExposed}); `null` for none. Slow path only.
   */
  resolve(addr: number, size: number, marker: Allocation): Allocation | null {
    for (const r of this.resolvers) {
      const a = r(addr, size, marker);
      if (a !== undefined) return a;
    }
    return marker === WILDCARD ? this.findExposed(addr, size) : null;
  }

  // ── checked accesses (access.ts, bulk.ts): the API for a library user ──

  /**
   * Reads a `layout` value at `addr` through provenance `a` (an allocation, an indirect marker,
   * or `null`) and borrow tag `tag`, with every check (see access.ts). `aligned`: `read`, not
   * `read_unaligned`.
   */
  load<T>(addr: number, a: Allocation | null, layout: Layout<T>, aligned = true, tag = 0): T {
    return load(this, addr, a, layout, aligned, tag);
  }

  /** Writes `value` as `layout` at `addr` through provenance `a` and tag `tag`, with every check. */
  store<T>(addr: number, a: Allocation | null, layout: Layout<T>, value: T, aligned = true, tag = 0): void {
    store(this, addr, a, layout, aligned, value, tag);
  }

  /** Checks an in-bounds offset of `bytes` (signed) from `addr` (pointer arithmetic). */
  checkOffset(addr: number, a: Allocation | null, bytes: number): void {
    checkOffset(this, addr, a, bytes);
  }

  /** Checks that a reference to `layout` may be made at `addr`; returns the allocation it points into. */
  checkReference(addr: number, a: Allocation | null, layout: Layout<unknown>, mutable: boolean): Allocation | null {
    return checkReference(this, addr, a, layout, mutable);
  }

  /** Checks `bytes` bytes at `addr` for a bulk operation; returns the allocation to operate on. */
  accessRange(addr: number, a: Allocation | null, bytes: number, align: number, write: boolean): Allocation | null {
    return accessRange(this, addr, a, bytes, align, write);
  }

  /** Checks a deallocation of `addr` as a heap block of `size` bytes aligned to `align`; returns the allocation. */
  checkDealloc(addr: number, a: Allocation | null, size: number, align: number): Allocation {
    return checkDealloc(this, addr, a, size, align, "deallocating");
  }

  /** `ptr::copy` / `ptr::copy_nonoverlapping` of `bytes` bytes (bytes, initialisation and provenance move along). */
  copy(src: number, srcProv: Allocation | null, dst: number, dstProv: Allocation | null, bytes: number, nonoverlapping = false, srcTag = 0, dstTag = 0): void {
    copyBytes(this, src, srcProv, dst, dstProv, bytes, 1, nonoverlapping, srcTag, dstTag);
  }

  /**
   * An atomic load with `ordering`: the checks of {@link load} (a borrow read through `tag`), and
   * the race hook's `atomic` instead of a non-atomic read.
   */
  atomicLoad<T>(addr: number, a: Allocation | null, layout: Layout<T>, ordering: MemoryOrdering, tag = 0): T {
    return atomicLoad(this, addr, a, layout, ordering, tag);
  }

  /** An atomic store with `ordering`. */
  atomicStore<T>(addr: number, a: Allocation | null, layout: Layout<T>, value: T, ordering: MemoryOrdering, tag = 0): void {
    atomicStore(this, addr, a, layout, value, ordering, tag);
  }

  /** An atomic read-modify-write with `ordering` (`fetch_add`: `(x) => x + 1`): stores `f(old)`, returns `old`. */
  atomicRmw<T>(addr: number, a: Allocation | null, layout: Layout<T>, f: (old: T) => T, ordering: MemoryOrdering, tag = 0): T {
    return atomicRmw(this, addr, a, layout, f, ordering, tag);
  }

  /** A strong compare-exchange: an RMW with `success` when the value is `expected`, else a load with `failure`. */
  compareExchange<T>(addr: number, a: Allocation | null, layout: Layout<T>, expected: T, next: T, success: MemoryOrdering, failure: MemoryOrdering, tag = 0): { ok: boolean; value: T } {
    return compareExchange(this, addr, a, layout, expected, next, success, failure, tag);
  }

  /** `ptr::write_bytes`: `bytes` bytes at `addr` set to `byte`. */
  fill(addr: number, prov: Allocation | null, byte: number, bytes: number, tag = 0): void {
    fillBytes(this, addr, prov, byte, bytes, 1, tag);
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
    if (size > MAX_ALLOCATION) this.tooLarge(size);
    if (this.inUse + size > this.limit) this.exhausted(size);
    const base = this.space.reserve(size, align);
    if (base < 0) this.noAddresses(size, align);
    const a = new Allocation(this, ++this.made, base, size, align, kind, this.storage(size), zeroed, site);
    this.table.push(a);
    this.inUse += size;
    if (this.inUse > this.peak) this.peak = this.inUse;
    // Several threads exist: the allocation is a write of every byte by this thread.
    if (this.races.active) this.races.allocated(a);
    return a;
  }

  /**
   * Makes an allocation at a fixed address outside the table and its address space: memory that
   * another component places and finds by address itself (Mirch's physical pages, at their
   * linear-map address). It does not count against {@link limit}; it is found by the resolvers
   * that component installs, not by {@link findByAddress}, and is a root of {@link leaks} when
   * {@link extraRoots} lists it. `announce` false: not a new allocation for the race detector (a
   * piece of one that existed before, whose bytes no thread writes by being split off).
   */
  allocateAt(base: number, size: number, align: number, kind: AllocKind, site: number, announce = true): Allocation {
    if (size > MAX_ALLOCATION) this.tooLarge(size);
    const a = new Allocation(this, ++this.made, base, size, align, kind, this.storage(size), false, site);
    if (announce && this.races.active) this.races.allocated(a);
    return a;
  }

  /**
   * Frees an allocation made by {@link allocateAt}: checked as a write of every byte while several
   * threads exist, then dead (pointers to it now dangle).
   */
  deallocateAt(a: Allocation, site: number): void {
    if (this.races.active) this.races.freed(a);
    a.kill(site);
  }

  /**
   * Frees `a` (which must be live: the caller has checked). While several threads exist, the
   * free is first checked as a write of every byte (a `data-race` with an unordered access stops
   * the run before anything is freed).
   */
  deallocate(a: Allocation, site: number): void {
    if (this.races.active) this.races.freed(a);
    this.inUse -= a.size;
    a.kill(site);
    if (++this.dead >= COMPACT_MIN_DEAD && this.dead * 2 >= this.table.length) {
      this.table = this.table.filter((x) => x.live);
      this.dead = 0;
    }
  }

  /** The live allocation `alloc<id>`, or `undefined`. O(log n). */
  get(id: number): Allocation | undefined {
    const a = this.search((x) => id - x.id);
    return a?.live ? a : undefined;
  }

  /** How many allocations were ever made. */
  get count(): number {
    return this.made;
  }

  /** How many allocations are live now. */
  get liveCount(): number {
    return this.table.length - this.dead;
  }

  /** The live allocations, in id (and address) order. */
  live(): Allocation[] {
    return this.table.filter((a) => a.live);
  }

  /**
   * The live allocation whose range `[base, base + size]` contains `addr` (one past the end
   * included), or `undefined`. O(log n). The gaps between allocations make it unambiguous.
   */
  findByAddress(addr: number): Allocation | undefined {
    const a = this.search((x) => (addr < x.base ? -1 : addr > x.base + x.size ? 1 : 0));
    return a?.live ? a : undefined;
  }

  /**
   * The allocation a wildcard pointer (`ptr_from_exposed`) at `addr` stands for in an access or
   * offset of `size` bytes (signed), as Miri resolves it: the live, exposed allocation holding the
   * byte at `addr` (at `addr - 1` when `size` is negative) — strictly inside it, except at the base
   * of a zero-sized one. `null` when there is none. O(log n).
   */
  findExposed(addr: number, size: number): Allocation | null {
    const at = size >= 0 ? addr : addr - 1;
    const a = this.findByAddress(at);
    if (a === undefined || !a.exposed) return null;
    return at < a.base + a.size || at === a.base ? a : null;
  }

  /** Binary search of the table; `cmp` says whether the wanted entry is before (<0) or after (>0) `x`. */
  private search(cmp: (x: Allocation) => number): Allocation | undefined {
    const t = this.table;
    let lo = 0;
    let hi = t.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = cmp(t[mid]!);
      if (c < 0) hi = mid - 1;
      else if (c > 0) lo = mid + 1;
      else return t[mid];
    }
    return undefined;
  }

  /** Zeroed storage for `size` bytes: a window of the shared buffer, or a buffer of its own. */
  private storage(size: number): DataView {
    if (size === 0) return EMPTY_VIEW;
    if (size > OWN_BUFFER_BYTES) return new DataView(new ArrayBuffer(size));
    if (this.chunk === null || this.chunkUsed + size > CHUNK_BYTES) {
      this.chunk = new ArrayBuffer(CHUNK_BYTES);
      this.chunkUsed = 0;
    }
    const view = new DataView(this.chunk, this.chunkUsed, size);
    // Keep windows 8-byte aligned within the buffer (not needed by DataView; kind to the cache).
    this.chunkUsed += (size + 7) & ~7;
    return view;
  }

  /**
   * The live heap allocations that are leaks at the end of a run: everything not freed, except
   * zero-sized blocks (Rust allocates nothing for them) and memory reachable from a static —
   * directly or through pointers stored in other allocations, as Miri's leak check walks
   * provenance from its static roots. Roots: every live allocation that is neither heap nor stack
   * (statics, RAM, MMIO). As in Miri, `Box::leak` exempts nothing by itself: a leaked box that no
   * static reaches is reported.
   */
  leaks(): Allocation[] {
    const reached = new Set<Allocation>();
    const todo: Allocation[] = [];
    for (const a of this.table) {
      if (a.live && a.kind !== "heap" && a.kind !== "stack") {
        reached.add(a);
        todo.push(a);
      }
    }
    for (const a of this.extraRoots?.() ?? []) {
      if (a.live && !reached.has(a)) {
        reached.add(a);
        todo.push(a);
      }
    }
    while (todo.length > 0) {
      const from = todo.pop()!;
      if (from.ptrs === null) continue;
      // Whole pointers and pointer fragments both keep their allocation reachable.
      for (const { provenance: b } of from.storedPointers()) {
        if (b !== null && b.live && !reached.has(b)) {
          reached.add(b);
          todo.push(b);
        }
      }
    }
    return this.table.filter((a) => a.live && a.kind === "heap" && a.size > 0 && !reached.has(a));
  }

  private exhausted(size: number): never {
    return this.host.report(
      "resource-exhaustion",
      `tried to allocate ${size} bytes, but only ${Math.max(0, this.limit - this.inUse)} of the ` +
        `memory limit of ${this.limit} bytes are free`,
      {
        title: "resource exhaustion",
        label: "resource exhaustion occurred here",
        help: [
          { message: `${this.inUse} bytes are live in ${this.liveCount} allocation${this.liveCount === 1 ? "" : "s"}; a program that allocates without freeing runs out` },
          { message: "the limit is the memory limit (`--memory-limit BYTES`, library option `memoryLimit`; default 1 GiB); raise it if the program needs more" },
        ],
      },
    );
  }

  /** One allocation larger than {@link MAX_ALLOCATION}: kmiri's limit, whatever the memory limit. */
  private tooLarge(size: number): never {
    return this.host.report(
      "resource-exhaustion",
      `tried to allocate ${size} bytes, but a single allocation is limited to ${MAX_ALLOCATION} bytes (2 GiB - 1)`,
      {
        title: "resource exhaustion",
        label: "resource exhaustion occurred here",
        help: [
          { message: "kmiri keeps an allocation's bytes in one JavaScript typed array (and its initialisation map in another as long), which it limits to 2 GiB - 1 bytes; this limit is kmiri's, not the program's" },
          { message: `it is not the memory limit (${this.limit} bytes live at once, \`--memory-limit\`): raising that does not help; split the allocation into smaller ones` },
        ],
      },
    );
  }

  /** The bump allocator's addresses (below 2^53) are used up (absurd sizes or alignments). */
  private noAddresses(size: number, align: number): never {
    return this.host.report(
      "resource-exhaustion",
      `tried to allocate ${size} bytes aligned to ${align}, but the address space is used up: addresses stay below 2^53, and kmiri never reuses one`,
      { title: "resource exhaustion", label: "resource exhaustion occurred here" },
    );
  }
}
