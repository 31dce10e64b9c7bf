/**
 * Stacked Borrows for one machine: the calls an interpreter makes when memory is allocated,
 * references are made (retags), memory is read, written or freed, and calls end. Each check
 * returns `null` or a {@link Finding}; nothing here throws for a program's undefined behaviour.
 *
 * The retag policy (which permission each kind of pointer gets, Miri's
 * `NewPermission::from_ref_ty`/`from_box_ty`):
 *
 * | kind | bytes outside `UnsafeCell` | bytes inside `UnsafeCell` | protector |
 * | --- | --- | --- | --- |
 * | `unique` (`&mut T`) | `Unique`, a write access by the parent | same | as asked (`strong` on function entry) |
 * | `box` (`Box<T>`) | `Unique`, a write access by the parent | same | as asked (`weak` on function entry) |
 * | `shared` (`&T`) | `SharedReadOnly`, a read access by the parent | `SharedReadWrite`, no access | as asked, outside cells only |
 * | `raw-shared` (`*const T` from a reference) | `SharedReadOnly`, a read access | `SharedReadWrite`, no access | never |
 * | `raw-mut` (`*mut T` from a reference; also `&mut T` of a `!Unpin` type) | `SharedReadWrite`, no access | same | never |
 *
 * A `unique` retag with cause `two-phase` (a two-phase borrow) is treated like `raw-mut`, as Miri
 * does.
 */
import { tagValue, WILDCARD, type BorTag, type TagOrWildcard, type TagSet } from "../tags.js";
import { AllocationState, type CellRanges, type NewPermission } from "./allocation-state.js";
import { retagCauseCode, type Finding, type RetagCause, type Site, type TagEvent } from "./diagnostics.js";
import { GlobalState } from "./global-state.js";
import { READ, SHARED_READ_ONLY, SHARED_READ_WRITE, UNIQUE, WRITE, type ItemView, type ProtectorKind } from "./item.js";
import { NO_ACCESS } from "./stack.js";

/** What memory an allocation is: `stack` memory (a local) starts `Unique`, the rest `SharedReadWrite`. */
export type AllocationKind = "heap" | "stack" | "static" | (string & {});

/** What kind of pointer a retag makes (see the table in the module comment). */
export type RetagKind = "shared" | "unique" | "raw-shared" | "raw-mut" | "box";

/** The protector a retag asks for: `strong` for reference arguments, `weak` for `Box` arguments. */
export type ProtectorOption = "none" | ProtectorKind;

/** A memory access: `read` or `write`. */
export type AccessKindName = "read" | "write";

/** The optional parts of a retag. */
export interface RetagOptions {
  /** The new tag's protector (default `none`); ignored for raw pointers and for bytes inside cells. */
  readonly protector?: ProtectorOption;
  /**
   * The bytes of the pointee inside an `UnsafeCell` (a `cell`, an atomic), as flattened sorted
   * `[start, end)` pairs relative to the retag's offset (`[0, 4, 8, 12]`): a `shared` or
   * `raw-shared` retag grants them `SharedReadWrite`. `null` or empty: none.
   */
  readonly cells?: CellRanges | null;
  /** Why the retag happens (default `normal`); it names the retag in messages. */
  readonly cause?: RetagCause;
  /**
   * For a `fn-entry` retag: the site of the call, where the help line of an item this retag
   * invalidates points (`… by a Unique function-entry retag inside this call`). Default: the retag's site.
   */
  readonly callSite?: Site;
}

/** Options of a {@link StackedBorrows} tracker. */
export interface StackedBorrowsOptions {
  /** Tags to track from the start (`--track-tag N`). */
  readonly trackTags?: Iterable<BorTag>;
  /** Receives each event of a tracked tag. */
  readonly onTagEvent?: (event: TagEvent) => void;
  /**
   * Keep each allocation's history for the help lines of findings (default true). Off, findings
   * name no creation or invalidation sites, and retags and accesses record nothing for them.
   */
  readonly history?: boolean;
}

/** A stack as the inspection API shows it. */
export interface StackView {
  /** `null` when the whole stack is known, else N: unknown items with tags below N lie under `items`. */
  readonly unknownBottom: BorTag | null;
  /** The known items, bottom first. */
  readonly items: readonly ItemView[];
}

/** Size of the tracker, for benchmarks and the GC policy. */
export interface StackedBorrowsStats {
  /** Allocations tracked. */
  readonly allocations: number;
  /** Runs of bytes with their own stack, over all allocations. */
  readonly runs: number;
  /** Items in all stacks. */
  readonly items: number;
  /** History events recorded. */
  readonly historyEvents: number;
  /** Tags protected by running calls. */
  readonly protectedTags: number;
  /** The next tag to be handed out (every tag so far is below it). */
  readonly nextTag: BorTag;
}

const NO_CELLS: CellRanges = Object.freeze([]);

/** The permission of a retag, by kind and protector: built once, shared by every retag. */
function perms(perm: NewPermission["perm"], access: NewPermission["access"], freezeSensitive: boolean, protectable: boolean) {
  const make = (protector: ProtectorKind | null): NewPermission => Object.freeze({ perm, access, protector, freezeSensitive });
  const none = make(null);
  return { none, weak: protectable ? make("weak") : none, strong: protectable ? make("strong") : none };
}

const UNIQUE_PERMS = perms(UNIQUE, WRITE, false, true);
const SHARED_PERMS = perms(SHARED_READ_ONLY, READ, true, true);
const RAW_SHARED = perms(SHARED_READ_ONLY, READ, true, false).none;
const RAW_MUT = perms(SHARED_READ_WRITE, NO_ACCESS, false, false).none;

/** What a retag of `kind` grants (a switch, not a keyed lookup: this runs on every retag). */
function newPermission(kind: RetagKind, protector: ProtectorOption, cause: RetagCause): NewPermission {
  switch (kind) {
    case "unique":
      // Two-phase borrows are treated like raw pointers.
      if (cause === "two-phase") return RAW_MUT;
      return protector === "none" ? UNIQUE_PERMS.none : UNIQUE_PERMS[protector];
    case "box":
      return protector === "none" ? UNIQUE_PERMS.none : UNIQUE_PERMS[protector];
    case "shared":
      return protector === "none" ? SHARED_PERMS.none : SHARED_PERMS[protector];
    case "raw-shared":
      return RAW_SHARED;
    case "raw-mut":
      return RAW_MUT;
    default:
      throw new TypeError(`unknown retag kind ${String(kind)}`);
  }
}

/** Stacked Borrows for one machine. */
export class StackedBorrows {
  private readonly global = new GlobalState();
  private readonly allocations = new Map<number, AllocationState>();

  /** A tracker with no allocations. */
  constructor(options: StackedBorrowsOptions = {}) {
    for (const t of options.trackTags ?? []) this.global.trackedTags.add(t);
    this.global.onTagEvent = options.onTagEvent ?? null;
    this.global.history = options.history ?? true;
  }

  /**
   * A new allocation `id` of `size` bytes, made at `site`: returns its root tag, the tag of the
   * pointer the allocator hands out. Replaces any earlier state of the same id.
   *
   * @param name - the allocation in messages (default `alloc<id>`)
   * @param rootTag - the root tag, if one was reserved with {@link StackedBorrows.newTag} (an
   *   engine may hand out the root tag at once and make the state only when something other than
   *   the root pointer touches the allocation); default a fresh tag
   */
  newAllocation(id: number, size: number, kind: AllocationKind, site: Site, name = `alloc${id}`, rootTag?: BorTag): BorTag {
    const state = new AllocationState(this.global, id, size, kind === "stack", site, name, rootTag);
    this.allocations.set(id, state);
    return state.rootTag;
  }

  /**
   * A fresh tag, for a later {@link StackedBorrows.newAllocation} (as its `rootTag`). Until then,
   * every access through it is an access through the root of a fresh allocation: it changes no
   * stack, so an engine need not make the allocation's state for it.
   */
  newTag(): BorTag {
    return this.global.tags.next();
  }

  /**
   * The state of allocation `id`, or `undefined` if it is not tracked. An engine may keep it on its
   * own allocation object and call it directly, saving a map lookup per access.
   */
  allocation(id: number): AllocationState | undefined {
    return this.allocations.get(id);
  }

  /** The root tag of allocation `id`, or `undefined` if it is not tracked. */
  rootTag(id: number): BorTag | undefined {
    return this.allocations.get(id)?.rootTag;
  }

  /**
   * A retag: a new pointer of `kind` to the `size` bytes at `offset` of allocation `id`, derived
   * from a pointer tagged `parent`. Returns the new tag, or the finding if the parent may not be
   * reborrowed so (`trying to retag from <3> for Unique permission at alloc1[0x0], but that tag
   * does not exist in the borrow stack for this location`). A zero-sized retag touches no stack.
   * On an untracked allocation, returns the parent's tag ({@link WILDCARD} for a wildcard).
   */
  retag(
    id: number,
    parent: TagOrWildcard,
    offset: number,
    size: number,
    kind: RetagKind,
    site: Site,
    options?: RetagOptions,
  ): BorTag | Finding {
    const from = tagValue(parent);
    const state = this.allocations.get(id);
    if (state === undefined) return from;
    const tag = this.global.tags.next();
    let f: Finding | null;
    if (options === undefined) {
      f = state.retag(from, tag, offset, size, newPermission(kind, "none", "normal"), NO_CELLS, 0, site, site);
    } else {
      const cause = options.cause ?? "normal";
      const perm = newPermission(kind, options.protector ?? "none", cause);
      f = state.retag(from, tag, offset, size, perm, options.cells ?? NO_CELLS, retagCauseCode(cause), site, options.callSite ?? site);
    }
    return f === null ? tag : f;
  }

  /**
   * An access of `size` bytes at `offset` of allocation `id` through a pointer tagged `tag`, made
   * at `site`, after the basic checks (live, in bounds). Returns `null`, or the finding
   * (`attempting a write access using <41> at alloc7[0x8], but that tag only grants
   * SharedReadOnly permission for this location`). Untracked allocations are not checked.
   */
  access(id: number, tag: TagOrWildcard, offset: number, size: number, kind: AccessKindName, site: Site): Finding | null {
    const state = this.allocations.get(id);
    if (state === undefined) return null;
    return state.access(kind === "write" ? WRITE : READ, tag === "wildcard" ? WILDCARD : tag, offset, size, site);
  }

  /**
   * The deallocation of allocation `id` through a pointer tagged `tag`, at `site`. Returns `null`
   * (the allocation is then forgotten) or the finding (`attempting deallocation using <5> at
   * alloc2, …`, `deallocating while item [Unique for <7>] is strongly protected`).
   */
  deallocate(id: number, tag: TagOrWildcard, site: Site): Finding | null {
    const state = this.allocations.get(id);
    if (state === undefined) return null;
    const f = state.deallocate(tagValue(tag), site);
    if (f === null) this.allocations.delete(id);
    return f;
  }

  /** Forgets allocation `id` without any check (its memory went away some other way). */
  removeAllocation(id: number): void {
    this.allocations.delete(id);
  }

  /** The provenance of a pointer tagged `tag` into allocation `id` was exposed: wildcard pointers may now use it. */
  expose(id: number, tag: TagOrWildcard): void {
    this.allocations.get(id)?.expose(tagValue(tag));
  }

  /** A call returned: the protectors of the tags its function-entry retags protected end. */
  endCall(protectedTags: Iterable<BorTag>): void {
    for (const t of protectedTags) this.global.releaseProtector(t);
  }

  /** The protector of `tag` while its call runs, or `undefined`. */
  protectorOf(tag: BorTag): ProtectorKind | undefined {
    return this.global.protectedTags.get(tag);
  }

  /** Tracks `tag` (`--track-tag N`): its creation and each removal from a stack are reported to the listener. */
  trackTag(tag: BorTag): void {
    this.global.trackedTags.add(tag);
  }

  /** Sets (or, with `null`, removes) the listener of tracked-tag events. */
  setTagEventListener(listener: ((event: TagEvent) => void) | null): void {
    this.global.onTagEvent = listener;
  }

  /**
   * Garbage collection of tags (Miri's provenance GC): `liveTags` holds every tag some pointer
   * still carries (in memory, locals, registers of the engine). Items and history of other tags
   * are dropped where that cannot change any verdict; protected and exposed tags count as live
   * (`liveTags` is not asked about them). Call it every few thousand operations: it keeps stacks
   * short and memory bounded.
   *
   * @param options.minHeight - only stacks taller than this lose items (default 0: all); an engine
   *   that cannot know every live tag exactly can so limit the GC to the stacks that grow
   */
  gc(liveTags: TagSet, options: { readonly minHeight?: number } = {}): void {
    const prot = this.global.protectedTags;
    const live: TagSet = prot.size === 0 ? liveTags : { has: (t) => prot.has(t) || liveTags.has(t) };
    for (const state of this.allocations.values()) state.retain(live, options.minHeight ?? 0);
  }

  /** The stack of the byte at `offset` of allocation `id` (for tests and debugging). */
  stackAt(id: number, offset: number): StackView | undefined {
    const stack = this.allocations.get(id)?.stackAt(offset);
    if (stack === undefined) return undefined;
    return { unknownBottom: stack.unknownBound === 0 ? null : stack.unknownBound, items: stack.items() };
  }

  /** Allocation `id`'s stacks, one line per run, as Miri's `print_stacks`: `0..4: [ SharedReadWrite<1> Unique<2> ]`. */
  describe(id: number): string[] {
    return this.allocations.get(id)?.describe() ?? [];
  }

  /** Counts of what the tracker holds. */
  stats(): StackedBorrowsStats {
    let runs = 0;
    let items = 0;
    let historyEvents = 0;
    for (const a of this.allocations.values()) {
      runs += a.stacks.runCount;
      for (const [, , s] of a.stacks.entries()) items += s.length;
      historyEvents += a.history.eventCount;
    }
    return {
      allocations: this.allocations.size,
      runs,
      items,
      historyEvents,
      protectedTags: this.global.protectedTags.size,
      nextTag: this.global.tags.peek(),
    };
  }
}
