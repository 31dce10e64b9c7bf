/**
 * `kmiri/rt` as the Machine provides it: every name of the contract (api/rt.d.ts), checked.
 * One namespace serves every Machine; the shims find the running one through `interp/host.ts`.
 */
export * from "../../interp/memory/layouts.js";
export * from "./memory.js";
export { JoinHandle, spawn, yield_now, spin_loop } from "./threads.js";
export { panic, assert, assert_eq, assert_ne, unreachable } from "./panic.js";
export { ktest } from "./tests.js";
export { Ref, RefMut } from "./refs.js";
export { fence, compiler_fence } from "./atomics.js";
export { lock_acquired, lock_released, lock_class_rank } from "./locks.js";
export { Static, static_ } from "./statics.js";
export { Local, local } from "./locals.js";
// Registers the function-entry retag of reference and Box arguments with the engine.
import "./fn-entry.js";
