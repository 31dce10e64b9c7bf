/**
 * `kmiri/rt` as the Machine provides it: every name of the contract (api/rt.d.ts), checked.
 * One namespace serves every Machine; the shims find the running one through `context.ts`, and the
 * Machine takes this runtime as `checkedRuntime` (runtime.ts).
 */
export * from "../layouts-api.js";
// The memory API of the contract (api/rt.d.ts); runtime internals (the native heap, the pointer
// factory) stay out of `kmiri/rt`.
export {
  Ptr,
  null_mut,
  ptr_from_exposed,
  without_provenance,
  alloc,
  alloc_zeroed,
  dealloc,
  realloc,
  copy,
  copy_nonoverlapping,
  write_bytes,
  transmute,
  Box,
  BoxImpl,
} from "./memory.js";
import * as layouts from "../../interp/memory/layouts.js";
import type { Layout } from "../../interp/memory/layouts.js";
import type { Ptr } from "./memory.js";
import { guestRealm } from "../../interp/guest-realm.js";

/**
 * A layout constructor whose layouts belong to the program's realm: a layout made at run time
 * (its field list, its records) must not lead the program to kmiri's realm (guest-realm.ts).
 */
function admitting<F extends (...args: any[]) => object>(make: F): F {
  const f = (...args: Parameters<F>) => {
    const layout = make(...args);
    guestRealm().admit(layout, false);
    return layout;
  };
  Object.defineProperty(f, "name", { value: make.name });
  return f as F;
}

// These override the constructors of `export *` above.
export const array = admitting(layouts.array);
export const struct = admitting(layouts.struct);
export const cell = admitting(layouts.cell);
export const maybe_uninit = admitting(layouts.maybe_uninit);
export const enum_ = admitting(layouts.enum_);
/**
 * `*mut T` (and `*const T`) stored in memory: the address in 8 bytes (alignment 8), its
 * provenance kept by the memory it is written to. For a recursive type, pass a thunk:
 * `const Node: Layout<NodeV> = struct("Node", { next: ptr(() => Node), v: u32 })`.
 */
export const ptr: <T>(pointee: Layout<T> | (() => Layout<T>)) => Layout<Ptr<T>> = admitting(layouts.ptr) as never;
/** `AtomicPtr<T>`: a pointer (8 bytes, keeps its provenance), atomic. */
export const AtomicPtr: <T>(pointee: Layout<T> | (() => Layout<T>)) => Layout<Ptr<T>> = admitting(layouts.AtomicPtr) as never;
export { JoinHandle, spawn, yield_now, spin_loop } from "./threads.js";
export { panic, assert, assert_eq, assert_ne, unreachable } from "./panic.js";
export { ktest } from "./tests.js";
export { Ref, RefMut } from "./refs.js";
export { fence, compiler_fence } from "./atomics.js";
export { lock_acquired, lock_released, lock_class_rank } from "./locks.js";
export { Static, static_ } from "./statics.js";
export { Local, local } from "./locals.js";
