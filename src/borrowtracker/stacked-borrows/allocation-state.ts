/**
 * The Stacked Borrows state of one allocation (Miri's `Stacks`): a borrow stack per byte, stored
 * in a {@link RangeMap} so that a run of bytes with equal stacks shares one; the tags exposed in
 * the allocation; and the history its findings draw on. It applies accesses, retags and the
 * deallocation to every stack of a range and turns a failing stack operation into a
 * {@link Finding} worded as Miri words it.
 *
 * ## Fast paths
 *
 * - An access within one run that would change nothing ({@link Stack.isNoop}: the tag is granted
 *   and nothing above it must be popped or disabled) touches nothing: no split, no history.
 * - An access or retag covering exactly one run mutates that run's stack in place (the common
 *   case: a whole allocation, or a field already split off), then merges it with equal neighbours.
 * - Everything else goes through {@link RangeMap.forEachMut} (split the edges, apply, merge back).
 *
 * The operation under way is kept in fields of this object (it is the stacks' {@link StackHost}),
 * so the hot path allocates nothing.
 */
import { RangeMap, type RangeMapOps } from "../../data-structures/range-map.js";
import { formatTag, type BorTag, type TagSet } from "../tags.js";
import {
  accessMessage,
  AllocHistory,
  deallocMessage,
  deallocProtectorMessage,
  errorCause,
  finding,
  formatRange,
  operationLabel,
  protectorMessage,
  retagInvalidationCode,
  retagMessage,
  retagSummary,
  ZERO_SIZED,
  type Finding,
  type FindingHelp,
  type Site,
} from "./diagnostics.js";
import type { GlobalState } from "./global-state.js";
import {
  formatItem,
  MAYBE_PROTECTED,
  permissionName,
  PERMISSION_MASK,
  READ,
  SHARED_READ_WRITE,
  UNIQUE,
  WRITE,
  type AccessCode,
  type PermissionCode,
  type ProtectorKind,
} from "./item.js";
import { NO_ACCESS, OK, PROTECTED, Stack, type StackHost, type StackStatus } from "./stack.js";

/** How a range map clones and compares stacks. */
const STACK_OPS: RangeMapOps<Stack> = {
  clone: (s) => s.clone(),
  equals: (a, b) => a.equals(b),
};

/**
 * What a retag grants (Miri's `NewPermission`): `perm` with the retag access `access` and
 * `protector` for the whole range, or, when `freezeSensitive`, only for the bytes outside
 * `UnsafeCell`; bytes inside get `SharedReadWrite` with no access and no protector.
 */
export interface NewPermission {
  /** The permission of the new item (of its frozen part, when freeze-sensitive). */
  readonly perm: PermissionCode;
  /** The access the retag makes with the parent tag ({@link NO_ACCESS} for a new `SharedReadWrite`). */
  readonly access: AccessCode | typeof NO_ACCESS;
  /** The protector of the new tag, if any. */
  readonly protector: ProtectorKind | null;
  /** Whether bytes inside `UnsafeCell` get `SharedReadWrite` instead (shared references, `*const`). */
  readonly freezeSensitive: boolean;
}

/**
 * Byte ranges as flattened `[start, end)` pairs (`[s0, e0, s1, e1, …]`), sorted: the layout's
 * `cells`. Allocation-free on the hot path, unlike an array of pairs.
 */
export type CellRanges = readonly number[];

/** How many recent invalidations an operation over several runs compares a new one with. */
const DEDUP_WINDOW = 16;

const OP_READ = 0;
const OP_WRITE = 1;
const OP_RETAG = 2;
const OP_DEALLOC = 3;

/** The Stacked Borrows state of one allocation. */
export class AllocationState implements StackHost {
  /** The allocation's id (the caller's). */
  readonly id: number;
  /** Its name in messages: `alloc7`. */
  readonly name: string;
  /** Its size in bytes. */
  readonly size: number;
  /** The tag of the pointer the allocator handed out. */
  readonly rootTag: BorTag;
  /** The borrow stacks, one per run of bytes with equal stacks. */
  readonly stacks: RangeMap<Stack>;
  /** Where tags were created and invalidated, for findings. */
  readonly history: AllocHistory;
  /** The tags exposed in this allocation (wildcard pointers may use them), or `null` while none is. */
  exposed: Set<BorTag> | null = null;
  private readonly global: GlobalState;

  // The operation under way (see the module comment).
  private opKind = OP_READ;
  /** The access tag, the retag's parent, or the deallocation's tag. */
  private opTag: BorTag = 0;
  private opStart = 0;
  private opEnd = 0;
  /** Where invalidations are logged (a function-entry retag logs them at the call). */
  private opSite: Site = 0;
  /** The site of the operation itself (for tracked-tag events). */
  private opEventSite: Site = 0;
  private opAccess: AccessCode | typeof NO_ACCESS = READ;
  private opNewTag: BorTag = 0;
  private opBits = 0;
  private opRetagCause = 0;
  private opCauseCode = 0;
  /** Runs visited so far (invalidations are deduplicated from the second run on). */
  private opRuns = 0;
  private opFirstLog = 0;
  // The failure, if the operation failed.
  private failStatus: StackStatus = OK;
  private failStack: Stack | null = null;
  private failOffset = 0;
  private failItemTag: BorTag = 0;
  private failItemBits = 0;
  private failKind: ProtectorKind = "strong";
  /** Scratch: the segments of a freeze-sensitive retag, as (start, end, inCell) triples. */
  private readonly segments: number[] = [];

  /**
   * A fresh allocation: every byte's stack holds the root tag alone, `Unique` for stack memory
   * (a local's own writes then invalidate every pointer to it) and `SharedReadWrite` otherwise.
   *
   * @param global - the tracker's shared state
   * @param id - the caller's allocation id
   * @param size - bytes
   * @param stackMemory - whether this is stack memory (a local)
   * @param site - where it was made
   * @param name - its name in messages (`alloc7`)
   * @param rootTag - its root tag, when reserved earlier ({@link StackedBorrows.newTag}); default a fresh one
   */
  constructor(global: GlobalState, id: number, size: number, stackMemory: boolean, site: Site, name: string, rootTag?: BorTag) {
    this.global = global;
    this.id = id;
    this.name = name;
    this.size = size;
    this.rootTag = rootTag ?? global.tags.next();
    this.stacks = new RangeMap(size, Stack.withRoot(this.rootTag, stackMemory ? UNIQUE : SHARED_READ_WRITE), STACK_OPS);
    this.history = new AllocHistory(name, this.rootTag, site, global.history);
    if (global.isTracked(this.rootTag)) global.emit(this.rootTag, "created", `created base tag ${formatTag(this.rootTag)}`, site);
  }

  // ---------------------------------------------------------------- StackHost

  /** @inheritDoc */
  nextTag(): BorTag {
    return this.global.tags.peek();
  }

  /** @inheritDoc */
  invalidated(tag: BorTag, bits: number, dealloc: boolean): boolean {
    const g = this.global;
    if (g.trackedTags.size !== 0 && g.trackedTags.has(tag)) this.emitPopped(tag, bits);
    if ((bits & MAYBE_PROTECTED) !== 0) {
      const kind = g.protectedTags.get(tag);
      // Only a weak protector, and only when the memory is freed, lets its item go.
      if (kind !== undefined && !(dealloc && kind === "weak")) {
        this.failItemTag = tag;
        this.failItemBits = bits;
        this.failKind = kind;
        return false;
      }
    }
    if (this.opKind !== OP_DEALLOC) this.logInvalidation(tag);
    return true;
  }

  // ---------------------------------------------------------------- operations

  /**
   * An access of `size` bytes at `offset` through `tag` (0: a wildcard). Returns `null`, or the
   * finding if Stacked Borrows forbids it.
   */
  access(access: AccessCode, tag: BorTag, offset: number, size: number, site: Site): Finding | null {
    if (size <= 0) return null;
    const end = offset + size;
    if (offset < 0 || end > this.size) throw new RangeError(`${this.name}: access ${formatRange(offset, end)} outside its ${this.size} bytes`);
    const map = this.stacks;
    const i = map.runAt(offset);
    const runEnd = map.runEnd(i);
    if (end <= runEnd) {
      const stack = map.runValue(i);
      if (stack.isNoop(access, tag, this.exposed)) return null;
      if (map.runStart(i) === offset && runEnd === end) {
        this.begin(access === WRITE ? OP_WRITE : OP_READ, tag, offset, end, site);
        this.opCauseCode = access;
        const status = stack.access(access, tag, this);
        if (status !== OK) return this.failure(status, stack, offset);
        map.mergeAround(i);
        return null;
      }
    }
    this.begin(access === WRITE ? OP_WRITE : OP_READ, tag, offset, end, site);
    this.opAccess = access;
    this.opCauseCode = access;
    map.forEachMut(offset, end, this.accessRun);
    return this.failStatus === OK ? null : this.failure(this.failStatus, this.failStack!, this.failOffset);
  }

  /**
   * A retag: `newTag` (fresh from the tracker) is derived from `parent` (0: a wildcard) for the
   * `size` bytes at `offset`, with permission `perm`; `cells` (flattened pairs relative to
   * `offset`, sorted) are the bytes inside `UnsafeCell`. `site` is where the reference is made; `callSite` where
   * the call is, for a function-entry retag (its invalidations are reported there, as Miri does).
   * Returns `null`, or the finding if the parent may not be reborrowed so.
   */
  retag(
    parent: BorTag,
    newTag: BorTag,
    offset: number,
    size: number,
    perm: NewPermission,
    cells: CellRanges,
    cause: number,
    site: Site,
    callSite: Site,
  ): Finding | null {
    const end = offset + size;
    const h = this.history;
    const g = this.global;
    if (size === 0) {
      // A zero-sized retag touches no stack (as Miri's: borrow stacks are per byte and it covers
      // none), so it may be anywhere — out of bounds too, a zero-sized reference made from a
      // dangling pointer needs no dereferenceable byte. The new tag is in no stack: an access
      // through it is UB. The creation is recorded for the diagnostics.
      h.logCreation(newTag, ZERO_SIZED, offset, offset, cause, site);
      if (g.isTracked(newTag)) this.emitCreated(newTag, parent, perm, cells, offset, end, site);
      return null;
    }
    if (offset < 0 || end > this.size || size < 0) throw new RangeError(`${this.name}: retag ${formatRange(offset, end)} outside its ${this.size} bytes`);
    const uniform = !perm.freezeSensitive || cells.length === 0;
    const segs = this.segments;
    let nsegs = 3;
    if (uniform) h.logCreation(newTag, perm.perm, offset, end, cause, site);
    else {
      segs.length = 0;
      cellSegments(segs, cells, offset, end);
      nsegs = segs.length;
      for (let k = 0; k < nsegs; k += 3) {
        h.logCreation(newTag, segs[k + 2] === 1 ? SHARED_READ_WRITE : perm.perm, segs[k]!, segs[k + 1]!, cause, site);
      }
    }
    if (g.isTracked(newTag)) this.emitCreated(newTag, parent, perm, cells, offset, end, site);
    if (perm.protector !== null) {
      g.protect(newTag, perm.protector);
      h.logProtector(newTag, site);
    }
    this.begin(OP_RETAG, parent, offset, end, cause === 1 ? callSite : site);
    this.opEventSite = site;
    this.opNewTag = newTag;
    this.opRetagCause = cause;
    for (let k = 0; k < nsegs; k += 3) {
      const s = uniform ? offset : segs[k]!;
      const e = uniform ? end : segs[k + 1]!;
      const inCell = !uniform && segs[k + 2] === 1;
      // Inside UnsafeCell: SharedReadWrite, no access, never protected.
      const p: PermissionCode = inCell ? SHARED_READ_WRITE : perm.perm;
      this.opBits = inCell || perm.protector === null ? p : p | MAYBE_PROTECTED;
      this.opAccess = inCell ? NO_ACCESS : perm.access;
      this.opCauseCode = retagInvalidationCode(p, cause);
      const f = this.grantRange(s, e);
      if (f !== null) return f;
    }
    return null;
  }

  /** Applies the retag under way (fields `op*`) to the stacks of `[s, e)`. */
  private grantRange(s: number, e: number): Finding | null {
    const map = this.stacks;
    const i = map.runAt(s);
    if (map.runStart(i) === s && map.runEnd(i) === e) {
      const stack = map.runValue(i);
      const status = stack.grant(this.opTag, this.opNewTag, this.opBits, this.opAccess, this);
      if (status !== OK) return this.failure(status, stack, s);
      this.opRuns++;
      map.mergeAround(i);
      return null;
    }
    map.forEachMut(s, e, this.grantRun);
    return this.failStatus === OK ? null : this.failure(this.failStatus, this.failStack!, this.failOffset);
  }

  /**
   * The deallocation of the whole allocation through `tag`: a write access, then no item may be
   * strongly protected (a weakly protected one may go). Returns `null` or the finding.
   */
  deallocate(tag: BorTag, site: Site): Finding | null {
    this.begin(OP_DEALLOC, tag, 0, this.size, site);
    if (this.size === 0) return null;
    this.stacks.forEachRunMut(this.deallocRun);
    return this.failStatus === OK ? null : this.failure(this.failStatus, this.failStack!, this.failOffset);
  }

  /** Marks `tag` as exposed: wildcard pointers to this allocation may use its items. */
  expose(tag: BorTag): void {
    if (tag === 0) return;
    (this.exposed ??= new Set()).add(tag);
  }

  /**
   * Garbage collection: removes the items and history of tags that are neither in `live` nor
   * exposed here, where no live tag can tell the difference, and merges the runs that became equal.
   * Only stacks taller than `minHeight` lose items (the history is always trimmed).
   */
  retain(live: TagSet, minHeight = 0): void {
    const ex = this.exposed;
    // Exposed tags first: `live` is then only asked about the others.
    const isLive: TagSet = ex === null ? live : { has: (t) => ex.has(t) || live.has(t) };
    this.stacks.forEachRunMut((stack) => {
      if (stack.length > minHeight) stack.retain(isLive);
    });
    this.history.retain(isLive);
  }

  // ---------------------------------------------------------------- inspection

  /** The stack of the byte at `offset` (shared with its run: do not change it). */
  stackAt(offset: number): Stack {
    return this.stacks.get(offset);
  }

  /** One line per run, as Miri's `print_stacks`: `0..4: [ SharedReadWrite<1> Unique<2> ]`. */
  describe(): string[] {
    const out: string[] = [];
    for (const [start, end, stack] of this.stacks.entries()) out.push(`${start}..${end}: ${stack.toString()}`);
    return out;
  }

  // ---------------------------------------------------------------- internals

  /** Starts an operation: records what it is and clears the previous failure. */
  private begin(kind: number, tag: BorTag, start: number, end: number, site: Site): void {
    this.opKind = kind;
    this.opTag = tag;
    this.opStart = start;
    this.opEnd = end;
    this.opSite = site;
    this.opEventSite = site;
    this.opRuns = 0;
    this.opFirstLog = this.history.invalidationCount;
    this.failStatus = OK;
    this.failStack = null;
  }

  /** Records the failure of a run's stack operation; returns `true` to stop the iteration. */
  private recordFailure(status: StackStatus, stack: Stack, offset: number): boolean {
    if (status === OK) {
      this.opRuns++;
      return false;
    }
    this.failStatus = status;
    this.failStack = stack;
    this.failOffset = offset;
    return true;
  }

  /** The range-map visitor of an access. */
  private readonly accessRun = (stack: Stack, start: number): boolean =>
    this.recordFailure(stack.access(this.opAccess as AccessCode, this.opTag, this), stack, start);

  /** The range-map visitor of a retag's segment. */
  private readonly grantRun = (stack: Stack, start: number): boolean =>
    this.recordFailure(stack.grant(this.opTag, this.opNewTag, this.opBits, this.opAccess, this), stack, start);

  /** The range-map visitor of a deallocation. */
  private readonly deallocRun = (stack: Stack, start: number): boolean => this.recordFailure(stack.dealloc(this.opTag, this), stack, start);

  /**
   * Logs an invalidation by the current operation. An operation over many runs invalidates the
   * same items in each; a bounded look-back skips those repeats (a repeat that slips through is
   * harmless: it says the same thing).
   */
  private logInvalidation(tag: BorTag): void {
    const h = this.history;
    if (this.opRuns > 0 && h.recentlyInvalidated(tag, this.opFirstLog, DEDUP_WINDOW)) return;
    h.logInvalidation(tag, this.opStart, this.opEnd, this.opCauseCode, this.opSite);
  }

  /** The finding for a failed stack operation at `offset` (the start of the failing run). */
  private failure(status: StackStatus, stack: Stack, offset: number): Finding {
    const tag = this.opTag;
    const name = this.name;
    const h = this.history;
    let message: string;
    let label: string | undefined;
    let help: FindingHelp[];
    if (status === PROTECTED) {
      if (this.opKind === OP_DEALLOC) {
        message = deallocProtectorMessage(this.failItemTag, this.failItemBits, this.failKind);
        // (Miri prints no history here; the protected argument is the useful line.)
        help = h.argumentHelp(this.failItemTag);
      } else {
        message = protectorMessage(tag, this.failItemTag, this.failItemBits, this.failKind);
        help = h.helpFor(tag, offset, this.failItemTag);
      }
    } else {
      const cause = errorCause(tag, tag !== 0 && stack.hasUsableItem(tag));
      help = h.helpFor(tag, offset);
      if (this.opKind === OP_RETAG) {
        message = retagMessage(tag, (this.opBits & PERMISSION_MASK) as PermissionCode, name, offset, cause);
        label = operationLabel(retagSummary(this.opRetagCause), name, this.opStart, this.opEnd);
      } else if (this.opKind === OP_DEALLOC) {
        message = deallocMessage(tag, name, cause);
      } else {
        message = accessMessage(this.opKind === OP_WRITE ? WRITE : READ, tag, name, offset, cause);
        label = operationLabel("an access", name, this.opStart, this.opEnd);
      }
    }
    this.failStatus = OK;
    this.failStack = null;
    return finding(message, label, help);
  }

  /** Reports a tracked tag's item being popped or disabled (`popped tracked tag for item …`). */
  private emitPopped(tag: BorTag, bits: number): void {
    let cause: string;
    if (this.opKind === OP_DEALLOC) cause = " due to deallocation";
    else if (this.opKind === OP_RETAG) {
      cause = ` due to ${permissionName(this.opBits)} retag from ${formatTag(this.opTag)} (that retag created ${formatTag(this.opNewTag)})`;
    } else cause = ` due to ${this.opKind === OP_WRITE ? "Write" : "Read"} access for ${formatTag(this.opTag)}`;
    this.global.emit(tag, "popped", `popped tracked tag for item ${formatItem(tag, bits)}${cause}`, this.opEventSite);
  }

  /** Reports a tracked tag's creation (`created tag <5> with Unique permission at alloc1[0x0..0x4] derived from <3>`). */
  private emitCreated(
    tag: BorTag,
    parent: BorTag,
    perm: NewPermission,
    cells: CellRanges,
    start: number,
    end: number,
    site: Site,
  ): void {
    const what =
      perm.freezeSensitive && cells.length > 0
        ? `${permissionName(perm.perm)}/SharedReadWrite permission for frozen/non-frozen parts`
        : `${permissionName(perm.perm)} permission`;
    this.global.emit(
      tag,
      "created",
      `created tag ${formatTag(tag)} with ${what} at ${this.name}${formatRange(start, end)} derived from ${formatTag(parent)}`,
      site,
    );
  }
}

/**
 * Splits `[start, end)` into segments outside and inside `cells` (flattened pairs relative to
 * `start`), pushing (start, end, inCell ? 1 : 0) triples to `out`. Cells are clipped to the range;
 * unsorted or overlapping cells are sorted and merged first.
 */
function cellSegments(out: number[], cells: CellRanges, start: number, end: number): void {
  let list = cells;
  for (let k = 2; k < cells.length; k += 2) {
    if (cells[k]! < cells[k - 2]!) {
      const pairs: [number, number][] = [];
      for (let j = 0; j + 1 < cells.length; j += 2) pairs.push([cells[j]!, cells[j + 1]!]);
      list = pairs.sort((a, b) => a[0] - b[0]).flat();
      break;
    }
  }
  let pos = start;
  for (let k = 0; k + 1 < list.length; k += 2) {
    let a = start + list[k]!;
    const b = Math.min(start + list[k + 1]!, end);
    if (a < pos) a = pos;
    if (a >= b) continue;
    if (pos < a) out.push(pos, a, 0);
    // Extend the previous cell segment when cells touch.
    if (out.length >= 3 && out[out.length - 1] === 1 && out[out.length - 2] === a) out[out.length - 2] = b;
    else out.push(a, b, 1);
    pos = b;
  }
  if (pos < end) out.push(pos, end, 0);
}
