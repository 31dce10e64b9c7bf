/**
 * The checked memory operations: every read and write the program makes goes through
 * {@link load} or {@link store}, so they are the hot path of the checked runtime.
 *
 * The fast path is one conjunction over fields of the pointer's own allocation — live, in bounds,
 * aligned, initialised (one `null` test while the allocation is fully initialised), valid (one
 * `null` test for types where every bit pattern is valid) — and then one `DataView` get or set. A
 * write also forgets the stored pointers it overwrites (one `null` test for an allocation that
 * never held a pointer) and leaves a struct's padding uninitialised (one `null` test for a
 * layout without padding). It allocates nothing, captures nothing and catches nothing. When the
 * conjunction fails, the slow path in `diagnose.ts` re-derives what went wrong in Miri's order and
 * reports it.
 *
 * The analyses are reached through the memory's seam (seam.ts), never by name. While the race
 * hook is active (several threads exist: `m.races.active`), a checked access is also a
 * non-atomic read or write for it; otherwise that costs two property loads.
 *
 * Every access names the pointer's borrow tag: when the allocation is tracked by the borrow hook
 * (`a.borrows`), the access is checked against its borrow stacks after the bounds and before
 * initialisation, unless the allocation's fast test says the tag's access changes nothing
 * (`borrowRead`/`borrowWrite`: one comparison).
 *
 * Every function takes the {@link Memory} it works on first: its host reports, its hooks check.
 *
 * The provenance *is* the allocation: no lookup by address happens here. A pointer whose
 * provenance is indirect (a wildcard from `ptr_from_exposed`, `WILDCARD`; with Mirch a
 * virtual or physical address) carries a marker that is never live: it always takes the slow
 * path, which asks the memory's resolvers for the allocation and comes back here with it.
 */
import type { Layout } from "./layouts.js";
import type { Allocation } from "./allocation.js";
import type { Memory } from "./memory.js";
import type { AtomicAccessKind, MemoryOrdering } from "./seam.js";
import {
  diagnoseAccess,
  diagnoseDealloc,
  diagnoseLoad,
  diagnoseOffset,
  diagnoseReference,
  resolveIndirect,
} from "./diagnose.js";

/**
 * Reads a `layout` value at `addr` through provenance `a` and borrow tag `tag`, checking
 * liveness, bounds, alignment (when `aligned`: `read`, not `read_unaligned`), the borrow stacks
 * (Stacked Borrows, when the allocation is tracked), initialisation and validity — Miri's order.
 */
export function load<T>(m: Memory, addr: number, a: Allocation | null, layout: Layout<T>, aligned: boolean, tag: number): T {
  if (a !== null && a.live) {
    const off = addr - a.base;
    // `addr & (align - 1)` is exact for addresses up to 2^53: ToInt32 keeps the low 32 bits.
    if (
      off >= 0 &&
      off + layout.size <= a.size &&
      (!aligned || (addr & (layout.align - 1)) === 0) &&
      (a.borrows === null || a.borrowRead === tag || borrowChecked(m, a, 0, tag, off, layout.size)) &&
      (a.init === null || a.isInitRanges(off, layout.size, layout.initRanges))
    ) {
      const view = a.view;
      if (layout.invalid === null || layout.invalid(view, off, a) === null) {
        // Several threads exist: a non-atomic read for the race detector.
        const races = m.races;
        if (races.active) races.read(a, off, layout.size);
        return layout.decode(view, off, a);
      }
    }
  }
  return loadSlow(m, addr, a, layout, aligned);
}

/** The slow path of {@link load}: an indirect provenance is resolved and the load retried; anything else is diagnosed. */
function loadSlow<T>(m: Memory, addr: number, a: Allocation | null, layout: Layout<T>, aligned: boolean): T {
  // A wildcard pointer carries no tag (0): the borrow tracker checks it against the exposed tags.
  if (a !== null && a.indirect) {
    m.accessLayout = layout;
    m.accessWrite = false;
    const r = resolveIndirect(m, addr, layout.size, a);
    return load(m, m.translated, r, layout, aligned, 0);
  }
  return diagnoseLoad(m, addr, a, layout, aligned);
}

/**
 * Writes `value` as `layout` at `addr` through provenance `a` and borrow tag `tag`, checking
 * liveness, bounds, alignment (when `aligned`), writability and the borrow stacks; marks the
 * bytes initialised (a struct's padding uninitialised) and keeps the provenance of the pointers
 * written.
 */
export function store<T>(m: Memory, addr: number, a: Allocation | null, layout: Layout<T>, aligned: boolean, value: T, tag: number): void {
  if (a !== null && a.live && a.writable) {
    const off = addr - a.base;
    const size = layout.size;
    if (off >= 0 && off + size <= a.size && (!aligned || (addr & (layout.align - 1)) === 0)) {
      if (a.borrows !== null && a.borrowWrite !== tag) borrowAccess(m, a, 1, tag, off, size);
      const races = m.races;
      if (races.active) races.write(a, off, size);
      write(a, off, layout, value);
      return;
    }
  }
  storeSlow(m, addr, a, layout, aligned, value, tag);
}

/**
 * Writes `value` as `layout` at `offset` of `a` without any check (the caller has made them, or
 * is initialising memory it owns: a static's initial value, written before it is made read-only).
 */
export function write<T>(a: Allocation, offset: number, layout: Layout<T>, value: T): void {
  const size = layout.size;
  if (a.ptrs !== null) a.forgetPtrs(offset, size);
  if (a.init !== null) a.markInit(offset, size);
  layout.encode(a.view, offset, value, a);
  if (layout.padding !== null) a.markUninitRanges(offset, layout.padding);
}

/** The slow path of {@link store}: an indirect provenance is resolved and the store retried; anything else is reported. */
function storeSlow<T>(m: Memory, addr: number, a: Allocation | null, layout: Layout<T>, aligned: boolean, value: T, tag: number): void {
  if (a !== null && a.indirect) {
    m.accessLayout = layout;
    m.accessWrite = true;
    const r = resolveIndirect(m, addr, layout.size, a);
    store(m, m.translated, r, layout, aligned, value, tag);
    return;
  }
  // Reports, unless the write is zero-sized (then there is nothing to write).
  diagnoseAccess(m, addr, a, layout.size, layout.align, aligned, true);
}

/**
 * Checks an in-bounds offset (`add`, `sub`, `offset`, `byte_add`, a field or element projection)
 * of `bytes` (signed) from `addr`: both ends must lie within the live allocation (one past the
 * end included). A zero offset is allowed through any pointer.
 */
export function checkOffset(m: Memory, addr: number, a: Allocation | null, bytes: number): void {
  if (bytes === 0) return;
  if (a !== null && a.live) {
    const off = addr - a.base;
    const end = off + bytes;
    if (off >= 0 && end >= 0 && off <= a.size && end <= a.size) return;
  }
  diagnoseOffset(m, addr, a, bytes);
}

/**
 * Checks that a reference to `layout` may be made at `addr`: non-null, dereferenceable for its
 * size, aligned. Returns the allocation it points into — for a wildcard pointer, the exposed
 * allocation found at `addr` — or `null` for a zero-sized referent without provenance.
 */
export function checkReference(m: Memory, addr: number, a: Allocation | null, layout: Layout<unknown>, mutable: boolean): Allocation | null {
  if (a !== null && a.live && addr !== 0) {
    const off = addr - a.base;
    if (off >= 0 && off + layout.size <= a.size && (addr & (layout.align - 1)) === 0) return a;
  }
  if (a !== null && a.indirect) {
    m.accessLayout = layout;
    m.accessWrite = mutable;
    const r = resolveIndirect(m, addr, layout.size, a);
    diagnoseReference(m, m.translated, r, layout, mutable);
    return r;
  }
  diagnoseReference(m, addr, a, layout, mutable);
  return a;
}

/**
 * Checks `bytes` bytes at `addr` for a bulk operation (`copy`, `write_bytes`): live, in bounds,
 * aligned to `align`, and writable when `write`. Returns the allocation to operate on (for a
 * wildcard pointer, the exposed allocation found at `addr`; `null` only when `bytes` is 0 and
 * there is none). Initialisation is not checked: a bulk copy carries it along.
 */
export function accessRange(m: Memory, addr: number, a: Allocation | null, bytes: number, align: number, write: boolean): Allocation | null {
  if (a !== null && a.live && (!write || a.writable)) {
    const off = addr - a.base;
    if (off >= 0 && off + bytes <= a.size && addr % align === 0) return a;
  }
  if (a !== null && a.indirect) {
    m.accessWrite = write;
    const r = resolveIndirect(m, addr, bytes, a);
    diagnoseAccess(m, m.translated, r, bytes, align, true, write);
    return r;
  }
  diagnoseAccess(m, addr, a, bytes, align, true, write);
  return a;
}

/**
 * {@link accessRange}, returning the offset of `addr` in the allocation instead (kept for the
 * callers that know the pointer's allocation; a wildcard pointer needs {@link accessRange}).
 */
export function checkRange(m: Memory, addr: number, a: Allocation | null, bytes: number, align: number, write: boolean): number {
  const r = accessRange(m, addr, a, bytes, align, write);
  return addressIn(m, addr, a) - (r === null ? 0 : r.base);
}

/**
 * The address an access through provenance `a` at `addr` happened at, after {@link accessRange}
 * or {@link checkReference} returned: `addr`, or for an indirect provenance the address its
 * resolver translated it to (Mirch: a virtual address's place in the linear map).
 */
export function addressIn(m: Memory, addr: number, a: Allocation | null): number {
  return a !== null && a.indirect ? m.translated : addr;
}

/**
 * Checks a deallocation of `addr` as a heap block of `size` bytes aligned to `align` (`dealloc`,
 * `Box::drop`; `verb` "reallocating" for `realloc`) and returns the allocation to free.
 */
export function checkDealloc(
  m: Memory,
  addr: number,
  a: Allocation | null,
  size: number,
  align: number,
  verb: "deallocating" | "reallocating",
): Allocation {
  if (a !== null && a.live && addr === a.base && a.kind === "heap" && a.size === size && a.align === align) return a;
  if (a !== null && a.indirect) {
    const r = resolveIndirect(m, addr, 0, a);
    return checkDealloc(m, m.translated, r, size, align, verb);
  }
  return diagnoseDealloc(m, addr, a, size, align, verb);
}

/**
 * {@link borrowAccess} as a term of the load path's conjunction: the borrow stacks are checked
 * after bounds and alignment and before initialisation, as Miri orders them (a finding throws).
 */
function borrowChecked(m: Memory, a: Allocation, access: 0 | 1, tag: number, off: number, size: number): true {
  borrowAccess(m, a, access, tag, off, size);
  return true;
}

/**
 * An access (`access` 0: a read, 1: a write) through a tagged pointer that passed the memory
 * checks (live, in bounds, aligned, writable), for the memory's borrow hook: the one call of the
 * access path (`load`, `store`, `copy`, `write_bytes`), made only when the allocation is tracked
 * (`a.borrows !== null`) and its fast test did not settle it.
 */
export function borrowAccess(m: Memory, a: Allocation, access: 0 | 1, tag: number, off: number, size: number): void {
  m.borrows?.access(access === 0 ? "read" : "write", a, tag, off, size, m.host.currentSite());
}

// ── atomics: the memory side of an atomic access (a library user's; the checked runtime's
// atomics shim checks orderings and operands first, then does the same) ──

/**
 * The value at `off` of `a` as `layout`, checked initialised and valid (Miri's messages
 * otherwise): the read of an access whose bounds, alignment and borrows are already checked.
 */
export function readInitialised<T>(m: Memory, a: Allocation, off: number, layout: Layout<T>): T {
  if ((a.init === null || a.isInitRanges(off, layout.size, layout.initRanges)) && (layout.invalid === null || layout.invalid(a.view, off, a) === null)) {
    return layout.decode(a.view, off, a);
  }
  return diagnoseLoad(m, a.base + off, a, layout, true);
}

/**
 * The checks of an atomic access of `layout` at `addr` through provenance `a` and tag `tag`:
 * live, in bounds, aligned, writable when `write` (a compare-exchange is checked as a write even
 * when it fails, as in Miri), then the borrow stacks. Returns the allocation (an indirect
 * provenance resolved).
 */
function atomicPlace(m: Memory, addr: number, a: Allocation | null, layout: Layout<unknown>, write: boolean, tag: number): Allocation {
  if (a !== null && a.indirect) m.accessLayout = layout;
  const r = accessRange(m, addr, a, layout.size, layout.align, write);
  if (r === null) throw new RangeError(`kmiri: an atomic access needs a sized layout, not \`${layout.name}\``);
  const off = (placeOff = addressIn(m, addr, a) - r.base);
  if (r.borrows !== null && (write ? r.borrowWrite : r.borrowRead) !== tag) borrowAccess(m, r, write ? 1 : 0, tag, off, layout.size);
  return r;
}

/** The offset in its allocation of the place {@link atomicPlace} checked last. */
let placeOff = 0;

/** Tells the race hook of an atomic access (while it is active). */
function raceAtomic(m: Memory, a: Allocation, off: number, size: number, kind: AtomicAccessKind, ordering: MemoryOrdering): void {
  const races = m.races;
  if (!races.active) return;
  if (races.atomic !== undefined) races.atomic(a, off, size, kind, ordering);
  else if (kind === "load") races.read(a, off, size);
  else races.write(a, off, size);
}

/** An atomic load of `layout` at `addr` with `ordering`. */
export function atomicLoad<T>(m: Memory, addr: number, a: Allocation | null, layout: Layout<T>, ordering: MemoryOrdering, tag: number): T {
  const r = atomicPlace(m, addr, a, layout, false, tag);
  const off = placeOff;
  const v = readInitialised(m, r, off, layout);
  raceAtomic(m, r, off, layout.size, "load", ordering);
  return v;
}

/** An atomic store of `value` as `layout` at `addr` with `ordering`. */
export function atomicStore<T>(m: Memory, addr: number, a: Allocation | null, layout: Layout<T>, value: T, ordering: MemoryOrdering, tag: number): void {
  const r = atomicPlace(m, addr, a, layout, true, tag);
  const off = placeOff;
  raceAtomic(m, r, off, layout.size, "store", ordering);
  write(r, off, layout, value);
}

/** An atomic read-modify-write: stores `f(old)` and returns `old`. */
export function atomicRmw<T>(m: Memory, addr: number, a: Allocation | null, layout: Layout<T>, f: (old: T) => T, ordering: MemoryOrdering, tag: number): T {
  const r = atomicPlace(m, addr, a, layout, true, tag);
  const off = placeOff;
  const old = readInitialised(m, r, off, layout);
  raceAtomic(m, r, off, layout.size, "rmw", ordering);
  write(r, off, layout, f(old));
  return old;
}

/**
 * A strong compare-exchange: when the value equals `expected` (`===`), stores `next` (a
 * read-modify-write with `success`); else it is a load with `failure`. Returns whether it stored
 * and the value it found.
 */
export function compareExchange<T>(
  m: Memory,
  addr: number,
  a: Allocation | null,
  layout: Layout<T>,
  expected: T,
  next: T,
  success: MemoryOrdering,
  failure: MemoryOrdering,
  tag: number,
): { ok: boolean; value: T } {
  const r = atomicPlace(m, addr, a, layout, true, tag);
  const off = placeOff;
  const old = readInitialised(m, r, off, layout);
  const ok = old === expected;
  raceAtomic(m, r, off, layout.size, ok ? "rmw" : "load", ok ? success : failure);
  if (ok) write(r, off, layout, next);
  return { ok, value: old };
}
