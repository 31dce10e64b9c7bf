/**
 * Atomics in native mode: plain reads and writes of the value (one thread runs at a time), with
 * the same values as on the Machine — wrapping arithmetic at the type's width, Rust's panics for
 * orderings it rejects — and no checks. `compare_exchange_weak` never fails spuriously here.
 * `fence` and `compiler_fence` do nothing but check their ordering; the lock annotations do nothing.
 */
import {
  ORDERINGS,
  atomicEquals,
  missingMethod,
  orderingPanic,
  rmwResult,
  rmwStoreLayout,
  type Ordering,
  type OrderingUse,
  type RmwMethod,
} from "../atomic-values.js";
import { valueObject, type Layout } from "../../interp/memory/layouts.js";
import type { Ptr } from "./memory.js";
import { NativePanic } from "./panic.js";

/** Rust's panic for an ordering it rejects. */
function check(use: OrderingUse, ordering: unknown): void {
  if (typeof ordering !== "string" || !ORDERINGS.has(ordering)) throw new TypeError(`kmiri native: not an \`Ordering\`: ${String(ordering)}`);
  const why = orderingPanic(use, ordering as Ordering);
  if (why !== null) throw new NativePanic(why);
}

/** The atomic's value. */
function get(p: Ptr<any>): any {
  return p.layout.decode(p.view!, p.address - p.start);
}

/** `load`. */
export function nativeLoad(p: Ptr<any>, order: unknown): unknown {
  check("load", order);
  return get(p);
}

/** `store`. */
export function nativeStore(p: Ptr<any>, value: unknown, order: unknown): void {
  check("store", order);
  p.layout.encode(p.view!, p.address - p.start, value);
}

/** `swap` and `fetch_*`: the previous value. */
export function nativeRmw(p: Ptr<any>, method: RmwMethod, operand: unknown, order: unknown): unknown {
  const missing = missingMethod(p.layout, method);
  if (missing !== null) throw new TypeError(`kmiri native: ${missing}`);
  check("rmw", order);
  const old = get(p);
  (rmwStoreLayout(p.layout) as Layout<unknown>).encode(p.view!, p.address - p.start, rmwResult(p.layout, method, old, operand));
  return old;
}

/** `compare_exchange` (and `_weak`, which never fails spuriously natively). */
export function nativeCompareExchange(p: Ptr<any>, expected: unknown, next: unknown, success: unknown, failure: unknown): { ok: boolean; value: unknown } {
  check("rmw", success);
  check("failure", failure);
  const old = get(p);
  const ok = atomicEquals(p.layout, old, expected);
  if (ok) p.layout.encode(p.view!, p.address - p.start, next);
  // A record of the program's realm (layouts.ts valueObject), not of kmiri's.
  const result = valueObject();
  result.ok = ok;
  result.value = old;
  return result as { ok: boolean; value: unknown };
}

/** `fence(order)`: nothing to order natively. */
export function fence(order: Ordering): void {
  check("fence", order);
}

/** `compiler_fence(order)`. */
export function compiler_fence(order: Ordering): void {
  check("compiler_fence", order);
}

/** lockdep annotation: nothing natively. */
export function lock_acquired(_lock: unknown, _class_name?: string): void {}

/** lockdep annotation: nothing natively. */
export function lock_released(_lock: unknown): void {}

/** lockdep rank declaration: nothing natively. */
export function lock_class_rank(_class_name: string, _rank: number): void {}
