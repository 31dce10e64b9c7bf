/**
 * The memory seam: the one interface through which the memory model reaches everything that is
 * not memory — like Miri's `Machine` hooks. Memory calls out through it; it imports no analysis,
 * no engine and no shim.
 *
 * - **The host** ({@link MemoryHost}): who is acting (a program thread; with Mirch a device or
 *   an interrupt handler), the site of the access, where a site is in the source, and the report
 *   function that stops the run with a finding (the first finding stops the run, as in Miri).
 * - **The analyses** ({@link BorrowHook}, {@link RaceHook}): told of every access that passed the
 *   memory's own checks (live, in bounds, aligned, writable), with the allocation, the offset, the
 *   size, the kind of access and, for borrows, the pointer's tag. Each analysis keeps its state
 *   in its own slot of the allocation ({@link SeamAllocation.borrows}, {@link SeamAllocation.race},
 *   {@link SeamAllocation.page} for Mirch), so that the access path finds it without a lookup.
 * - **The resolver** ({@link AddressResolver}): a pointer whose provenance is not a direct
 *   allocation — a wildcard from `ptr_from_exposed` today; virtual, physical and MMIO addresses
 *   with Mirch — carries an *indirect* provenance marker, which is never live, so the fast path
 *   never sees it; the slow path asks the resolver which allocation the address stands for.
 * - **The pointer factory** ({@link PointerFactory}): what a `ptr` read from memory becomes (the
 *   checked runtime's `Ptr`; a plain record for a library user).
 *
 * A simulator with its own CPU loop gives a {@link Memory} these hooks and calls its `load` and
 * `store` (see examples/).
 *
 * @module
 */
import type { ReportOptions, SourceLocation, UBKind } from "../report.js";

/** Who makes an access: a program thread (a CPU), a device (DMA), or an interrupt handler. */
export interface Party {
  /** What kind of party. */
  readonly kind: "thread" | "device" | "interrupt";
  /** Its index among the parties of its kind (a thread's id: `main` is 0). */
  readonly id: number;
  /** Its name in reports (`main`, `cpu1`, `virtio-net`). */
  readonly name: string;
}

/**
 * What an analysis sees of an allocation: its identity and extent, and the slots analyses keep
 * their per-allocation state in. The memory's `Allocation` is one.
 */
export interface SeamAllocation {
  /** Numeric id (`alloc<id>` in reports). */
  readonly id: number;
  /** Base address. */
  readonly base: number;
  /** Size in bytes. */
  readonly size: number;
  /** What kind of memory (`heap`, `stack`, `static`, `ram`, `mmio`). */
  readonly kind: string;
  /** False once freed. */
  readonly live: boolean;
  /** The data-race detector's slot (`null` until it needs one). */
  race: object | null;
  /** The borrow tracker's slot (`null`: the allocation is not tracked). */
  borrows: object | null;
  /** Mirch's slot (page state of physical memory; `null` for ordinary allocations). */
  page: object | null;
}

/** What memory needs of whatever runs it (the Machine, a simulator, a test). */
export interface MemoryHost {
  /** The program site executing now (a site id of the compiled program; -1 for none). */
  currentSite(): number;
  /** The source location of a site (for `alloc12 was allocated here:` help lines). */
  siteLocation(site: number): SourceLocation;
  /** Stops the run with a finding at the current site: throws, never returns. */
  report(kind: UBKind, message: string, options?: ReportOptions): never;
  /**
   * The party making the current access (default: a thread named `main`): what analyses and
   * reports name — a program thread, and with Mirch a device (DMA) or an interrupt handler.
   */
  party?(): Party;
}

/** Kind of a memory access, as the analyses see it. */
export type AccessKind = "read" | "write";

/** The ordering of an atomic access (Rust's `Ordering`). */
export type MemoryOrdering = "Relaxed" | "Acquire" | "Release" | "AcqRel" | "SeqCst";

/** What an atomic access does: a load, a store, or a read-modify-write (a successful compare-exchange included). */
export type AtomicAccessKind = "load" | "store" | "rmw";

/**
 * An aliasing model (Stacked Borrows) as memory calls it: once per access to an allocation whose
 * `borrows` slot is set and whose fast test (`borrowRead` / `borrowWrite`) did not settle it. A
 * finding is reported through the host (it throws).
 */
export interface BorrowHook {
  access(kind: AccessKind, alloc: SeamAllocation, tag: number, offset: number, size: number, site: number): void;
}

/**
 * A data-race detector as memory calls it. `active` is read on every access (keep it a plain
 * field or a trivial getter): while it is false — one thread — nothing else is called. A race is
 * reported through the host (it throws).
 */
export interface RaceHook {
  /** True while accesses must be checked (several threads or actors exist). */
  readonly active: boolean;
  /** A new allocation by the acting party: a write of every byte. */
  allocated(a: SeamAllocation): void;
  /** The acting party frees `a` (before it is marked freed): a write of every byte. */
  freed(a: SeamAllocation): void;
  /** A non-atomic read of `size` bytes at offset `off`. */
  read(a: SeamAllocation, off: number, size: number): void;
  /** A non-atomic write of `size` bytes at offset `off`. */
  write(a: SeamAllocation, off: number, size: number): void;
  /**
   * An atomic access of `size` bytes at offset `off` with `ordering` (the memory's `atomicLoad`,
   * `atomicStore`, `atomicRmw`, `compareExchange`; a failed compare-exchange is a `load` with its
   * failure ordering). A hook without it sees atomics as plain reads and writes, and so reports
   * races between atomics: implement it to check atomics.
   */
  atomic?(a: SeamAllocation, off: number, size: number, kind: AtomicAccessKind, ordering: MemoryOrdering): void;
}

/**
 * Resolves an address whose pointer carries an indirect provenance `marker` (never a live
 * allocation) for an access or offset of `size` bytes (signed): the allocation it stands for, or
 * `null` for none (then the pointer has no provenance there). The address is not translated: the
 * access happens at `addr` in the allocation returned (a translation — a TLB, an IOMMU — happens
 * before, in the shim that makes the address). Return `undefined` to leave the
 * marker to the next resolver (the last one is the memory's own: wildcards resolve to exposed
 * allocations, as in Miri).
 */
export type AddressResolver<A = SeamAllocation> = (addr: number, size: number, marker: A) => A | null | undefined;

/** Makes the value a `ptr` read from memory gives: the runtime's pointer, or a plain record. */
export type PointerFactory<A = SeamAllocation> = (address: number, provenance: A | null, pointee: unknown, tag: number) => unknown;

/** A pointer as memory keeps it: its address, provenance and borrow tag. */
export interface PointerParts<A = SeamAllocation> {
  readonly address: number;
  readonly provenance: A | null;
  readonly tag: number;
}

/**
 * Reads a pointer value written to memory (the inverse of {@link PointerFactory}): its parts, or
 * null when the value is no pointer. A runtime whose pointers keep their provenance private (the
 * checked `Ptr`: the program must not reach its allocation) reads them here.
 */
export type PointerReader<A = SeamAllocation> = (value: unknown) => PointerParts<A> | null;

/** The actor of a host that does not name one. */
export const MAIN_THREAD: Party = Object.freeze({ kind: "thread", id: 0, name: "main" });
