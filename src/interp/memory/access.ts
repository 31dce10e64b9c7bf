/**
 * The checked memory operations: every read and write the program makes goes through
 * {@link load} or {@link store}, so they are the hot path of the checked runtime.
 *
 * The fast path is one conjunction over fields of the pointer's own allocation — live, in bounds,
 * aligned, initialised (one `null` test while the allocation is fully initialised), valid (one
 * `null` test for types where every bit pattern is valid) — and then one `DataView` get or set.
 * It allocates nothing, captures nothing and catches nothing. When the conjunction fails, the
 * slow path in `diagnose.ts` re-derives what went wrong in Miri's order and reports it.
 *
 * The provenance *is* the allocation: no lookup by address happens here.
 */
import type { Layout } from "../../shims/layouts.js";
import type { Allocation } from "./allocation.js";
import { diagnoseAccess, diagnoseDealloc, diagnoseLoad, diagnoseOffset, diagnoseReference } from "./diagnose.js";

/**
 * Reads a `layout` value at `addr` through provenance `a`, checking liveness, bounds, alignment
 * (when `aligned`: `read`, not `read_unaligned`), initialisation and validity.
 */
export function load<T>(addr: number, a: Allocation | null, layout: Layout<T>, aligned: boolean): T {
  if (a !== null && a.live) {
    const off = addr - a.base;
    // `addr & (align - 1)` is exact for addresses up to 2^53: ToInt32 keeps the low 32 bits.
    if (
      off >= 0 &&
      off + layout.size <= a.size &&
      (!aligned || (addr & (layout.align - 1)) === 0) &&
      (a.init === null || a.isInit(off, layout.size))
    ) {
      const view = a.view;
      if (layout.invalid === null || layout.invalid(view, off) === null) return layout.decode(view, off);
    }
  }
  return diagnoseLoad(addr, a, layout, aligned);
}

/**
 * Writes `value` as `layout` at `addr` through provenance `a`, checking liveness, bounds,
 * alignment (when `aligned`) and writability; marks the bytes initialised.
 */
export function store<T>(addr: number, a: Allocation | null, layout: Layout<T>, aligned: boolean, value: T): void {
  if (a !== null && a.live && a.writable) {
    const off = addr - a.base;
    const size = layout.size;
    if (off >= 0 && off + size <= a.size && (!aligned || (addr & (layout.align - 1)) === 0)) {
      layout.encode(a.view, off, value);
      if (a.init !== null) a.markInit(off, size);
      return;
    }
  }
  // Reports, unless the write is zero-sized (then there is nothing to write).
  diagnoseAccess(addr, a, layout.size, layout.align, aligned, true);
}

/**
 * Checks an in-bounds offset (`add`, `sub`, `offset`, `byte_add`, …) of `bytes` (signed) from
 * `addr`: both ends must lie within the live allocation (one past the end included). A zero
 * offset is allowed through any pointer.
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
 * size, aligned. (No retag yet: the borrow tracker comes with the memory-model issue.)
 */
export function checkReference(addr: number, a: Allocation | null, layout: Layout<unknown>, mutable: boolean): void {
  if (a !== null && a.live && addr !== 0) {
    const off = addr - a.base;
    if (off >= 0 && off + layout.size <= a.size && (addr & (layout.align - 1)) === 0) return;
  }
  diagnoseReference(addr, a, layout, mutable);
}

/**
 * Checks `bytes` bytes at `addr` for a bulk operation (`copy`, `write_bytes`): live, in bounds,
 * aligned to `align`, and writable when `write`. Returns the offset into the allocation.
 * Initialisation is not checked: a bulk copy carries it along.
 */
export function checkRange(addr: number, a: Allocation | null, bytes: number, align: number, write: boolean): number {
  if (a !== null && a.live && (!write || a.writable)) {
    const off = addr - a.base;
    if (off >= 0 && off + bytes <= a.size && addr % align === 0) return off;
  }
  diagnoseAccess(addr, a, bytes, align, true, write);
  return addr - (a === null ? 0 : a.base);
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
  return diagnoseDealloc(addr, a, size, align, verb);
}
