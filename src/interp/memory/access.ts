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
 * While several threads exist (`races.active`), a checked access is also a non-atomic read or
 * write for the data-race detector (src/interp/races.ts); otherwise that costs one property load.
 *
 * Every access names the pointer's borrow tag: when the allocation is tracked by Stacked Borrows
 * (`a.borrows`), the access is checked against its borrow stacks (src/interp/borrows.ts) after
 * the bounds and before initialisation, unless the allocation's fast test says the tag's access
 * changes nothing (`borrowRead`/`borrowWrite`: one comparison).
 *
 * The provenance *is* the allocation: no lookup by address happens here. A wildcard pointer (from
 * `ptr_from_exposed`) carries {@link WILDCARD}, which is never live: it always takes the slow
 * path, which looks the exposed allocation up and comes back here with it.
 */
import type { Layout } from "./layouts.js";
import type { Allocation } from "./allocation.js";
import { WILDCARD } from "./allocation.js";
import { raceRead, raceWrite, races } from "../races.js";
import { borrowAccess } from "../borrows.js";
import {
  diagnoseAccess,
  diagnoseDealloc,
  diagnoseLoad,
  diagnoseOffset,
  diagnoseReference,
  resolveWildcard,
} from "./diagnose.js";

/**
 * Reads a `layout` value at `addr` through provenance `a` and borrow tag `tag`, checking
 * liveness, bounds, alignment (when `aligned`: `read`, not `read_unaligned`), the borrow stacks
 * (Stacked Borrows, when the allocation is tracked), initialisation and validity — Miri's order.
 */
export function load<T>(addr: number, a: Allocation | null, layout: Layout<T>, aligned: boolean, tag: number): T {
  if (a !== null && a.live) {
    const off = addr - a.base;
    // `addr & (align - 1)` is exact for addresses up to 2^53: ToInt32 keeps the low 32 bits.
    if (
      off >= 0 &&
      off + layout.size <= a.size &&
      (!aligned || (addr & (layout.align - 1)) === 0) &&
      (a.borrows === null || a.borrowRead === tag || borrowChecked(a, 0, tag, off, layout.size)) &&
      (a.init === null || a.isInitRanges(off, layout.size, layout.initRanges))
    ) {
      const view = a.view;
      if (layout.invalid === null || layout.invalid(view, off, a) === null) {
        // Several threads exist: a non-atomic read for the race detector (src/interp/races.ts).
        if (races.active) raceRead(a, off, layout.size);
        return layout.decode(view, off, a);
      }
    }
  }
  return diagnoseLoad(addr, a, layout, aligned);
}

/**
 * Writes `value` as `layout` at `addr` through provenance `a` and borrow tag `tag`, checking
 * liveness, bounds, alignment (when `aligned`), writability and the borrow stacks; marks the
 * bytes initialised (a struct's padding uninitialised) and keeps the provenance of the pointers
 * written.
 */
export function store<T>(addr: number, a: Allocation | null, layout: Layout<T>, aligned: boolean, value: T, tag: number): void {
  if (a !== null && a.live && a.writable) {
    const off = addr - a.base;
    const size = layout.size;
    if (off >= 0 && off + size <= a.size && (!aligned || (addr & (layout.align - 1)) === 0)) {
      if (a.borrows !== null && a.borrowWrite !== tag) borrowAccess(a, 1, tag, off, size);
      if (races.active) raceWrite(a, off, size);
      write(a, off, layout, value);
      return;
    }
  }
  storeSlow(addr, a, layout, aligned, value, tag);
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

/** The slow path of {@link store}: a wildcard is resolved and the store retried; anything else is reported. */
function storeSlow<T>(addr: number, a: Allocation | null, layout: Layout<T>, aligned: boolean, value: T, tag: number): void {
  if (a === WILDCARD) {
    store(addr, resolveWildcard(addr, layout.size), layout, aligned, value, tag);
    return;
  }
  // Reports, unless the write is zero-sized (then there is nothing to write).
  diagnoseAccess(addr, a, layout.size, layout.align, aligned, true);
}

/**
 * Checks an in-bounds offset (`add`, `sub`, `offset`, `byte_add`, a field or element projection)
 * of `bytes` (signed) from `addr`: both ends must lie within the live allocation (one past the
 * end included). A zero offset is allowed through any pointer.
 */
export function checkOffset(addr: number, a: Allocation | null, bytes: number): void {
  if (bytes === 0) return;
  if (a !== null && a.live) {
    const off = addr - a.base;
    const end = off + bytes;
    if (off >= 0 && end >= 0 && off <= a.size && end <= a.size) return;
  }
  diagnoseOffset(addr, a, bytes);
}

/**
 * Checks that a reference to `layout` may be made at `addr`: non-null, dereferenceable for its
 * size, aligned. Returns the allocation it points into — for a wildcard pointer, the exposed
 * allocation found at `addr` — or `null` for a zero-sized referent without provenance.
 */
export function checkReference(addr: number, a: Allocation | null, layout: Layout<unknown>, mutable: boolean): Allocation | null {
  if (a !== null && a.live && addr !== 0) {
    const off = addr - a.base;
    if (off >= 0 && off + layout.size <= a.size && (addr & (layout.align - 1)) === 0) return a;
  }
  const r = a === WILDCARD ? resolveWildcard(addr, layout.size) : a;
  diagnoseReference(addr, r, layout, mutable);
  return r;
}

/**
 * Checks `bytes` bytes at `addr` for a bulk operation (`copy`, `write_bytes`): live, in bounds,
 * aligned to `align`, and writable when `write`. Returns the allocation to operate on (for a
 * wildcard pointer, the exposed allocation found at `addr`; `null` only when `bytes` is 0 and
 * there is none). Initialisation is not checked: a bulk copy carries it along.
 */
export function accessRange(addr: number, a: Allocation | null, bytes: number, align: number, write: boolean): Allocation | null {
  if (a !== null && a.live && (!write || a.writable)) {
    const off = addr - a.base;
    if (off >= 0 && off + bytes <= a.size && addr % align === 0) return a;
  }
  const r = a === WILDCARD ? resolveWildcard(addr, bytes) : a;
  diagnoseAccess(addr, r, bytes, align, true, write);
  return r;
}

/**
 * {@link accessRange}, returning the offset of `addr` in the allocation instead (kept for the
 * callers that know the pointer's allocation; a wildcard pointer needs {@link accessRange}).
 */
export function checkRange(addr: number, a: Allocation | null, bytes: number, align: number, write: boolean): number {
  const r = accessRange(addr, a, bytes, align, write);
  return addr - (r === null ? 0 : r.base);
}

/**
 * Checks a deallocation of `addr` as a heap block of `size` bytes aligned to `align` (`dealloc`,
 * `Box::drop`; `verb` "reallocating" for `realloc`) and returns the allocation to free.
 */
export function checkDealloc(
  addr: number,
  a: Allocation | null,
  size: number,
  align: number,
  verb: "deallocating" | "reallocating",
): Allocation {
  if (a !== null && a.live && addr === a.base && a.kind === "heap" && a.size === size && a.align === align) return a;
  if (a === WILDCARD) return checkDealloc(addr, resolveWildcard(addr, 0), size, align, verb);
  return diagnoseDealloc(addr, a, size, align, verb);
}

/**
 * {@link borrowAccess} as a term of the load path's conjunction: the borrow stacks are checked
 * after bounds and alignment and before initialisation, as Miri orders them (a finding throws).
 */
function borrowChecked(a: Allocation, access: 0 | 1, tag: number, off: number, size: number): true {
  borrowAccess(a, access, tag, off, size);
  return true;
}
