/**
 * Function-entry retags (Miri's `FnEntry` retags): a reference or `Box` passed to a program
 * function whose parameter is declared `Ref<…>`, `RefMut<…>` or `Box<…>` in the `.ts` source is
 * retagged when the function starts (the compiler emits `$R.fnArg` for such parameters; see
 * interp/compile/ts-params.ts), and the callee sees the new reference:
 *
 * - `Ref<T>` → a shared retag, `RefMut<T>` → a unique retag, both *strongly* protected until the
 *   function returns: while it runs, no access through another pointer may invalidate them, and
 *   their memory may not be freed;
 * - `Box<T>` → a `box` (unique) retag, *weakly* protected: the callee may free it, through it.
 *
 * Other values (a parameter typed `Ref` that receives something else) pass unchanged. The
 * checked runtime hands the function to the Machine (runtime.ts), which calls it for every
 * argument the compiler marked, when it tracks borrows.
 */
import { BoxImpl, boxRetag } from "./memory.js";
import { borrow, Ref, RefMut, refPtr, refTag, withTag } from "./refs.js";

/** The function-entry retag of one argument (`kind` as the compiler read the parameter's type). */
export function retagArgument(value: unknown, kind: "ref" | "box"): unknown {
  if (kind === "box") {
    if (value instanceof BoxImpl) return new BoxImpl(boxRetag(value.raw, "fn-entry"));
    return value;
  }
  if (value instanceof RefMut) return withTag(RefMut, refPtr(value), borrow(refPtr(value), true, refTag(value), "fn-entry"));
  if (value instanceof Ref) return withTag(Ref, refPtr(value), borrow(refPtr(value), false, refTag(value), "fn-entry"));
  return value;
}
