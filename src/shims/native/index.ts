/**
 * `kmiri/rt` in native mode: the same names as on the Machine, on plain Node, with no checks —
 * the speed baseline, and what a program gets when it imports `kmiri/rt` outside kmiri.
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
import { AtomicPtr as atomicPtrLayout, ptr as ptrLayout, type Layout } from "../../interp/memory/layouts.js";
import type { Ptr } from "./memory.js";
/**
 * `*mut T` (and `*const T`) stored in memory: the address in 8 bytes (alignment 8), its
 * provenance kept by the memory it is written to. For a recursive type, pass a thunk:
 * `const Node: Layout<NodeV> = struct("Node", { next: ptr(() => Node), v: u32 })`.
 */
export const ptr: <T>(pointee: Layout<T> | (() => Layout<T>)) => Layout<Ptr<T>> = ptrLayout as never;
/** `AtomicPtr<T>`: a pointer (8 bytes, keeps its provenance), atomic. */
export const AtomicPtr: <T>(pointee: Layout<T> | (() => Layout<T>)) => Layout<Ptr<T>> = atomicPtrLayout as never;
export { JoinHandle, spawn, yield_now, spin_loop } from "./threads.js";
export { panic, assert, assert_eq, assert_ne, unreachable } from "./panic.js";
export { ktest } from "./tests.js";
export { Ref, RefMut } from "./refs.js";
// Types the contract names (api/rt.d.ts) that programs may spell out.
export type { CasResult, Ordering } from "../atomic-values.js";
export { fence, compiler_fence, lock_acquired, lock_released, lock_class_rank } from "./atomics.js";
export { Static, static_ } from "./statics.js";
export { Local, local } from "./locals.js";
