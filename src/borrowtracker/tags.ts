/**
 * Borrow tags: the name of one pointer's right to memory. Every allocation gets a root tag when it
 * is made, and every retag (a reference or raw pointer derived from another) a fresh one, drawn
 * from one counter per tracker so that tags are unique across allocations and increase with time
 * (the "unknown bottom" of a stack relies on that order). Tags print as `<12>`, as in Miri.
 */

/** A borrow tag: a positive integer below 2^53. */
export type BorTag = number;

/**
 * The tag of a pointer whose provenance is a *wildcard*: an address turned back into a pointer
 * (`ptr_from_exposed`), which may use any tag of the allocation that was exposed. The value 0 is
 * never a real tag (it is also `UNTAGGED` in `hooks.ts`).
 */
export const WILDCARD = 0;

/** A pointer's tag as the API takes it: a real tag, or `"wildcard"` (or {@link WILDCARD}). */
export type TagOrWildcard = BorTag | "wildcard";

/** The tag `t` as the trackers use it internally: `"wildcard"` becomes {@link WILDCARD}. */
export function tagValue(t: TagOrWildcard): BorTag {
  return t === "wildcard" ? WILDCARD : t;
}

/** `<12>`, or `<wildcard>` for {@link WILDCARD}: how Miri prints a tag. */
export function formatTag(tag: TagOrWildcard): string {
  return tag === WILDCARD || tag === "wildcard" ? "<wildcard>" : `<${tag}>`;
}

/** A set of tags, as the garbage collector reads it (a `Set<number>` is one). */
export interface TagSet {
  /** Whether `tag` is in the set. */
  has(tag: BorTag): boolean;
}

/** Hands out fresh tags, in increasing order, starting at 1. */
export class TagAllocator {
  private nextTag: BorTag = 1;

  /** A fresh tag. */
  next(): BorTag {
    return this.nextTag++;
  }

  /** The tag {@link TagAllocator.next} will return next (a strict upper bound of every tag so far). */
  peek(): BorTag {
    return this.nextTag;
  }
}
