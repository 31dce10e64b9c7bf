/**
 * The borrow stack of one location (Miri's `Stack`, `stack.rs` plus the core rules of
 * `stacked_borrows/mod.rs`): which tags may access the location, and how each access, retag and
 * deallocation changes that.
 *
 * ## The rules
 *
 * The stack lists items bottom to top. Invariants: above a `SharedReadOnly` there are only more
 * `SharedReadOnly`; a tag occurs at most once.
 *
 * - **Access** through a tag: find the *granting item*, the item of that tag whose permission
 *   grants the access, searching from the top. None: undefined behaviour. Then
 *   - a **write** pops every item above the granting one, except, when the granting item is a
 *     `SharedReadWrite`, the block of `SharedReadWrite` directly above it (they share the
 *     location with it);
 *   - a **read** pops nothing but turns every `Unique` above the granting item into `Disabled`
 *     (popping would also remove the `SharedReadWrite` of a raw pointer made from that `&mut`, and
 *     removing instead of disabling would join two separate `SharedReadWrite` blocks).
 *   Every item removed or disabled is checked against its protector (the host's
 *   {@link StackHost.invalidated}).
 * - **Retag** (grant) of a new item derived from a parent tag: a new `Unique` or
 *   `SharedReadOnly` first performs a write or read access with the parent, then goes on top; a new
 *   `SharedReadWrite` (raw pointers, `&Cell`) is no access: it goes just above the
 *   `SharedReadWrite` block of the item that grants the parent write access, below any
 *   `SharedReadOnly`, so existing shared references stay valid.
 * - **Deallocation**: a write access with the tag (the items it pops are checked like any
 *   access's), then every remaining item is checked as if removed by the deallocation: a weak
 *   protector allows that (a `Box` argument freed through itself), a strong one does not.
 * - **Wildcards and the unknown bottom**: a wildcard access may use any item whose tag was exposed.
 *   Since nobody knows which one it really used, afterwards the stack forgets everything it knew:
 *   it becomes an *unknown bottom* "some items with tags below N" (N = 1 + the largest tag still
 *   usable) and an empty known part on top. A concrete tag not in the known part is then granted
 *   if it is below N (it may be down there), and the stack is forgotten again. This errs on the
 *   side of accepting programs, as Miri does.
 *
 * ## Speed
 *
 * Items are pairs of small integers (tag, permission bits) interleaved in one array per stack,
 * not objects; the stack keeps its used size itself, so a pop is a decrement and an insert fills
 * spare room (a split allocation has one stack per run: their memory is what a large array under
 * many borrows costs). Finding the granting item checks the top item first (the tag just created
 * is almost always the one used next), then a small most-recently-used cache of (tag, index)
 * pairs, kept only for stacks taller than {@link CACHE_THRESHOLD} and checked against the items
 * before use, and only then scans. A range bounding where `Unique` items can be makes the
 * "disable the Uniques above" step of a read O(1) when there are none. {@link Stack.isNoop}
 * answers, without changing anything, whether an access would leave the stack as it is, so a
 * caller can avoid splitting a range map. What stays linear in the height of the stack, as in
 * Miri: a search for a tag that is not cached, and finding the end of a `SharedReadWrite` block
 * (a stack of nothing but `SharedReadWrite`, miri#3735); the tag GC ({@link Stack.retain}) keeps
 * both short.
 */
import type { BorTag, TagSet } from "../tags.js";
import {
  DISABLED,
  formatItem,
  grants,
  permissionName,
  PERMISSION_MASK,
  MAYBE_PROTECTED,
  READ,
  SHARED_READ_WRITE,
  UNIQUE,
  WRITE,
  type AccessCode,
  type ItemView,
} from "./item.js";

/** What a stack needs from its allocation and tracker while it applies an operation. */
export interface StackHost {
  /** The tags exposed in this allocation (which wildcard accesses may use), or `null` if none. */
  readonly exposed: ReadonlySet<BorTag> | null;
  /** A strict upper bound of every tag handed out so far (the bound of a fully unknown stack). */
  nextTag(): BorTag;
  /**
   * An item is being removed or disabled (`dealloc`: because its memory is being freed, after
   * the deallocation's own write access). Returns `false` when its protector forbids that: the
   * operation then stops with {@link PROTECTED}.
   */
  invalidated(tag: BorTag, bits: number, dealloc: boolean): boolean;
}

/** Result of a stack operation: it was allowed. */
export const OK = 0;
/** Result of a stack operation: no item grants the access to the tag (undefined behaviour). */
export const NOT_GRANTED = 1;
/** Result of a stack operation: it would remove a protected item (undefined behaviour). */
export const PROTECTED = 2;

/** The result of a stack operation: {@link OK}, {@link NOT_GRANTED} or {@link PROTECTED}. */
export type StackStatus = typeof OK | typeof NOT_GRANTED | typeof PROTECTED;

/** {@link Stack.findGranting}: the tag matched the unknown bottom. */
export const MATCHED_UNKNOWN = -1;
/** {@link Stack.findGranting}: no item grants the access. */
export const NOT_FOUND = -2;

/** "No retag access": a new `SharedReadWrite` is inserted without an access ({@link Stack.grant}). */
export const NO_ACCESS = -1;

/** Number of (tag, index) pairs a stack's lookup cache remembers. */
const CACHE_LEN = 8;
/** Stacks up to this height are scanned directly; taller ones get a lookup cache. */
export const CACHE_THRESHOLD = 12;
/**
 * Spare items a stack's array gets when it must grow (at least; big stacks grow by half). The
 * stack keeps its used size itself, so pops are a decrement and inserts fill the spare room: the
 * engine's own growth of a pushed array (half its size plus 16 slots) would quadruple the memory
 * of the many small stacks of a split allocation, and copying at every insert would make garbage.
 */
const SPARE_ITEMS = 2;

/** {@link Stack}'s `srwFrom` when nothing is known of the `SharedReadWrite` block at the top. */
const UNKNOWN_SRW = 2 ** 31;

/** The borrow stack of one location (one run of locations in the range map). */
export class Stack {
  /**
   * The known items, bottom first, interleaved: `slots[2i]` is the tag of item `i` and
   * `slots[2i + 1]` its permission bits (permission | {@link MAYBE_PROTECTED}). Only the first
   * `used` slots count; the rest is spare room. One array per stack, not two: a split allocation
   * has one stack per run.
   */
  private slots: number[];
  /** Slots in use: twice the number of known items. */
  private used: number;
  /** 0, or N: below the known items lie unknown items whose tags are all below N. */
  private unknownBottom: number;
  /** `[uniqueStart, uniqueEnd)` (item indices) contains every `Unique` item (it may be larger). */
  private uniqueStart: number;
  private uniqueEnd: number;
  /** Lookup cache, most recent first, interleaved: tag (0 = empty slot), item index when cached. */
  private cache: number[] | null = null;
  /**
   * Every item from this index to the top is a `SharedReadWrite` (a hint: {@link UNKNOWN_SRW}
   * when not known). A location behind `UnsafeCell` or an atomic piles up shared reborrows, all
   * `SharedReadWrite`: a new one goes above that block (Miri's rule), and without the hint
   * finding its end would scan the whole stack at every reborrow.
   */
  private srwFrom = UNKNOWN_SRW;

  private constructor(slots: number[], used: number, unknownBottom: number, uniqueStart: number, uniqueEnd: number) {
    this.slots = slots;
    this.used = used;
    this.unknownBottom = unknownBottom;
    this.uniqueStart = uniqueStart;
    this.uniqueEnd = uniqueEnd;
  }

  /** A stack holding one item: the root tag of an allocation with permission `perm`. */
  static withRoot(tag: BorTag, perm: typeof UNIQUE | typeof SHARED_READ_WRITE): Stack {
    const slots = [tag, perm, 0, 0, 0, 0]; // room for SPARE_ITEMS more
    return perm === UNIQUE ? new Stack(slots, 2, 0, 0, 1) : new Stack(slots, 2, 0, 0, 0);
  }

  /** The number of known items. */
  get length(): number {
    return this.used >> 1;
  }

  /** 0 when the whole stack is known, else N: unknown items with tags below N lie below the known ones. */
  get unknownBound(): number {
    return this.unknownBottom;
  }

  /** The tag of item `i` (0 = bottom of the known part). */
  tagAt(i: number): BorTag {
    return this.slots[2 * i]!;
  }

  /** The permission bits of item `i`. */
  bitsAt(i: number): number {
    return this.slots[2 * i + 1]!;
  }

  /**
   * A copy that can change independently (the lookup cache is not copied). It gets room for
   * {@link SPARE_ITEMS} more items: a stack is cloned when a range is split, to be changed.
   */
  clone(): Stack {
    const n2 = this.used;
    const it = this.slots;
    // The spare slots stay holes until an insert writes them: nothing reads beyond `used`.
    const copy = new Array<number>(n2 + 2 * SPARE_ITEMS);
    for (let k = 0; k < n2; k++) copy[k] = it[k]!;
    const c = new Stack(copy, n2, this.unknownBottom, this.uniqueStart, this.uniqueEnd);
    c.srwFrom = this.srwFrom;
    return c;
  }

  /** Same items and same unknown bottom (caches are ignored). Compares from the top, where stacks differ. */
  equals(other: Stack): boolean {
    if (this === other) return true;
    const n2 = this.used;
    if (n2 !== other.used || this.unknownBottom !== other.unknownBottom) return false;
    const a = this.slots;
    const b = other.slots;
    for (let i = n2 - 1; i >= 0; i--) if (a[i] !== b[i]) return false;
    return true;
  }

  /** Whether some item of `tag` grants anything (decides "only grants SharedReadOnly" vs "does not exist"). */
  hasUsableItem(tag: BorTag): boolean {
    const it = this.slots;
    for (let i = this.used - 2; i >= 0; i -= 2) {
      if (it[i] === tag && (it[i + 1]! & PERMISSION_MASK) !== DISABLED) return true;
    }
    return false;
  }

  /** The known items, bottom first. */
  items(): ItemView[] {
    const out: ItemView[] = [];
    const it = this.slots;
    for (let i = 0; i < this.used; i += 2) {
      out.push({ tag: it[i]!, permission: permissionName(it[i + 1]!), protected: (it[i + 1]! & MAYBE_PROTECTED) !== 0 });
    }
    return out;
  }

  /** Miri's `print_stacks` form: `[ unknown-bottom(..<9>) SharedReadWrite<1> Unique<2> ]`. */
  toString(): string {
    let s = "[";
    if (this.unknownBottom !== 0) s += ` unknown-bottom(..<${this.unknownBottom}>)`;
    const it = this.slots;
    for (let i = 0; i < this.used; i += 2) s += ` ${permissionName(it[i + 1]!)}<${it[i]}>`;
    return s + " ]";
  }

  /** The items as Miri prints them in messages: `[Unique for <2>], …`. */
  describeItems(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.used; i += 2) out.push(formatItem(this.slots[i]!, this.slots[i + 1]!));
    return out;
  }

  // ---------------------------------------------------------------- finding the granting item

  /**
   * Where the item granting `access` to `tag` is: its index in the known part,
   * {@link MATCHED_UNKNOWN} when it may be in the unknown bottom, or {@link NOT_FOUND}. For a
   * wildcard (tag 0) the index is the topmost exposed item that grants the access.
   */
  findGranting(access: AccessCode, tag: BorTag, exposed: ReadonlySet<BorTag> | null): number {
    const it = this.slots;
    const n2 = this.used;
    if (tag === 0) {
      if (exposed !== null) {
        for (let i = n2 - 2; i >= 0; i -= 2) if (grants(it[i + 1]!, access) && exposed.has(it[i]!)) return i >> 1;
      }
      return this.unknownBottom !== 0 ? MATCHED_UNKNOWN : NOT_FOUND;
    }
    // A tag occurs at most once, so the item of the tag either grants the access or nothing does.
    const i = n2 > 0 && it[n2 - 2] === tag ? (n2 >> 1) - 1 : this.indexOf(tag);
    if (i >= 0 && grants(it[2 * i + 1]!, access)) return i;
    return this.unknownBottom !== 0 && tag < this.unknownBottom ? MATCHED_UNKNOWN : NOT_FOUND;
  }

  /** The index of `tag` in the known part, or -1: the cache first (tall stacks), then a scan from the top. */
  private indexOf(tag: BorTag): number {
    const it = this.slots;
    const n = this.used >> 1;
    if (n <= CACHE_THRESHOLD) {
      for (let i = n - 1; i >= 0; i--) if (it[2 * i] === tag) return i;
      return -1;
    }
    let c = this.cache;
    if (c === null) c = this.cache = new Array<number>(2 * CACHE_LEN).fill(0);
    for (let k = 0; k < 2 * CACHE_LEN; k += 2) {
      if (c[k] !== tag) continue;
      const i = c[k + 1]!;
      if (i < n && it[2 * i] === tag) {
        if (k !== 0) this.cacheUse(k, tag, i);
        return i;
      }
      c[k] = 0; // stale (the item moved or went): forget it and scan
      break;
    }
    for (let i = n - 1; i >= 0; i--) {
      if (it[2 * i] === tag) {
        this.cacheUse(2 * CACHE_LEN - 2, tag, i);
        return i;
      }
    }
    return -1;
  }

  /** Moves the cache entry at slot `k` (or a new entry that replaces the last one) to the front. */
  private cacheUse(k: number, tag: BorTag, index: number): void {
    const c = this.cache!;
    for (let j = k; j > 0; j -= 2) {
      c[j] = c[j - 2]!;
      c[j + 1] = c[j - 1]!;
    }
    c[0] = tag;
    c[1] = index;
  }

  /** Forgets every cached position. */
  private cacheClear(): void {
    if (this.cache !== null) this.cache.fill(0);
  }

  /**
   * The height the stack is cut to when item `granting` grants a write: just above it for a
   * `Unique`; above the block of `SharedReadWrite` directly over it for a `SharedReadWrite`.
   */
  private firstWriteIncompatible(granting: number): number {
    const it = this.slots;
    if ((it[2 * granting + 1]! & PERMISSION_MASK) === UNIQUE) return granting + 1;
    const n = this.used >> 1;
    if (granting + 1 >= this.srwFrom) return n;
    let i = granting + 1;
    while (i < n && (it[2 * i + 1]! & PERMISSION_MASK) === SHARED_READ_WRITE) i++;
    if (i === n) this.srwFrom = granting + 1;
    return i;
  }

  // ---------------------------------------------------------------- the operations

  /**
   * Whether an access of `access` with concrete `tag` is granted and would change nothing (no item
   * to pop or disable, no unknown bottom involved). Changes nothing but the lookup cache.
   */
  isNoop(access: AccessCode, tag: BorTag, exposed: ReadonlySet<BorTag> | null): boolean {
    if (tag === 0) return false;
    const g = this.findGranting(access, tag, exposed);
    if (g < 0) return false;
    const n = this.used >> 1;
    if (access === WRITE) return this.firstWriteIncompatible(g) === n;
    const hi = this.uniqueEnd < n ? this.uniqueEnd : n;
    for (let i = g + 1 > this.uniqueStart ? g + 1 : this.uniqueStart; i < hi; i++) {
      if ((this.slots[2 * i + 1]! & PERMISSION_MASK) === UNIQUE) return false;
    }
    return true;
  }

  /**
   * An access of kind `access` through `tag` (0: a wildcard): finds the granting item, then pops
   * (write) or disables (read) what the rules say, checking protectors through `host`.
   */
  access(access: AccessCode, tag: BorTag, host: StackHost): StackStatus {
    const g = this.findGranting(access, tag, host.exposed);
    if (g === NOT_FOUND) return NOT_GRANTED;
    // With a wildcard the index is approximate; any lower one would remove more, and an access
    // in the unknown part removes every known item (there is a block boundary below them).
    const status =
      access === WRITE
        ? this.popFrom(g >= 0 ? this.firstWriteIncompatible(g) : 0, host)
        : this.disableUniquesFrom(g >= 0 ? g + 1 : 0, host);
    if (status !== OK) return status;
    if (g === MATCHED_UNKNOWN || tag === 0) this.forgetKnownItems();
    return OK;
  }

  /**
   * A retag: derives a new item (`newTag` with permission bits `newBits`) from `parent`. With
   * `access` ({@link READ} or {@link WRITE}) that access is made with the parent and the item goes
   * on top; with {@link NO_ACCESS} (a new `SharedReadWrite`) it goes above the `SharedReadWrite`
   * block of the item granting the parent writes, or, if the parent is a wildcard or matched the
   * unknown bottom, the whole stack becomes unknown (below `host.nextTag()`, so the new tag is in it).
   */
  grant(parent: BorTag, newTag: BorTag, newBits: number, access: AccessCode | typeof NO_ACCESS, host: StackHost): StackStatus {
    if (access !== NO_ACCESS) {
      const status = this.access(access, parent, host);
      if (status !== OK) return status;
      this.insert(this.used >> 1, newTag, newBits);
      return OK;
    }
    const g = this.findGranting(WRITE, parent, host.exposed);
    if (g === NOT_FOUND) return NOT_GRANTED;
    if (g === MATCHED_UNKNOWN || parent === 0) {
      this.setUnknownBottom(host.nextTag());
      return OK;
    }
    this.insert(this.firstWriteIncompatible(g), newTag, newBits);
    return OK;
  }

  /**
   * A deallocation through `tag`: a write access (whose victims are checked like any access's),
   * then every remaining item is checked as if removed by a deallocation.
   */
  dealloc(tag: BorTag, host: StackHost): StackStatus {
    const status = this.access(WRITE, tag, host);
    if (status !== OK) return status;
    const it = this.slots;
    for (let i = this.used - 2; i >= 0; i -= 2) {
      if (!host.invalidated(it[i]!, it[i + 1]!, true)) return PROTECTED;
    }
    return OK;
  }

  /**
   * Garbage collection: removes the items of tags not in `live`, where that changes nothing a
   * live tag can observe (Miri's `Stack::retain`). The bottom item stays; a `SharedReadWrite` goes
   * when its tag is dead; a `Disabled` stays only if it ends a `SharedReadWrite` block; a dead
   * `Unique` or `SharedReadOnly` stays only if it ends a `SharedReadWrite` block. Returns whether
   * anything was removed.
   */
  retain(live: TagSet): boolean {
    const it = this.slots;
    const n2 = this.used;
    if (n2 <= 2) return false;
    let w = 2;
    let leftBits = it[1]!; // the original left neighbour of the item considered
    for (let r = 2; r < n2; r += 2) {
      const tag = it[r]!;
      const bits = it[r + 1]!;
      const p = bits & PERMISSION_MASK;
      const afterSrw = (leftBits & PERMISSION_MASK) === SHARED_READ_WRITE;
      const keep = p === SHARED_READ_WRITE ? live.has(tag) : p === DISABLED ? afterSrw : afterSrw || live.has(tag);
      leftBits = bits;
      if (keep) {
        if (w !== r) {
          it[w] = tag;
          it[w + 1] = bits;
        }
        w += 2;
      }
    }
    if (w === n2) return false;
    this.used = w;
    // Give the memory of a stack that shrank a lot back.
    if (it.length > 64 && 4 * w < it.length) this.slots = it.slice(0, w + 2 * SPARE_ITEMS);
    if (this.uniqueStart < this.uniqueEnd) {
      this.uniqueStart = 0;
      this.uniqueEnd = w >> 1;
    }
    this.srwFrom = UNKNOWN_SRW;
    this.cacheClear();
    return true;
  }

  // ---------------------------------------------------------------- primitive edits

  /** Inserts an item at `index`, keeping the `Unique` range and the cache right. */
  private insert(index: number, tag: BorTag, bits: number): void {
    let it = this.slots;
    const n2 = this.used;
    const at = 2 * index;
    if (n2 + 2 > it.length) {
      // Grow: room for SPARE_ITEMS more, or half the size more for big stacks.
      const grown = new Array<number>(n2 + 2 + Math.max(2 * SPARE_ITEMS, n2 >> 1));
      for (let k = 0; k < n2; k++) grown[k] = it[k]!;
      it = this.slots = grown;
    }
    for (let k = n2 - 1; k >= at; k--) it[k + 2] = it[k]!;
    it[at] = tag;
    it[at + 1] = bits;
    this.used = n2 + 2;
    if (at !== n2) {
      const c = this.cache;
      if (c !== null) for (let k = 1; k < 2 * CACHE_LEN; k += 2) if (c[k]! >= index) c[k] = c[k]! + 1;
    }
    if (this.uniqueStart >= index) this.uniqueStart++;
    if (this.uniqueEnd >= index) this.uniqueEnd++;
    const srw = (bits & PERMISSION_MASK) === SHARED_READ_WRITE;
    if (at === n2) {
      // On top: a `SharedReadWrite` extends the block (or starts one); anything else ends it.
      if (!srw) this.srwFrom = index + 1;
      else if (this.srwFrom > index) this.srwFrom = index;
    } else if (this.srwFrom !== UNKNOWN_SRW) {
      // Inside: the items from `srwFrom` moved up one; an item inside the block that is no
      // `SharedReadWrite` cuts it there.
      if (index < this.srwFrom) this.srwFrom++;
      else if (!srw) this.srwFrom = index + 1;
    }
    if ((bits & PERMISSION_MASK) === UNIQUE) {
      if (this.uniqueStart >= this.uniqueEnd) {
        this.uniqueStart = index;
        this.uniqueEnd = index + 1;
      } else {
        if (index < this.uniqueStart) this.uniqueStart = index;
        if (index + 1 > this.uniqueEnd) this.uniqueEnd = index + 1;
      }
    }
    if (at !== n2 && this.cache !== null) this.cacheUse(2 * CACHE_LEN - 2, tag, index);
  }

  /** Pops every item at `start` and above, top first, asking the host about each. */
  private popFrom(start: number, host: StackHost): StackStatus {
    const it = this.slots;
    let n2 = this.used;
    let status: StackStatus = OK;
    while (n2 > 2 * start) {
      n2 -= 2;
      if (!host.invalidated(it[n2]!, it[n2 + 1]!, false)) {
        status = PROTECTED;
        break;
      }
    }
    this.used = n2;
    // The cache needs nothing: a popped tag's entry no longer matches the items.
    const n = n2 >> 1;
    if (this.srwFrom > n && this.srwFrom !== UNKNOWN_SRW) this.srwFrom = n;
    if (n <= this.uniqueStart) this.uniqueStart = this.uniqueEnd = 0;
    else if (this.uniqueEnd > n) this.uniqueEnd = n;
    return status;
  }

  /** Disables every `Unique` at `start` and above, bottom first, asking the host about each. */
  private disableUniquesFrom(start: number, host: StackHost): StackStatus {
    const it = this.slots;
    const n = this.used >> 1;
    const hi = this.uniqueEnd < n ? this.uniqueEnd : n;
    for (let i = start > this.uniqueStart ? start : this.uniqueStart; i < hi; i++) {
      const bits = it[2 * i + 1]!;
      if ((bits & PERMISSION_MASK) !== UNIQUE) continue;
      if (!host.invalidated(it[2 * i]!, bits, false)) return PROTECTED;
      it[2 * i + 1] = (bits & ~PERMISSION_MASK) | DISABLED;
    }
    if (start <= this.uniqueStart) this.uniqueStart = this.uniqueEnd = 0;
    else if (this.uniqueEnd > start) this.uniqueEnd = start;
    return OK;
  }

  /**
   * After a wildcard access or one that matched the unknown bottom: forget the known items,
   * keeping as bound 1 + the largest tag that could still be used (or the old bound).
   */
  private forgetKnownItems(): void {
    let max = 1;
    const it = this.slots;
    for (let i = 0; i < this.used; i += 2) {
      if ((it[i + 1]! & PERMISSION_MASK) !== DISABLED && it[i]! + 1 > max) max = it[i]! + 1;
    }
    this.setUnknownBottom(max > this.unknownBottom ? max : this.unknownBottom);
  }

  /** Makes the whole stack unknown: items with tags below `bound`, none known. */
  private setUnknownBottom(bound: BorTag): void {
    this.used = 0;
    this.unknownBottom = bound;
    this.uniqueStart = this.uniqueEnd = 0;
    this.srwFrom = 0;
    this.cacheClear();
  }
}
