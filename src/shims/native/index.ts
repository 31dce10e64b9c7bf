/**
 * `kmiri/rt` in native mode: the same names as on the Machine, on plain Node, with no checks —
 * the speed baseline, and what a program gets when it imports `kmiri/rt` outside kmiri.
 */
export * from "../../interp/memory/layouts.js";
export * from "./memory.js";
export { JoinHandle, spawn, yield_now, spin_loop } from "./threads.js";
export { panic, assert, assert_eq, assert_ne, unreachable } from "./panic.js";
export { ktest } from "./tests.js";
export { Ref, RefMut } from "./refs.js";
export { fence, compiler_fence, lock_acquired, lock_released, lock_class_rank } from "./atomics.js";
export { Static, static_ } from "./statics.js";
export { Local, local } from "./locals.js";
