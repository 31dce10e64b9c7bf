/**
 * Miri's retag policy, in one place: how a retag request of the runtime ({@link RetagRequest})
 * becomes a Stacked Borrows retag — its kind, and whether it protects:
 *
 * - a reference or `Box` passed to a function is retagged on entry (`fn-entry`) and protected
 *   until the call returns: a reference *strongly* (its memory may not be freed nor its tag
 *   invalidated while the call runs), a `Box` *weakly* (the callee may free it, through it);
 * - a raw retag never protects;
 * - a two-phase borrow names itself in messages (`two-phase`);
 * - the bytes inside `UnsafeCell`s (`interior`) are granted `SharedReadWrite` by a shared retag.
 *
 * Both trackers that implement the hooks — the library's `StackedBorrowsHooks` and the
 * Machine's (src/interp/borrows.ts) — retag through these functions (on the hot path of every
 * reference creation: they allocate nothing unless the retag has options).
 */
import type { RetagRequest } from "./hooks.js";
import type { ProtectorOption, RetagKind, RetagOptions } from "./stacked-borrows/tracker.js";

/** The tracker's retag kind of a request (a raw retag is `raw-mut` or `raw-shared`). */
export function retagKind(r: RetagRequest): RetagKind {
  return r.kind === "raw" ? (r.mutable ? "raw-mut" : "raw-shared") : r.kind;
}

/** True for a function-entry retag of a reference or `Box`: it is protected, and the call must release it. */
export function isFnEntry(r: RetagRequest): boolean {
  return r.mode === "fn-entry" && r.kind !== "raw";
}

/** The protector Miri gives a function-entry retag of this kind. */
export function entryProtector(kind: RetagRequest["kind"]): ProtectorOption {
  return kind === "box" ? "weak" : "strong";
}

/**
 * The options of the retag `r` asks for, or `undefined` when the defaults apply (no protector,
 * no cells, a normal retag: the common case, which allocates nothing). `callSite` (optional) is
 * where the call of a function-entry retag is, for the help line of what it invalidates.
 */
export function retagOptions(r: RetagRequest, callSite?: number): RetagOptions | undefined {
  const fnEntry = isFnEntry(r);
  if (!fnEntry && r.mode !== "two-phase" && r.interior === null) return undefined;
  const options: RetagOptions = {
    protector: fnEntry ? entryProtector(r.kind) : "none",
    cells: r.interior,
    cause: fnEntry ? "fn-entry" : r.mode === "two-phase" ? "two-phase" : "normal",
  };
  // (Assigned, not spread: a retag of interior-mutable memory makes one of these per reference.)
  if (callSite !== undefined) (options as { callSite?: number }).callSite = callSite;
  return options;
}
