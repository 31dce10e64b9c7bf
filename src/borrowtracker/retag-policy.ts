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
 * Both trackers that implement the hooks — the library's {@link StackedBorrowsHooks} and the
 * Machine's (src/interp/borrows.ts) — retag through {@link retagPlan}.
 */
import type { RetagRequest } from "./hooks.js";
import type { ProtectorOption, RetagKind, RetagOptions } from "./stacked-borrows/tracker.js";

/** A retag request as the Stacked Borrows tracker takes it. */
export interface RetagPlan {
  /** The tracker's retag kind (a raw retag is `raw-mut` or `raw-shared`). */
  readonly kind: RetagKind;
  /** True for a function-entry retag of a reference or `Box` (it is protected, and the call must release it). */
  readonly fnEntry: boolean;
  /** The retag's options, or `undefined` when the defaults apply (no protector, no cells, a normal retag). */
  readonly options: RetagOptions | undefined;
}

/** The protector Miri gives a function-entry retag of this kind. */
export function entryProtector(kind: RetagRequest["kind"]): ProtectorOption {
  return kind === "box" ? "weak" : "strong";
}

/**
 * The retag `r` asks for. `callSite` (optional) is where the call of a function-entry retag is,
 * for the help line of what it invalidates.
 */
export function retagPlan(r: RetagRequest, callSite?: number): RetagPlan {
  const kind: RetagKind = r.kind === "raw" ? (r.mutable ? "raw-mut" : "raw-shared") : r.kind;
  const fnEntry = r.mode === "fn-entry" && r.kind !== "raw";
  if (!fnEntry && r.mode !== "two-phase" && r.interior === null) return { kind, fnEntry, options: undefined };
  const options: RetagOptions = {
    protector: fnEntry ? entryProtector(r.kind) : "none",
    cells: r.interior,
    cause: fnEntry ? "fn-entry" : r.mode === "two-phase" ? "two-phase" : "normal",
    ...(callSite === undefined ? {} : { callSite }),
  };
  return { kind, fnEntry, options };
}
