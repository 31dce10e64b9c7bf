/**
 * The borrow tracker's hooks: the calls the checked runtime makes whenever a reference is created
 * or an access goes through a reference or a pointer. This module is the interface only — no
 * state, no imports from the engine — so that Stacked Borrows (and Tree Borrows later) can be
 * built, tested and reused by another simulator against it alone.
 *
 * The shape is Miri's (`src/borrow_tracker/mod.rs`): every allocation gets a root tag when it is
 * made; creating a reference (`&x`, `&mut x`, `&*p`, a field projection, a reborrow) or casting
 * one to a raw pointer is a *retag* that derives a new tag from its parent's; every read, write and
 * deallocation names the tag it uses, so the tracker can check it against the location's borrow
 * stack. A function that receives references retags them on entry with a protector, released when
 * it returns (see {@link BorrowTracker.enterCall}).
 *
 * When no tracker is installed (`--borrow-model none`), the runtime skips every hook behind one
 * `null` test.
 *
 * ## Where the runtime calls each hook (src/shims/checked/borrow-hooks.ts wires them)
 *
 * | hook | called from |
 * | --- | --- |
 * | `newAllocation` | `alloc`, `alloc_zeroed`, `realloc`, `Box.new` (memory.ts: the root tag goes on the pointer returned), `static_` (statics.ts), `local` (locals.ts) |
 * | `retag` | every `Ref`/`RefMut` creation: `Ptr.as_ref/as_mut`, `Box.as_ref/as_mut/leak` (memory.ts, through the reference constructor), `Static.as_ref/as_mut`, `Local.as_ref/as_mut`, `reborrow`, `reborrow_mut`, `field`, `field_mut`, `index`, `index_mut`; `raw` retags from `as_ptr`/`as_mut_ptr`/`get` and `Static.as_ptr`/`Local.as_ptr`; `box` retags from `Box.new`/`Box.from_raw`; `fn-entry` retags of reference and `Box` arguments (fn-entry.ts) |
 * | `access` | every read and write that passed the memory checks, for an allocation whose `borrows` is set: `load`/`store` (interp/memory/access.ts: raw pointers, references, locals, statics, boxes all read and write through them, each with its tag), `copy`/`copy_nonoverlapping`/`write_bytes` (interp/memory/bulk.ts), the read of `realloc` |
 * | `deallocate` | `dealloc`, `Box.drop`, `realloc` (memory.ts), a local dying when its function returns (locals.ts) |
 * | `expose` | `Ptr.expose_provenance` (memory.ts) |
 * | `enterCall` / `endCall` | the prologue of a function that received a reference or `Box` (directly or inside an aggregate), and its `finally` (the Machine's `fa`/`fnExit`, emitted by the compiler: interp/compile/instrument.ts) |
 *
 * ## Function-entry retags
 *
 * Rust retags every reference argument on function entry with a protector (`FnEntry`), which
 * stays until the function returns. kmiri decides by the values (src/shims/checked/fn-entry.ts):
 * the prologue of a program function calls the Machine's `fa` for each object argument; the first
 * reference or `Box` found (as the argument, or inside an array or object argument) opens the
 * call ({@link BorrowTracker.enterCall}), each is retagged with `mode: "fn-entry"` and replaced by
 * the new reference, and the function's `finally` calls {@link BorrowTracker.endCall}. A returned
 * reference gets a `default` retag at the `return`.
 */

/**
 * A borrow tag: a positive integer, printed `<12>`. {@link UNTAGGED} (0) is a pointer whose tag
 * the runtime does not know: a wildcard pointer (`ptr_from_exposed`), or any pointer while no
 * tracker runs.
 */
export type BorTag = number;

/** The tag of a pointer whose tag is not tracked (a wildcard pointer). A tracker treats it as a wildcard. */
export const UNTAGGED: BorTag = 0;

/**
 * What kind of pointer a retag makes (Miri's `NewPermission`):
 * - `shared`: `&T` — `SharedReadOnly` on frozen bytes, `SharedReadWrite` inside `UnsafeCell`;
 * - `unique`: `&mut T` — `Unique`;
 * - `box`: a `Box<T>` — `Unique`, like `&mut T`, but only *weakly* protected as a function
 *   argument (the callee may free it);
 * - `raw`: a reference cast to a raw pointer (`as_ptr`, `as_mut_ptr`, `UnsafeCell::get`) —
 *   `SharedReadWrite` for `*mut`, like `shared` for `*const`.
 */
export type RetagKind = "shared" | "unique" | "box" | "raw";

/**
 * Why a retag happens: `default` (a borrow or reborrow in the code), `fn-entry` (a reference
 * argument on function entry: the new tag is protected until the call ends), `two-phase` (a
 * two-phase borrow; unused for now).
 */
export type RetagMode = "default" | "fn-entry" | "two-phase";

/** The kind of an access through a tag. */
export type AccessKind = "read" | "write";

/**
 * What a tracker may know of an allocation. Structural: the engine's `Allocation` satisfies it,
 * and a tracker may keep its per-allocation state in its own map keyed by this object.
 */
export interface TrackedAllocation {
  /** `alloc<id>` in diagnostics. */
  readonly id: number;
  /** Base address. */
  readonly base: number;
  /** Size in bytes. */
  readonly size: number;
  /** `heap`, `stack`, `static`, … (Miri: stack memory starts `[Unique for root]`, the rest `[SharedReadWrite for root]`). */
  readonly kind: string;
  /**
   * The tracker's own state of the allocation: a tracker sets it (to anything but `null`) in
   * {@link BorrowTracker.newAllocation} for the allocations it tracks. The runtime's access path
   * calls {@link BorrowTracker.access} only for allocations where it is set — one `null` test per
   * access — and Stacked Borrows keeps the allocation's stacks here, so that an access needs no lookup.
   */
  borrows?: unknown;
}

/** One retag: a new reference (or raw pointer) derived from a parent pointer. */
export interface RetagRequest {
  /** The permission the new pointer gets. */
  readonly kind: RetagKind;
  /** Why. */
  readonly mode: RetagMode;
  /** For `raw`: a `*mut` (true) or a `*const` (false); for the others, whether it is `&mut`. */
  readonly mutable: boolean;
  /** The allocation the new pointer points into (already checked live and in bounds). */
  readonly alloc: TrackedAllocation;
  /** The tag of the pointer it is derived from. */
  readonly parent: BorTag;
  /** Offset of the pointee in the allocation. */
  readonly offset: number;
  /** Size of the pointee in bytes (0: a zero-sized retag touches no stack). */
  readonly size: number;
  /**
   * The bytes of the pointee inside an `UnsafeCell` (`cell`, atomics), as flattened `[start, end)`
   * pairs relative to `offset` (the layout's `cells`), or `null` for none: a shared retag is
   * freeze-sensitive (Miri's `visit_freeze_sensitive`).
   */
  readonly interior: readonly number[] | null;
  /** The program site making the reference (for `<TAG> was created here`). */
  readonly site: number;
}

/**
 * The borrow tracker of one Machine. Every method may stop the run with a report (kind
 * `stacked-borrows` or `tree-borrows`), like any check.
 */
export interface BorrowTracker {
  /** A new allocation (`site` made it): returns its root tag (the tag of the pointer the allocator hands out). */
  newAllocation(alloc: TrackedAllocation, site: number): BorTag;
  /** A retag: checks that the parent may be reborrowed so, and returns the new pointer's tag. */
  retag(request: RetagRequest): BorTag;
  /**
   * An access of `size` bytes at `offset` of `alloc` through `tag` (the basic checks — live,
   * in bounds, aligned, writable — have passed; initialisation and validity are checked after).
   */
  access(kind: AccessKind, alloc: TrackedAllocation, tag: BorTag, offset: number, size: number, site: number): void;
  /** A deallocation through `tag` (a free, or a local dying when its function returns). */
  deallocate(alloc: TrackedAllocation, tag: BorTag, site: number): void;
  /** The provenance of a pointer with `tag` was exposed (`expose_provenance`): wildcard accesses may use it. */
  expose(alloc: TrackedAllocation, tag: BorTag): void;
  /** A program function was entered (before its `fn-entry` retags): returns a token for {@link endCall}. */
  enterCall(site: number): number;
  /** That function returned: the protectors of its `fn-entry` retags end. */
  endCall(token: number): void;
  /**
   * Optional: the `fn-entry` retags that follow belong to call `token` again (the program ran
   * other calls between two of its arguments' retags — an argument's getter). A tracker that
   * keeps a stack of calls needs nothing here.
   */
  resumeCall?(token: number): void;
  /**
   * Optional: the next `fn-entry` retag is of the parameter at `site` (so "<TAG> is this
   * argument" points at the parameter rather than at the function).
   */
  argumentSite?(site: number): void;
}
