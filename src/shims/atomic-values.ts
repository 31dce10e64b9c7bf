/**
 * The values of atomic operations, shared by the checked and the native runtime: which orderings
 * Rust accepts where (and its panic message otherwise), the result of a read-modify-write per
 * atomic type (wrapping arithmetic at the type's width), and what a compare-exchange compares.
 * No memory is touched here.
 *
 * Types: `AtomicU8`/`U16`/`U32`/`Usize` hold `number`s, `AtomicU64` a `bigint`, `AtomicBool` a
 * `boolean`, `AtomicPtr(T)` a pointer. Arithmetic wraps modulo 2^bits, as Rust's `fetch_add` and
 * `fetch_sub` do. `AtomicUsize` is computed on its 64 bits as a `bigint` and stored as such
 * ({@link rmwStoreLayout}), so `fetch_sub(1)` of 0 leaves `usize::MAX` in memory (read back as a
 * `number`, it is rounded: kmiri's `usize` is exact below 2^53). `AtomicBool` has `fetch_and`,
 * `fetch_or`, `fetch_xor` and `swap`; `AtomicPtr` has `swap` (Rust's `fetch_ptr_add` and friends
 * are not in the contract).
 */
import { u64, type Layout } from "../interp/memory/layouts.js";

/** A memory ordering (`core::sync::atomic::Ordering`). */
export type Ordering = "Relaxed" | "Acquire" | "Release" | "AcqRel" | "SeqCst";

/** `Result<T, T>` of a compare-exchange: `ok` with the previous value, or not ok with the current one. */
export interface CasResult<T> {
  readonly ok: boolean;
  readonly value: T;
}

/** The five orderings. */
export const ORDERINGS: ReadonlySet<string> = new Set(["Relaxed", "Acquire", "Release", "AcqRel", "SeqCst"]);

/** Where an ordering is used: each has orderings Rust rejects with a panic. */
export type OrderingUse = "load" | "store" | "failure" | "fence" | "compiler_fence" | "rmw";

/**
 * Rust's panic message for `ordering` used as `use` (`load(Release)`: "there is no such thing as
 * a release load"), or `null` when it is allowed. The ordering must be one of {@link ORDERINGS}.
 */
export function orderingPanic(use: OrderingUse, ordering: Ordering): string | null {
  switch (use) {
    case "load":
      if (ordering === "Release") return "there is no such thing as a release load";
      if (ordering === "AcqRel") return "there is no such thing as an acquire-release load";
      return null;
    case "store":
      if (ordering === "Acquire") return "there is no such thing as an acquire store";
      if (ordering === "AcqRel") return "there is no such thing as an acquire-release store";
      return null;
    case "failure":
      if (ordering === "Release") return "there is no such thing as a release failure ordering";
      if (ordering === "AcqRel") return "there is no such thing as an acquire-release failure ordering";
      return null;
    case "fence":
      return ordering === "Relaxed" ? "there is no such thing as a relaxed fence" : null;
    case "compiler_fence":
      return ordering === "Relaxed" ? "there is no such thing as a relaxed compiler fence" : null;
    case "rmw":
      return null;
  }
}

/** A read-modify-write method of the contract. */
export type RmwMethod = "swap" | "fetch_add" | "fetch_sub" | "fetch_and" | "fetch_or" | "fetch_xor";

/** What an atomic layout holds. */
export type AtomicClass = "int" | "u64" | "usize" | "bool" | "ptr";

/** The class of an atomic layout (by its contents), or `null` for a layout that is not atomic. */
export function atomicClass(layout: Layout<unknown>): AtomicClass | null {
  if (layout.kind !== "atomic" || layout.inner === undefined) return null;
  const inner = layout.inner;
  if (inner.kind === "ptr") return "ptr";
  if (inner.name === "bool") return "bool";
  if (inner.name === "u64") return "u64";
  if (inner.name === "usize") return "usize";
  return "int";
}

/** The type name a value has, for a mismatch message (`bigint`, `number`, a pointer, …). */
function typeName(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "object" && typeof (v as { address?: unknown }).address === "number") return "a pointer";
  return `\`${typeof v}\``;
}

/**
 * Why `value` is not a value of the atomic `layout` (rustc's E0308 `mismatched types`), or `null`.
 */
export function operandMismatch(layout: Layout<unknown>, value: unknown): string | null {
  const cls = atomicClass(layout);
  const inner = layout.inner!;
  let ok: boolean;
  switch (cls) {
    case "int":
    case "usize":
      ok = typeof value === "number" && Number.isInteger(value);
      break;
    case "u64":
      ok = typeof value === "bigint";
      break;
    case "bool":
      ok = typeof value === "boolean";
      break;
    default:
      ok = typeof value === "object" && value !== null && typeof (value as { address?: unknown }).address === "number";
  }
  return ok ? null : `mismatched types: expected \`${inner.name}\`, found ${typeName(value)}`;
}

/**
 * Why `method` does not exist on the atomic `layout` (rustc's E0599), or `null`: `AtomicBool`
 * has no `fetch_add`/`fetch_sub`; `AtomicPtr` only `swap` among the read-modify-writes.
 */
export function missingMethod(layout: Layout<unknown>, method: RmwMethod): string | null {
  const cls = atomicClass(layout);
  // (The message is built only when it is the answer: this runs at every atomic operation.)
  if ((cls === "bool" && (method === "fetch_add" || method === "fetch_sub")) || (cls === "ptr" && method !== "swap")) {
    return `no method named \`${method}\` found for reference \`&${layout.name}\` in the current scope`;
  }
  return null;
}

/**
 * The layout an RMW's result is written with: `u64` (the 64 raw bits, exactly) for
 * `AtomicUsize`, the atomic layout itself otherwise.
 */
export function rmwStoreLayout(layout: Layout<any>): Layout<any> {
  return atomicClass(layout) === "usize" ? u64 : layout;
}

/**
 * The value an RMW `method` stores, given the `old` value and its `operand` (both checked to be
 * values of `layout`), to be written with {@link rmwStoreLayout}.
 */
export function rmwResult(layout: Layout<any>, method: RmwMethod, old: unknown, operand: unknown): unknown {
  if (method === "swap") return atomicClass(layout) === "usize" ? BigInt.asUintN(64, BigInt(operand as number)) : operand;
  switch (atomicClass(layout)) {
    case "bool": {
      const a = old as boolean;
      const b = operand as boolean;
      return method === "fetch_and" ? a && b : method === "fetch_or" ? a || b : a !== b;
    }
    case "u64":
      return bigOp(method, old as bigint, operand as bigint);
    case "usize":
      return bigOp(method, BigInt(old as number), BigInt(operand as number));
    case "int": {
      const bits = layout.size * 8;
      const r = combine(method, old as number, operand as number);
      // Modulo 2^bits (ToInt32 keeps the low 32 bits of any safe integer, so the low bits agree).
      return bits === 32 ? r >>> 0 : r & ((1 << bits) - 1);
    }
    default:
      throw new Error(`kmiri internal error: \`${method}\` on \`${layout.name}\``);
  }
}

function bigOp(method: RmwMethod, a: bigint, b: bigint): bigint {
  return BigInt.asUintN(64, combine(method, a, b));
}

/** The arithmetic of an RMW before wrapping to the width (the same operators serve numbers and bigints). */
function combine(method: RmwMethod, a: number, b: number): number;
function combine(method: RmwMethod, a: bigint, b: bigint): bigint;
function combine(method: RmwMethod, a: any, b: any): any {
  switch (method) {
    case "fetch_add":
      return a + b;
    case "fetch_sub":
      return a - b;
    case "fetch_and":
      return a & b;
    case "fetch_or":
      return a | b;
    default:
      return a ^ b;
  }
}

/**
 * Whether a compare-exchange finds `current` equal to the `expected` value: pointers compare by
 * address (as Rust's `==` on raw pointers), everything else by value.
 */
export function atomicEquals(layout: Layout<unknown>, current: unknown, expected: unknown): boolean {
  if (atomicClass(layout) === "ptr") return (current as { address: number }).address === (expected as { address: number }).address;
  return current === expected;
}
