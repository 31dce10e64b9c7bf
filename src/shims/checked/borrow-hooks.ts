/**
 * Where the checked runtime calls the borrow tracker (the interface is
 * `src/borrowtracker/hooks.ts`; the Machine installs Stacked Borrows, `src/interp/borrows.ts`,
 * unless `--borrow-model none`). Every reference creation goes through {@link retag}, every new
 * allocation (heap, static, local) through {@link rootTag}, every deallocation through
 * {@link trackDealloc}. Reads and writes — through raw pointers, references, locals, statics,
 * boxes, and bulk copies — are checked by the memory access path itself
 * (`interp/memory/access.ts` and `bulk.ts` take the pointer's tag).
 *
 * The Machine exposes its tracker as `borrowTracker` on the host (`ShimHost`); without one each
 * hook is one `null` test.
 *
 * Raw pointers carry their tag (`Ptr.tag`): a reference made from a raw pointer derives from
 * {@link ptrTag}, and {@link taggedPtr} stamps the tag of a raw retag on a pointer made from a reference.
 */
import { UNTAGGED, type AccessKind, type BorTag, type BorrowTracker, type RetagKind, type RetagMode, type RetagRequest } from "../../borrowtracker/hooks.js";
import { current, mem } from "./context.js";
import { accessRange, addressIn } from "../../interp/memory/access.js";
import type { Allocation } from "../../interp/memory/allocation.js";
import type { Layout } from "../../interp/memory/layouts.js";
import { Ptr, provenanceOf, tagOf } from "./memory.js";

/** The running Machine's borrow tracker, or `null` when none is installed. */
export function tracker(): BorrowTracker | null {
  return current.borrowTracker;
}

/** The tag a raw pointer carries (`UNTAGGED`, 0, for a wildcard or when nothing is tracked). */
export function ptrTag(p: Ptr<any>): BorTag {
  return tagOf(p);
}

/**
 * A raw pointer at `addr` with `p`'s provenance, pointing to a `layout`, carrying `tag`: the one
 * place a pointer is made from a reference.
 */
export function taggedPtr<U>(p: Ptr<any>, addr: number, layout: Layout<U>, tag: BorTag): Ptr<U> {
  return new Ptr(addr, provenanceOf(p), layout, tag);
}

/** The root tag of a new allocation (a static, a local) made at the current site. */
export function rootTag(a: Allocation): BorTag {
  const t = tracker();
  return t === null ? UNTAGGED : t.newAllocation(a, current.currentSite());
}

/**
 * A retag: `p`, already checked dereferenceable into allocation `a` (`null`: a zero-sized
 * referent without provenance), becomes a new `kind` pointer derived from `parent`. Returns the
 * new tag (`parent` itself when nothing is tracked).
 */
export function retag(
  kind: RetagKind,
  mutable: boolean,
  p: Ptr<any>,
  a: Allocation | null,
  parent: BorTag,
  mode: RetagMode = "default",
): BorTag {
  const t = tracker();
  if (t === null || a === null) return parent;
  // One request object, refilled: a retag per reference made would otherwise allocate one, and
  // the tracker reads it during the call only (it keeps nothing of it).
  const r = request;
  r.kind = kind;
  r.mode = mode;
  r.mutable = mutable;
  r.alloc = a;
  r.parent = parent;
  r.offset = p.address - a.base;
  r.size = p.layout.size;
  r.interior = p.layout.cells;
  r.site = current.currentSite();
  try {
    return t.retag(r);
  } finally {
    r.alloc = NO_ALLOCATION;
  }
}

/** The request {@link retag} refills (its allocation reset after each call: it keeps nothing alive). */
const NO_ALLOCATION = { id: 0, size: 0 } as unknown as Allocation;
const request: { -readonly [K in keyof RetagRequest]: RetagRequest[K] } = {
  kind: "shared",
  mode: "default",
  mutable: false,
  alloc: NO_ALLOCATION,
  parent: 0,
  offset: 0,
  size: 0,
  interior: null,
  site: -1,
};

/**
 * The tracker's check of an access of `size` bytes through `p` with `tag`, after the basic
 * checks Miri makes first (live, in bounds, aligned, writable for a write). Nothing without a
 * tracker. (Loads and stores check their tag themselves; this is for accesses that are neither.)
 */
export function trackAccess(kind: AccessKind, p: Ptr<any>, tag: BorTag, size: number): void {
  const t = tracker();
  if (t === null) return;
  const prov = provenanceOf(p);
  const a = accessRange(mem, p.address, prov, size, p.layout.align, kind === "write");
  if (size !== 0 && a !== null) t.access(kind, a, tag, addressIn(mem, p.address, prov) - a.base, size, current.currentSite());
}

/** The tracker's view of a deallocation of `a` through `tag` (a local dying) at `site`. */
export function trackDealloc(a: Allocation, tag: BorTag, site: number): void {
  const t = tracker();
  if (t !== null) t.deallocate(a, tag, site);
}
