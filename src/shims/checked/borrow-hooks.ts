/**
 * Where the checked runtime calls the borrow tracker (the interface is
 * `src/borrowtracker/hooks.ts`). Every reference creation goes through {@link retag}, every access
 * through a reference or a directly used local through {@link trackAccess}, every new static or
 * local through {@link rootTag}, a local dying through {@link trackDealloc}.
 *
 * No tracker is installed yet (Stacked Borrows is the next issue): the Machine exposes one as
 * `borrowTracker` on the host when it has one, and until then each hook is one `null` test.
 *
 * Raw pointers do not carry a tag yet (the `Ptr` of memory.ts is address + allocation): a
 * reference made from a raw pointer derives from {@link ptrTag}, which reads a `tag` field when
 * `Ptr` grows one and is `UNTAGGED` until then, and {@link taggedPtr} is the one place that
 * will stamp a tag on a raw pointer made from a reference.
 */
import { UNTAGGED, type AccessKind, type BorTag, type BorrowTracker, type RetagKind, type RetagMode } from "../../borrowtracker/hooks.js";
import { current } from "../../interp/host.js";
import { accessRange } from "../../interp/memory/access.js";
import type { Allocation } from "../../interp/memory/allocation.js";
import type { Layout } from "../layouts.js";
import { Ptr } from "./memory.js";

/** A host that may carry a borrow tracker (the Machine, once Stacked Borrows exists). */
interface TrackingHost {
  readonly borrowTracker?: BorrowTracker | null;
}

/** The running Machine's borrow tracker, or `null` when none is installed. */
export function tracker(): BorrowTracker | null {
  return (current as unknown as TrackingHost).borrowTracker ?? null;
}

/** The tag a raw pointer carries (`UNTAGGED` until `Ptr` has a `tag` field). */
export function ptrTag(p: Ptr<any>): BorTag {
  return (p as unknown as { readonly tag?: BorTag }).tag ?? UNTAGGED;
}

/**
 * A raw pointer at `addr` with `p`'s provenance, pointing to a `layout`, carrying `tag`. The one
 * place a pointer is made from a reference: when `Ptr` carries tags, the tag goes on here.
 */
export function taggedPtr<U>(p: Ptr<any>, addr: number, layout: Layout<U>, _tag: BorTag): Ptr<U> {
  return new Ptr(addr, p.provenance, layout);
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
  return t.retag({
    kind,
    mode,
    mutable,
    alloc: a,
    parent,
    offset: p.address - a.base,
    size: p.layout.size,
    interior: p.layout.cells,
    site: current.currentSite(),
  });
}

/**
 * The tracker's check of an access of `size` bytes through `p` with `tag`, after the basic
 * checks Miri makes first (live, in bounds, aligned, writable for a write). Nothing without a tracker.
 */
export function trackAccess(kind: AccessKind, p: Ptr<any>, tag: BorTag, size: number): void {
  const t = tracker();
  if (t === null) return;
  const a = accessRange(p.address, p.provenance, size, p.layout.align, kind === "write");
  if (size !== 0 && a !== null) t.access(kind, a, tag, p.address - a.base, size, current.currentSite());
}

/** The tracker's view of a deallocation of `a` through `tag` (a local dying) at `site`. */
export function trackDealloc(a: Allocation, tag: BorTag, site: number): void {
  const t = tracker();
  if (t !== null) t.deallocate(a, tag, site);
}
