/**
 * Which calls can make a thread give up its CPU, decided at compile time by name.
 *
 * Only functions that can reach a scheduling point are compiled to generator functions (a
 * generator call costs about 25 ns; a plain call a few). The scheduling points are the
 * synchronisation operations — atomics, fences, spawn/join, yields, lock annotations, output —
 * and not plain memory accesses: in a program without data races only the order of
 * synchronisation operations changes what it computes, and data races are found by the
 * vector-clock detector whatever the interleaving. So a function that only reads and writes
 * memory stays a plain function and runs between two scheduling points without a yield.
 *
 * Names are matched without knowing the receiver's type, so a program method that shares a name
 * with a scheduling point is treated as one (safe: it only costs speed), and a call whose target
 * is unknown (a callback parameter, a computed member) is assumed to reach one.
 */
import { GUEST_APIS } from "../../shims/manifest.js";

/**
 * Calls (by callee or method name) that are scheduling points: those of every guest API (the
 * manifest, src/shims/manifest.ts), and output, which is visible (threads that print race on the
 * order of their lines).
 */
export const SCHEDULING_POINTS: ReadonlySet<string> = new Set([
  ...GUEST_APIS.flatMap((api) => api.schedulingPoints),
  "log", "error", "warn", "info",
]);

/**
 * Methods of built-ins that call a function they are given, and have a generator-aware version
 * (runtime-kit.ts): a call of one of them yields when the callback can, so a thread can block
 * inside `handles.map((h) => h.join())`.
 */
export const CALLBACK_BUILTINS: ReadonlySet<string> = new Set([
  "forEach", "map", "filter", "some", "every", "find", "findIndex", "findLast", "findLastIndex",
  "reduce", "reduceRight", "flatMap",
]);

/**
 * Names of functions that never reach a scheduling point: JavaScript built-ins and the
 * non-scheduling parts of `kmiri/rt`. A call of one of these names does not make its caller a
 * generator, unless the program also defines a function of that name that may yield.
 */
export const NEVER_YIELDS: ReadonlySet<string> = new Set([
  // the guest APIs' functions that never yield (the manifest)
  ...GUEST_APIS.flatMap((api) => api.neverYields),
  // JavaScript built-ins
  ...Object.getOwnPropertyNames(Array.prototype), ...Object.getOwnPropertyNames(Array),
  ...Object.getOwnPropertyNames(String.prototype), ...Object.getOwnPropertyNames(String),
  ...Object.getOwnPropertyNames(Number.prototype), ...Object.getOwnPropertyNames(Number),
  ...Object.getOwnPropertyNames(BigInt.prototype), ...Object.getOwnPropertyNames(BigInt),
  ...Object.getOwnPropertyNames(Object.prototype), ...Object.getOwnPropertyNames(Object),
  ...Object.getOwnPropertyNames(Map.prototype), ...Object.getOwnPropertyNames(Set.prototype),
  ...Object.getOwnPropertyNames(WeakMap.prototype), ...Object.getOwnPropertyNames(WeakSet.prototype),
  ...Object.getOwnPropertyNames(Math), ...Object.getOwnPropertyNames(JSON),
  ...Object.getOwnPropertyNames(Function.prototype), ...Object.getOwnPropertyNames(Symbol),
  ...Object.getOwnPropertyNames(Uint8Array.prototype), ...Object.getOwnPropertyNames(DataView.prototype),
  ...Object.getOwnPropertyNames(Date.prototype), ...Object.getOwnPropertyNames(Reflect),
  "Number", "String", "BigInt", "Boolean", "Symbol", "Object", "Array", "Map", "Set", "WeakMap",
  "WeakSet", "Error", "TypeError", "RangeError", "parseInt", "parseFloat", "isNaN", "isFinite",
  "Uint8Array", "Uint16Array", "Uint32Array", "Int32Array", "Float64Array", "BigInt64Array",
  "BigUint64Array", "DataView", "ArrayBuffer", "Date", "RegExp", "encodeURIComponent", "decodeURIComponent",
].filter((n) => !SCHEDULING_POINTS.has(n)));
