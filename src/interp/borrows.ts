/**
 * Stacked Borrows on the Machine: the engine's side of the borrow tracker (the library is
 * `src/borrowtracker`; the runtime calls it through the hooks of `borrowtracker/hooks.ts`).
 *
 * {@link MachineBorrows} is the {@link BorrowTracker} the Machine installs by default
 * (`borrowModel: "stacked"`; `--borrow-model none` installs none), and its memory's borrow hook
 * (interp/memory/seam.ts). It
 *
 * - keeps each allocation's Stacked Borrows state in the allocation's `borrows` slot, so that a
 *   raw access (interp/memory/access.ts) reaches its stacks without a lookup;
 * - turns a finding into a report of kind `stacked-borrows` at the current site, with its help
 *   lines (`<12> was created by a Unique retag at offsets [0x0..0x4]`, `… was later invalidated
 *   …`, `<12> is this argument`) mapped to `.ts` locations;
 * - makes the function-entry retags of reference and `Box` arguments (the Machine's `fa` and
 *   `fnExit`, see shims/checked/fn-entry.ts): the new tag is created at the
 *   function (`<12> is this argument` points there) and what it invalidates is logged at the call
 *   (`… by a Unique function-entry retag inside this call`); the protectors are the retag
 *   policy's (borrowtracker/retag-policy.ts: references strongly, a `Box` weakly), until the call
 *   returns. Each call has its own list of protected tags, so
 *   threads may enter and leave calls in any interleaving;
 * - prints `--track-tag N` events as notes (`tracking was triggered here`);
 * - collects dead tags ({@link MachineBorrows.collect}, below).
 *
 * ## The tag GC: which tags are live
 *
 * Miri's provenance GC visits every pointer value the interpreter holds. kmiri cannot: a
 * program's pointers and references live in JavaScript variables, closures and generator frames
 * that nothing can enumerate, and weak references do not help inside a run (a run is one
 * synchronous job of the JavaScript engine, and the engine keeps every `WeakRef` target and
 * postpones every `FinalizationRegistry` callback until the job ends). So liveness is decided in
 * two parts:
 *
 * - **known live**: the tags of pointers stored in kmiri memory (each live allocation's pointer
 *   side table), protected tags, exposed tags, and the tags used or created recently — a tag is
 *   "recent" when it was created, accessed through, retagged from or deallocated through within
 *   the last {@link LIVE_EPOCHS} epochs of {@link EPOCH_TAGS} tag creations (about 60,000 tag
 *   creations; one typed-array store per operation records it);
 * - **presumed dead**: every other tag. Its history is dropped, and its items too, where Miri's
 *   rules (`Stack.retain`) allow — but only in stacks taller than {@link GC_MIN_HEIGHT} items: the
 *   stacks that grow without bound (a chain of reborrows, shared reborrows piling up on one
 *   location) are the ones the GC is for, and a short stack — one per element of an array under
 *   many borrows the program keeps in a JavaScript array — costs little. It is marked *collected*.
 *
 * A presumed-dead tag that the program still held and uses again is the only way the GC can
 * change a verdict: its items may be gone, so the operation fails where, without the GC, it might
 * not. Every failing operation therefore checks whether its tag was collected; if so, the
 * finding is not trusted ({@link MachineBorrows.gcSuspect}) and the run is repeated with the GC
 * off (`run.ts`). Runs are deterministic, so the repetition is the same run with exact stacks:
 * the GC never changes a verdict, it only makes the rare program that parks a pointer for a long
 * time and then misuses it run twice.
 *
 * A GC runs once `interval` tags were created by retags since the last one; the interval is at least the
 * configured minimum and at least the work of the last GC (items, runs and history left,
 * pointers scanned), so the GC's cost stays proportional to the work of the program. What it keeps
 * is bounded by the window of recent tags, the tall stacks' live items and the short stacks.
 */
import {
  StackedBorrows,
  type AllocationState,
  type Finding,
  type TagEvent,
  isFnEntry,
  retagKind,
  retagOptions,
} from "../borrowtracker/index.js";
import type { AccessKind, BorTag, BorrowTracker, RetagRequest, TrackedAllocation } from "../borrowtracker/hooks.js";
import type { HelpLine, ReportOptions, SourceLocation } from "./report.js";
import type { Allocation } from "./memory/allocation.js";

/** Which aliasing model a Machine checks: Stacked Borrows (the default), or none. */
export type BorrowModel = "stacked" | "none";

/** Default minimum number of tag creations between two tag GCs. */
export const DEFAULT_TAG_GC_INTERVAL = 10_000;

/** What the borrow tracker needs from the Machine. */
export interface BorrowsHost {
  /** The site executing now. */
  currentSite(): number;
  /** The `.ts` location of a site. */
  siteLocation(site: number): SourceLocation;
  /** Stops the run with a finding at the current site (throws). */
  report(kind: "stacked-borrows", message: string, options: ReportOptions): never;
  /** A non-halting note at `site` (`--track-tag`). */
  note(message: string, label: string, site: number): void;
  /** The live allocations (for the pointers stored in memory). */
  liveAllocations(): readonly Allocation[];
}

/** Options of a {@link MachineBorrows}. */
export interface MachineBorrowsOptions {
  /** Tags whose events are printed as notes (`--track-tag N`). */
  trackTags?: readonly number[];
  /** Minimum tag creations between two tag GCs; 0 turns the GC off. Default {@link DEFAULT_TAG_GC_INTERVAL}. */
  tagGc?: number;
  /**
   * Keep the history findings' help lines draw on (default true). kmiri's driver runs without it
   * and repeats a run that found a Stacked Borrows violation with it (runs are deterministic).
   */
  history?: boolean;
}

/** Initial capacity of the per-tag tables. */
const INITIAL_TAGS = 1 << 12;
/** Tag creations per liveness epoch. */
export const EPOCH_TAGS = 4096;
/** A tag used within this many epochs (the current one included) is live for the GC. */
export const LIVE_EPOCHS = 16;
/** Only stacks taller than this lose items in a tag GC (see the module comment). */
export const GC_MIN_HEIGHT = 32;

/**
 * `Allocation.borrows` of a tracked allocation whose state is not made yet: every byte's stack is
 * `[root]`, the root tag being the allocation's `borrowWrite`.
 */
const FRESH = Object.freeze({ fresh: true }) as unknown as AllocationState;
/**
 * {@link FRESH} with the root tag exposed: Mirch exposes every physical page's root from boot
 * (the linear map reaches them all), and most pages are only ever used through that root. The
 * exposure is recorded when the state is made.
 */
const FRESH_EXPOSED = Object.freeze({ fresh: true, exposed: true }) as unknown as AllocationState;

/** Whether `s` is a state not made yet. */
function isFresh(s: object | null): boolean {
  return s === FRESH || s === FRESH_EXPOSED;
}

/** Stacked Borrows as the Machine's borrow tracker. */
export class MachineBorrows implements BorrowTracker {
  /** The library's tracker (for inspection and tests: `describe`, `stackAt`, `stats`). */
  readonly sb: StackedBorrows;
  /**
   * True when a finding involved a tag the GC had presumed dead: the finding may be an artefact
   * of the GC, and the run must be repeated with the GC off to decide (see the module comment).
   */
  gcSuspect = false;
  /** How many tag GCs ran. */
  gcRuns = 0;

  private readonly host: BorrowsHost;
  /** Minimum tag creations between GCs (0: no GC). */
  private readonly gcMin: number;
  /** Tag creations left before the next GC. */
  private untilGc: number;
  /** The liveness epoch (mod 256): `seen[tag]` is the epoch of the tag's last use. */
  private epoch = 1;
  /** Tag creations left in the current epoch. */
  private untilEpoch = EPOCH_TAGS;
  /** Per tag: the epoch (mod 256) it was last created or used in. */
  private seen = new Uint8Array(INITIAL_TAGS);
  /** Per tag, one bit: the GC presumed it dead. */
  private collected = new Uint8Array(INITIAL_TAGS >> 3);
  /** The next tag the library will hand out (an upper bound of every tag so far). */
  private nextTag = 1;
  /** The function site and token of the call being entered (its `fn-entry` retags follow). */
  private entrySite = -1;
  private entryToken = 0;
  private nextToken = 1;
  /** The tags protected by each running call that protects any. */
  private readonly protectedBy = new Map<number, BorTag[]>();
  /** Make every allocation's state at once (while tags are tracked: a root's creation is an event). */
  private readonly eager: boolean;

  constructor(host: BorrowsHost, options: MachineBorrowsOptions = {}) {
    this.host = host;
    this.gcMin = options.tagGc ?? DEFAULT_TAG_GC_INTERVAL;
    this.untilGc = this.gcMin;
    const track = options.trackTags ?? [];
    this.eager = track.length > 0;
    const history = options.history !== false || track.length > 0;
    this.sb = new StackedBorrows(track.length > 0 ? { trackTags: track, onTagEvent: (e) => this.onTagEvent(e), history } : { history });
  }

  // ── the hooks (borrowtracker/hooks.ts) ───────────────────────────────────────────

  /**
   * @inheritDoc
   *
   * The allocation's Stacked Borrows state is made lazily: until something other than an access
   * through the root tag touches the allocation (a retag, an access through another tag, an
   * expose), its stacks are all `[root]` and nothing needs recording, so it carries the
   * {@link FRESH} marker (most heap blocks, boxes and locals never get further).
   */
  newAllocation(alloc: TrackedAllocation, site: number): BorTag {
    // (A root tag does not count towards the next GC: a fresh allocation has nothing to collect.)
    const a = alloc as Allocation;
    let root: BorTag;
    if (this.eager) {
      this.beforeCreate();
      root = this.sb.newAllocation(a.id, a.size, a.kind, site);
      const state = this.sb.allocation(a.id)!;
      a.borrows = state;
      this.created(root);
      this.refresh(a, state);
    } else {
      root = this.sb.newTag();
      this.created(root);
      a.borrows = FRESH;
      // While the allocation is fresh, `borrowWrite` is its root tag (see `state`).
      a.borrowRead = root;
      a.borrowWrite = root;
    }
    return root;
  }

  /** @inheritDoc */
  retag(r: RetagRequest): BorTag {
    const parent = r.parent;
    const a = r.alloc as Allocation;
    if (a.borrows === null) return parent;
    this.use(parent);
    this.beforeCreate();
    const state = this.state(a);
    // Miri's policy (kind, protector, cause): one place, borrowtracker/retag-policy.ts. A
    // function-entry retag is made at the function and invalidates at the call.
    const fnEntry = isFnEntry(r);
    const options = retagOptions(r, r.site);
    const site = fnEntry && this.entrySite >= 0 ? this.entrySite : r.site;
    const result = this.sb.retag(a.id, parent, r.offset, r.size, retagKind(r), site, options);
    if (typeof result !== "number") return this.fail(result, parent);
    this.created(result);
    this.refresh(a, state);
    if (fnEntry && r.size > 0 && this.entryToken !== 0) {
      const list = this.protectedBy.get(this.entryToken);
      if (list === undefined) this.protectedBy.set(this.entryToken, [result]);
      else list.push(result);
    }
    return result;
  }

  /**
   * @inheritDoc
   *
   * The raw access path calls it for every access to a tracked allocation that its fast test
   * (`borrowRead`/`borrowWrite`) did not settle: it goes straight to the allocation's stacks,
   * records the tag's use for the GC (one typed-array store), and renews the fast test.
   */
  access(kind: AccessKind, alloc: TrackedAllocation, tag: BorTag, offset: number, size: number, site: number): void {
    const a = alloc as Allocation;
    let state = a.borrows as AllocationState | null;
    if (state === null) return;
    if (isFresh(state)) {
      if (tag === a.borrowWrite) return; // the root of a fresh allocation
      state = this.state(a);
    }
    this.seen[tag] = this.epoch;
    const f = state.access(kind === "write" ? 1 : 0, tag, offset, size, site);
    if (f !== null) this.fail(f, tag);
    this.refresh(a, state);
  }

  /** @inheritDoc */
  deallocate(alloc: TrackedAllocation, tag: BorTag, site: number): void {
    const a = alloc as Allocation;
    const state = a.borrows;
    if (state === null) return;
    this.use(tag);
    if (!isFresh(state) || tag !== a.borrowWrite) {
      // (Freeing a fresh allocation through its root checks nothing: no item can be protected.)
      this.state(a);
      const f = this.sb.deallocate(a.id, tag, site);
      if (f !== null) this.fail(f, tag);
    }
    a.borrows = null;
    a.borrowRead = -1;
    a.borrowWrite = -1;
  }

  /** @inheritDoc */
  expose(alloc: TrackedAllocation, tag: BorTag): void {
    const a = alloc as Allocation;
    if (a.borrows === null) return;
    if (isFresh(a.borrows) && tag === a.borrowWrite) {
      a.borrows = FRESH_EXPOSED;
      return;
    }
    this.state(a);
    this.sb.expose(a.id, tag);
  }

  /** @inheritDoc */
  enterCall(site: number): number {
    const token = this.nextToken++;
    this.entrySite = site;
    this.entryToken = token;
    return token;
  }

  /** @inheritDoc */
  resumeCall(token: number): void {
    this.entryToken = token;
  }

  /** @inheritDoc */
  argumentSite(site: number): void {
    if (this.entryToken !== 0) this.entrySite = site;
  }

  /** @inheritDoc */
  endCall(token: number): void {
    if (token === this.entryToken) {
      this.entryToken = 0;
      this.entrySite = -1;
    }
    if (this.protectedBy.size === 0) return;
    const tags = this.protectedBy.get(token);
    if (tags === undefined) return;
    this.protectedBy.delete(token);
    this.sb.endCall(tags);
  }

  // ── the allocation's state ──────────────────────────────────────────────────────

  /** The Stacked Borrows state of tracked allocation `a`, made now if it is still {@link FRESH}. */
  private state(a: Allocation): AllocationState {
    const s = a.borrows as AllocationState;
    if (!isFresh(s)) return s;
    this.sb.newAllocation(a.id, a.size, a.kind, a.allocSite, undefined, a.borrowWrite);
    const made = this.sb.allocation(a.id)!;
    if (s === FRESH_EXPOSED) made.expose(a.borrowWrite);
    a.borrows = made;
    return made;
  }

  /**
   * Renews the access path's fast test of `a` after an operation changed its stacks: when the
   * allocation has one stack, its top item's tag reads (and, for `Unique` or `SharedReadWrite`,
   * writes) without changing anything.
   */
  private refresh(a: Allocation, state: AllocationState): void {
    const map = state.stacks;
    if (map.runCount !== 1) {
      a.borrowRead = -1;
      a.borrowWrite = -1;
      return;
    }
    const stack = map.runValue(0);
    const n = stack.length;
    if (n === 0) {
      a.borrowRead = -1;
      a.borrowWrite = -1;
      return;
    }
    const top = stack.tagAt(n - 1);
    const perm = stack.bitsAt(n - 1) & 3;
    a.borrowRead = perm === 3 ? -1 : top; // Disabled grants nothing
    a.borrowWrite = perm <= 1 ? top : -1; // Unique (0) or SharedReadWrite (1)
  }

  // ── findings, notes ─────────────────────────────────────────────────────────────

  /** Reports a finding of an operation through `tag` (stops the run). */
  private fail(f: Finding, tag: BorTag): never {
    if (tag > 0 && tag < this.nextTag && (this.collected[tag >> 3]! & (1 << (tag & 7))) !== 0) this.gcSuspect = true;
    const host = this.host;
    const help: HelpLine[] = f.help.map((h) => {
      if (h.site === undefined) return { message: h.message };
      const location = host.siteLocation(h.site);
      // The protected argument: its function's site, underlined to the end of the header line.
      if (h.message.endsWith(" is this argument")) return { message: h.message, location: { ...location, endLine: location.line + 1, endColumn: undefined } };
      return { message: h.message, location };
    });
    return host.report("stacked-borrows", f.message, { title: f.title, label: f.label, help });
  }

  private onTagEvent(e: TagEvent): void {
    this.host.note(e.message, "tracking was triggered here", e.site);
  }

  // ── liveness and the GC ─────────────────────────────────────────────────────────

  /** Records a use of `tag`. */
  private use(tag: BorTag): void {
    if (tag < this.seen.length) this.seen[tag] = this.epoch;
  }

  /** Before a tag is created: a GC, when one is due (no operation is under way then). */
  private beforeCreate(): void {
    if (--this.untilGc <= 0 && this.gcMin > 0) this.collect();
  }

  /** `tag` was just created: it is the newest, and recent. */
  private created(tag: BorTag): void {
    if (--this.untilEpoch === 0) {
      this.untilEpoch = EPOCH_TAGS;
      this.epoch = (this.epoch + 1) & 255;
    }
    if (tag >= this.nextTag) this.nextTag = tag + 1;
    if (tag >= this.seen.length) this.grow(tag);
    this.seen[tag] = this.epoch;
  }

  private grow(tag: BorTag): void {
    let n = this.seen.length;
    while (n <= tag) n *= 2;
    const seen = new Uint8Array(n);
    seen.set(this.seen);
    this.seen = seen;
    const collected = new Uint8Array(n >> 3);
    collected.set(this.collected);
    this.collected = collected;
  }

  /**
   * Collects the tags presumed dead (see the module comment) and starts a new epoch. Called by
   * the tracker itself when the interval is over; callable at any time between two operations.
   */
  collect(): void {
    const epoch = this.epoch;
    const seen = this.seen;
    let scanned = 0;
    // Pointers stored in memory are live, and so are the tags of the fast tests (the access path
    // does not record their uses): mark them as used now.
    const live = this.host.liveAllocations();
    for (const a of live) {
      if (a.borrows !== null && !isFresh(a.borrows)) {
        if (a.borrowRead > 0 && a.borrowRead < seen.length) seen[a.borrowRead] = epoch;
        if (a.borrowWrite > 0 && a.borrowWrite < seen.length) seen[a.borrowWrite] = epoch;
      }
      const ptrs = a.ptrs;
      if (ptrs === null) continue;
      for (const p of ptrs.values()) {
        if (p.tag < seen.length) seen[p.tag] = epoch;
        scanned++;
      }
      // Pointer fragments too: a copy may make them a whole pointer again.
      const frags = a.frags;
      if (frags !== null) {
        for (const { ptr: p } of frags.values()) {
          if (p.tag < seen.length) seen[p.tag] = epoch;
          scanned++;
        }
      }
    }
    const collected = this.collected;
    const sb = this.sb;
    sb.gc(
      {
        has: (t) => {
          // Used within the last LIVE_EPOCHS epochs (mod 256: a tag idle for exactly 256 epochs
          // looks recent, which only keeps it).
          if (t >= seen.length || ((epoch - seen[t]!) & 255) < LIVE_EPOCHS) return true;
          collected[t >> 3] |= 1 << (t & 7);
          return false;
        },
      },
      { minHeight: GC_MIN_HEIGHT },
    );
    for (const a of live) if (a.borrows !== null && !isFresh(a.borrows)) this.refresh(a, a.borrows as AllocationState);
    this.gcRuns++;
    const s = sb.stats();
    const work = s.items + s.runs + s.historyEvents + scanned + live.length;
    this.untilGc = Math.max(this.gcMin, work);
  }
}
