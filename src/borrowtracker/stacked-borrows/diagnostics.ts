/**
 * Stacked Borrows diagnostics: the history of an allocation's tags (where each was created, where
 * it was invalidated, which were protected arguments) and the messages of a finding, worded as
 * Miri words them (`stacked_borrows/diagnostics.rs`).
 *
 * This is the slow, clear path, kept apart from the stack's hot path: nothing here runs unless an
 * operation fails, except the three `log*` methods, which append a few numbers to flat arrays
 * of unboxed doubles (no object per event, nothing for the garbage collector to trace; the tag
 * GC, {@link AllocHistory.retain}, drops the events of dead tags).
 *
 * A finding is data: `{ message, label?, help: { message, site? }[] }`, where a *site* is the
 * caller's opaque number for a program location (the engine maps it to a `.ts` line).
 */
import { formatTag, type BorTag, type TagOrWildcard, type TagSet } from "../tags.js";
import { accessName, formatItem, permissionName, type AccessCode, type PermissionCode, type ProtectorKind } from "./item.js";

/** The caller's opaque number for a program location (the engine maps it to a `.ts` line and column). */
export type Site = number;

/** One help line of a finding: a sentence, and where it points, if anywhere. */
export interface FindingHelp {
  /** The sentence (`<12> was created by a Unique retag at offsets [0x0..0x4]`). */
  readonly message: string;
  /** The program location it refers to. */
  readonly site?: Site;
}

/** A Stacked Borrows violation, as data: what the engine turns into a report of kind `stacked-borrows`. */
export interface Finding {
  /** The report kind. */
  readonly kind: "stacked-borrows";
  /** The error class Miri prints before the message. */
  readonly title: "Undefined Behavior";
  /** The one-line message (`attempting a write access using <41> at alloc7[0x8], but …`). */
  readonly message: string;
  /**
   * The label under the caret (`this error occurs as part of an access at alloc7[0x8..0xc]`); when
   * absent, the engine's default (`Undefined Behavior occurred here`).
   */
  readonly label?: string;
  /** Help lines: Miri's two general ones, then the tag's history (created, invalidated, protected). */
  readonly help: readonly FindingHelp[];
}

/** Why a retag happened, as the messages name it. */
export type RetagCause = "normal" | "fn-entry" | "two-phase" | "in-place";

/** The retag causes, indexed by their code in the history. */
export const RETAG_CAUSES: readonly RetagCause[] = ["normal", "fn-entry", "two-phase", "in-place"];

/** How a message names a retag of each cause (Miri's `RetagInfo::summary`). */
const RETAG_SUMMARIES = ["retag", "function-entry retag", "two-phase retag", "in-place function argument/return passing protection"];

/** The code of a retag cause (its index in {@link RETAG_CAUSES}). */
export function retagCauseCode(cause: RetagCause): number {
  return cause === "normal" ? 0 : cause === "fn-entry" ? 1 : cause === "two-phase" ? 2 : 3;
}

/** The name of a retag cause in messages: `retag`, `function-entry retag`, `two-phase retag`, … */
export function retagSummary(causeCode: number): string {
  return RETAG_SUMMARIES[causeCode] ?? "retag";
}

/** `0x1f`: an offset as Miri prints it (`{:#x}`). */
export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** `[0x0..0x4]`: a byte range `[start, end)` as Miri prints an `AllocRange`. */
export function formatRange(start: number, end: number): string {
  return `[${hex(start)}..${hex(end)}]`;
}

/** The first help line of every Stacked Borrows finding. */
export const HELP_EXPERIMENTAL =
  "this indicates a potential bug in the program: it performed an invalid operation, but the Stacked Borrows rules it violated are still experimental";
/** The second help line of every Stacked Borrows finding. */
export const HELP_SEE_ALSO =
  "see https://github.com/rust-lang/unsafe-code-guidelines/blob/master/wip/stacked-borrows.md for further information";

/** Invalidation cause codes 0 and 1 are the read and write accesses (their {@link AccessCode}); retags are coded from here. */
const RETAG_CAUSE_BASE = 2;

/** The invalidation cause code of a retag granting `perm` with cause code `causeCode`. */
export function retagInvalidationCode(perm: PermissionCode, causeCode: number): number {
  return RETAG_CAUSE_BASE + perm * 4 + causeCode;
}

/** Permission code recorded for a zero-sized retag, which grants nothing anywhere. */
export const ZERO_SIZED = -1;

/** log2 of the records per chunk of an event log. */
const CHUNK_BITS = 10;
/** Records per chunk of an event log. */
const CHUNK_RECORDS = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK_RECORDS - 1;
/** Records the first chunk of a log has room for before it grows. */
const FIRST_CHUNK_RECORDS = 4;

/**
 * An append-only log of fixed-size records of numbers, the first number of each a tag. Records
 * live in chunks of {@link CHUNK_RECORDS}, plain arrays kept in the engine's unboxed-double form:
 * appending is a few stores, the garbage collector never traces the contents, and growth never
 * copies a large array. (A single growing array, or a growing `Float64Array` outside the heap,
 * makes each regrowth a large allocation, and the full collections those trigger cost time in
 * proportion to the whole heap: quadratic over a long run.)
 */
class EventLog {
  /** Records in the log. */
  count = 0;
  /** Numbers per record. */
  readonly stride: number;
  private readonly chunks: number[][] = [];
  private readonly chunkSize: number;

  constructor(stride: number) {
    this.stride = stride;
    this.chunkSize = stride * CHUNK_RECORDS;
  }

  /**
   * The chunk the next record goes to. The first chunk starts with room for
   * {@link FIRST_CHUNK_RECORDS} records and doubles up to a full chunk, so that the history of an
   * allocation that sees a few events (most of them: a `Box`, a local) stays a few dozen numbers;
   * later chunks are full-sized from the start.
   */
  private room(): number[] {
    const chunkIndex = this.count >>> CHUNK_BITS;
    if (chunkIndex === this.chunks.length) {
      this.chunks.push(new Array<number>(chunkIndex === 0 ? this.stride * FIRST_CHUNK_RECORDS : this.chunkSize).fill(0.5));
    } else if (chunkIndex === 0) {
      const c = this.chunks[0]!;
      const need = ((this.count & CHUNK_MASK) + 1) * this.stride;
      if (need > c.length) {
        const grown = new Array<number>(Math.min(this.chunkSize, c.length * 2)).fill(0.5);
        for (let k = 0; k < c.length; k++) grown[k] = c[k]!;
        this.chunks[0] = grown;
      }
    }
    return this.chunks[chunkIndex]!;
  }

  /** Appends a record of two numbers. */
  add2(a: number, b: number): void {
    const c = this.room();
    const p = (this.count & CHUNK_MASK) * 2;
    c[p] = a;
    c[p + 1] = b;
    this.count++;
  }

  /** Appends a record of four numbers. */
  add4(a: number, b: number, x: number, y: number): void {
    const c = this.room();
    const p = (this.count & CHUNK_MASK) * 4;
    c[p] = a;
    c[p + 1] = b;
    c[p + 2] = x;
    c[p + 3] = y;
    this.count++;
  }

  /** Appends a record of five numbers. */
  add5(a: number, b: number, x: number, y: number, z: number): void {
    const c = this.room();
    const p = (this.count & CHUNK_MASK) * 5;
    c[p] = a;
    c[p + 1] = b;
    c[p + 2] = x;
    c[p + 3] = y;
    c[p + 4] = z;
    this.count++;
  }

  /** Number `k` of record `i`. */
  get(i: number, k: number): number {
    return this.chunks[i >>> CHUNK_BITS]![(i & CHUNK_MASK) * this.stride + k]!;
  }

  /** Sets number `k` of record `i`. */
  set(i: number, k: number, v: number): void {
    this.chunks[i >>> CHUNK_BITS]![(i & CHUNK_MASK) * this.stride + k] = v;
  }

  /**
   * Keeps the records for which `keep(i)` holds, in order; `moved(from, to)` is told where each
   * kept record went. Chunks no longer needed are dropped.
   */
  retain(keep: (i: number) => boolean, moved?: (from: number, to: number) => void): void {
    let w = 0;
    for (let r = 0; r < this.count; r++) {
      if (!keep(r)) continue;
      if (w !== r) for (let k = 0; k < this.stride; k++) this.set(w, k, this.get(r, k));
      moved?.(r, w);
      w++;
    }
    this.count = w;
    this.chunks.length = Math.ceil(w / CHUNK_RECORDS);
  }
}

// The records of the logs of a history:
// creation:     newTag, start, end, (perm + 1) * 8 + cause code, site   (perm -1: zero-sized)
// operation:    start, end, cause code, site                            (shared by its invalidations)
// invalidation: tag, operation index
// protection:   tag, site

/** The history of one allocation's tags, for the help lines of a finding (Miri's `AllocHistory`). */
export class AllocHistory {
  /** The allocation's name in messages (`alloc7`). */
  readonly allocName: string;
  /** The allocation's root tag. */
  readonly rootTag: BorTag;
  /** Where the allocation (and its root tag) was made. */
  readonly rootSite: Site;
  private readonly creations = new EventLog(5);
  private readonly operations = new EventLog(4);
  private readonly invalidations = new EventLog(2);
  private readonly protections = new EventLog(2);

  /** Whether events are recorded (off: every `log*` is a no-op; see `GlobalState.history`). */
  readonly enabled: boolean;

  /**
   * @param allocName - `alloc7`
   * @param rootTag - the allocation's root tag
   * @param rootSite - where the allocation was made
   * @param enabled - whether to record events (default true)
   */
  constructor(allocName: string, rootTag: BorTag, rootSite: Site, enabled = true) {
    this.allocName = allocName;
    this.rootTag = rootTag;
    this.rootSite = rootSite;
    this.enabled = enabled;
  }

  /** The number of recorded events (creations, invalidations, protections). */
  get eventCount(): number {
    return this.creations.count + this.invalidations.count + this.protections.count;
  }

  /** The number of recorded invalidations (a position to compare with later). */
  get invalidationCount(): number {
    return this.invalidations.count;
  }

  /**
   * Records that `newTag` was created (from some parent) with permission `perm` (or
   * {@link ZERO_SIZED}) over `[start, end)`, by a retag of cause code `cause`, at `site`.
   */
  logCreation(newTag: BorTag, perm: PermissionCode | typeof ZERO_SIZED, start: number, end: number, cause: number, site: Site): void {
    if (!this.enabled) return;
    this.creations.add5(newTag, start, end, (perm + 1) * 8 + cause, site);
  }

  /**
   * Records that `tag` was popped or disabled by an operation over `[start, end)` with cause code
   * `cause` at `site`. The operation is stored once for all the items it invalidates.
   */
  logInvalidation(tag: BorTag, start: number, end: number, cause: number, site: Site): void {
    if (!this.enabled) return;
    const ops = this.operations;
    let op = ops.count - 1;
    if (op < 0 || ops.get(op, 3) !== site || ops.get(op, 0) !== start || ops.get(op, 1) !== end || ops.get(op, 2) !== cause) {
      ops.add4(start, end, cause, site);
      op++;
    }
    this.invalidations.add2(tag, op);
  }

  /**
   * Whether one of the last `window` invalidations, none before position `from` (see
   * {@link AllocHistory.invalidationCount}), is of `tag`: a bounded look-back that catches the
   * repeats of an operation over many runs (each run pops the same items in the same order).
   */
  recentlyInvalidated(tag: BorTag, from: number, window: number): boolean {
    const log = this.invalidations;
    const stop = Math.max(from, log.count - window);
    for (let i = log.count - 1; i >= stop; i--) if (log.get(i, 0) === tag) return true;
    return false;
  }

  /** Records that `tag` was made protected (a function argument) at `site`. */
  logProtector(tag: BorTag, site: Site): void {
    if (!this.enabled) return;
    this.protections.add2(tag, site);
  }

  /** Drops the events of tags that are not in `live` (the root's creation is kept). */
  retain(live: TagSet): void {
    const c = this.creations;
    c.retain((i) => live.has(c.get(i, 0)));
    const p = this.protections;
    p.retain((i) => live.has(p.get(i, 0)));
    // Invalidations go with their tag; operations go when no invalidation refers to them.
    const inv = this.invalidations;
    inv.retain((i) => live.has(inv.get(i, 0)));
    const ops = this.operations;
    const used = new Uint8Array(ops.count);
    for (let i = 0; i < inv.count; i++) used[inv.get(i, 1)] = 1;
    const newIndex = new Float64Array(ops.count);
    ops.retain(
      (i) => used[i] === 1,
      (from, to) => (newIndex[from] = to),
    );
    for (let i = 0; i < inv.count; i++) inv.set(i, 1, newIndex[inv.get(i, 1)]!);
  }

  /**
   * The help lines about `tag` for a finding at `offset` (Miri's `get_logs_relevant_to`): where it
   * was created (preferring the creation that covers `offset`, since a shared retag over a cell
   * creates the tag with two permissions), where it was last invalidated, and, for a protector
   * violation, where `protectorTag` became a protected argument. Empty when nothing is known of the
   * tag (a wildcard, or an unknown tag).
   */
  helpFor(tag: TagOrWildcard, offset: number, protectorTag?: BorTag): FindingHelp[] {
    if (tag === 0 || tag === "wildcard") return [];
    const out: FindingHelp[] = [];
    const c = this.creations;
    let found = -1;
    for (let i = c.count - 1; i >= 0; i--) {
      if (c.get(i, 0) === tag && offset >= c.get(i, 1) && offset < c.get(i, 2)) {
        found = i;
        break;
      }
    }
    if (found < 0) {
      for (let i = c.count - 1; i >= 0; i--) {
        if (c.get(i, 0) === tag) {
          found = i;
          break;
        }
      }
    }
    if (found >= 0) {
      const code = c.get(found, 3);
      const perm = ((code >> 3) - 1) as PermissionCode | typeof ZERO_SIZED;
      const range = formatRange(c.get(found, 1), c.get(found, 2));
      out.push({
        message:
          perm === ZERO_SIZED
            ? `${formatTag(tag)} would have been created here, but this is a zero-size retag (${range}) so the tag in question does not exist anywhere`
            : `${formatTag(tag)} was created by a ${permissionName(perm)} retag at offsets ${range}`,
        site: c.get(found, 4),
      });
    } else if (tag === this.rootTag) {
      out.push({ message: `${formatTag(tag)} was created here, as the root tag for ${this.allocName}`, site: this.rootSite });
    } else {
      return out;
    }
    const inv = this.invalidations;
    for (let i = inv.count - 1; i >= 0; i--) {
      if (inv.get(i, 0) !== tag) continue;
      const op = inv.get(i, 1);
      const ops = this.operations;
      const range = formatRange(ops.get(op, 0), ops.get(op, 1));
      out.push({ message: `${formatTag(tag)} was later invalidated at offsets ${range} by a ${describeCause(ops.get(op, 2))}`, site: ops.get(op, 3) });
      break;
    }
    if (protectorTag !== undefined) out.push(...this.argumentHelp(protectorTag));
    return out;
  }

  /** `<12> is this argument`, at the function whose entry protected `tag`; empty if it was not protected. */
  argumentHelp(tag: BorTag): FindingHelp[] {
    const p = this.protections;
    for (let i = 0; i < p.count; i++) {
      if (p.get(i, 0) === tag) return [{ message: `${formatTag(tag)} is this argument`, site: p.get(i, 1) }];
    }
    return [];
  }
}

/** `read access`, `write access`, `Unique retag`, `Unique function-entry retag inside this call`, … */
function describeCause(code: number): string {
  if (code < RETAG_CAUSE_BASE) return accessName(code as AccessCode);
  const perm = ((code - RETAG_CAUSE_BASE) >> 2) as PermissionCode;
  const cause = (code - RETAG_CAUSE_BASE) & 3;
  // A function-entry retag's invalidation is logged at the call (the caller's site).
  return `${permissionName(perm)} ${retagSummary(cause)}${cause === 1 ? " inside this call" : ""}`;
}


// ------------------------------------------------------------------ messages

/** What the stack of the failing location says about the tag: the end of Miri's message. */
export function errorCause(tag: BorTag, tagHasUsableItem: boolean): string {
  if (tag === 0) return ", but no exposed tags have suitable permission in the borrow stack for this location";
  return tagHasUsableItem
    ? ", but that tag only grants SharedReadOnly permission for this location"
    : ", but that tag does not exist in the borrow stack for this location";
}

/** Assembles a finding: the message, the label, Miri's two general help lines, then `history`. */
export function finding(message: string, label: string | undefined, history: readonly FindingHelp[]): Finding {
  const help: FindingHelp[] = [{ message: HELP_EXPERIMENTAL }, { message: HELP_SEE_ALSO }, ...history];
  return label === undefined
    ? { kind: "stacked-borrows", title: "Undefined Behavior", message, help }
    : { kind: "stacked-borrows", title: "Undefined Behavior", message, label, help };
}

/** `attempting a write access using <41> at alloc7[0x8]` + cause. */
export function accessMessage(access: AccessCode, tag: BorTag, allocName: string, offset: number, cause: string): string {
  return `attempting a ${accessName(access)} using ${formatTag(tag)} at ${allocName}[${hex(offset)}]${cause}`;
}

/** `this error occurs as part of an access at alloc7[0x8..0xc]` (or `… of retag at …`). */
export function operationLabel(operation: string, allocName: string, start: number, end: number): string {
  return `this error occurs as part of ${operation} at ${allocName}${formatRange(start, end)}`;
}

/** `trying to retag from <3> for Unique permission at alloc7[0x0]` + cause. */
export function retagMessage(parent: BorTag, perm: PermissionCode, allocName: string, offset: number, cause: string): string {
  return `trying to retag from ${formatTag(parent)} for ${permissionName(perm)} permission at ${allocName}[${hex(offset)}]${cause}`;
}

/** `attempting deallocation using <3> at alloc7` + cause. */
export function deallocMessage(tag: BorTag, allocName: string, cause: string): string {
  return `attempting deallocation using ${formatTag(tag)} at ${allocName}${cause}`;
}

/** `not granting access to tag <9> because that would remove [Unique for <12>] which is strongly protected`. */
export function protectorMessage(tag: BorTag, itemTag: BorTag, itemBits: number, kind: ProtectorKind): string {
  return `not granting access to tag ${formatTag(tag)} because that would remove ${formatItem(itemTag, itemBits)} which is ${kind}ly protected`;
}

/** `deallocating while item [Unique for <12>] is strongly protected`. */
export function deallocProtectorMessage(itemTag: BorTag, itemBits: number, kind: ProtectorKind): string {
  return `deallocating while item ${formatItem(itemTag, itemBits)} is ${kind}ly protected`;
}

// ------------------------------------------------------------------ tag tracking (`--track-tag`)

/** One event of a tracked tag (`--track-tag N`): a note the engine prints at `site`, labelled `tracking was triggered here`. */
export interface TagEvent {
  /** The tracked tag. */
  readonly tag: BorTag;
  /** `created` (the tag was made) or `popped` (removed or disabled from a stack). */
  readonly event: "created" | "popped";
  /** Miri's note: `created tag <5> with Unique permission at alloc1[0x0..0x4] derived from <3>`, `popped tracked tag for item [Unique for <5>] due to Write access for <3>`. */
  readonly message: string;
  /** Where the operation happened. */
  readonly site: Site;
}
