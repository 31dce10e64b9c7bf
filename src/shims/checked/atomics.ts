/**
 * Atomics on the Machine: `load`, `store`, `swap`, `compare_exchange(_weak)`, `fetch_add`,
 * `fetch_sub`, `fetch_and`, `fetch_or`, `fetch_xor` on references to atomic layouts (`Ref`
 * delegates here), and `fence`, `compiler_fence`.
 *
 * Each operation, in Rust's and Miri's order:
 * 1. an ordering Rust rejects panics with Rust's message (`there is no such thing as a release
 *    load`); a method the type lacks (`fetch_add` on `AtomicBool`) or an operand of the wrong
 *    type is rustc's error (E0599 / E0308);
 * 2. the memory checks of an access (live, in bounds, aligned, writable for a store), then the
 *    borrow tracker's (a read for a load or a failed compare-exchange, a write otherwise);
 * 3. the value: read (initialised and valid), computed with wrapping arithmetic at the type's
 *    width (src/shims/atomic-values.ts), written;
 * 4. the race detector's atomic operation (src/interp/races.ts): happens-before through the
 *    ordering, release sequences, and a race with a non-atomic or differently-sized access;
 * 5. a scheduling point (the budget `b`), and *progress* (which wakes spinning threads) for a
 *    store or read-modify-write, a successful compare-exchange included.
 *
 * `compare_exchange_weak` fails spuriously, when the values are equal, with Miri's default
 * probability 0.8, drawn from a stream of the run's seed (`deriveSeed(seed,
 * "compare_exchange_weak")`), so a seed decides the run. A spurious failure is no scheduling
 * point (no other thread can observe it: the retry is one), and a `spin_loop` right after one only
 * yields: the retry may succeed without another thread's help.
 *
 * Loads see the latest store: kmiri does not emulate weak memory (store buffers).
 */
import { refPtr, refTag } from "./refs.js";
import { provenanceOf } from "./memory.js";
import { current, mem, running } from "./context.js";
import { Xoshiro128, deriveSeed } from "../../concurrency/scheduler.js";
import { accessRange, addressIn, borrowAccess, readInitialised, write } from "../../interp/memory/access.js";
import type { Allocation } from "../../interp/memory/allocation.js";
import { reportTypeError } from "../../interp/memory/type-error.js";
import type { Machine } from "../../interp/machine.js";
import type { MachineRaces } from "../../interp/races.js";
import type { Thread } from "../../interp/thread.js";
import {
  ORDERINGS,
  atomicClass,
  atomicEquals,
  missingMethod,
  operandMismatch,
  orderingPanic,
  rmwResult,
  rmwStoreLayout,
  type Ordering,
  type OrderingUse,
  type RmwMethod,
} from "../atomic-values.js";
import { describeValue, valueObject, type Layout } from "../../interp/memory/layouts.js";
import { panic } from "./panic.js";
import type { Ref } from "./refs.js";

/** Miri's default rate of spurious `compare_exchange_weak` failures (`-Zmiri-compare-exchange-weak-failure-rate`). */
export const CAS_WEAK_FAILURE_RATE = 0.8;

/** Threads whose last `compare_exchange_weak` failed spuriously (cleared by their next `spin_loop`). */
const spurious = new WeakSet<Thread>();

/** True (once) when thread `t`'s last weak compare-exchange failed spuriously. */
export function takeSpuriousFailure(t: Thread): boolean {
  if (!spurious.has(t)) return false;
  spurious.delete(t);
  return true;
}

/** Checks an ordering argument: a string of the five (else E0308), allowed for its use (else Rust's panic). */
function checkOrdering(use: OrderingUse, ordering: unknown): Ordering {
  if (typeof ordering !== "string" || !ORDERINGS.has(ordering)) {
    reportTypeError(current, "E0308", `mismatched types: expected enum \`Ordering\`, found ${typeof ordering === "string" ? JSON.stringify(ordering) : describeValue(ordering)}`);
  }
  const why = orderingPanic(use, ordering as Ordering);
  if (why !== null) panic(why);
  return ordering as Ordering;
}

/** The layout of `r`, which must be atomic for `method` (else rustc's E0599). */
function atomicLayout(r: Ref<any>, method: string): Layout<any> {
  const l = r.layout;
  if (atomicClass(l) === null) {
    reportTypeError(current, "E0599", `no method named \`${method}\` found for reference \`&${l.name}\` in the current scope (\`${method}\` is an atomic operation, and \`${l.name}\` is not an atomic type)`);
  }
  return l;
}

/** Checks an operand's type (E0308). */
function checkOperand(layout: Layout<any>, value: unknown): void {
  const why = operandMismatch(layout, value);
  if (why !== null) reportTypeError(current, "E0308", why);
}

/** The offset in its allocation of the place {@link place} checked last (no tuple: no garbage per atomic). */
let placeOff = 0;

/** The memory checks of an atomic access through `r`: the allocation (a wildcard resolved); the offset in {@link placeOff}. */
function place(r: Ref<any>, layout: Layout<any>, write: boolean): Allocation {
  const p = refPtr(r);
  const prov = provenanceOf(p);
  if (prov !== null && prov.indirect) {
    // Through a resolver (Mirch's untyped memory takes atomics): it is told, and may translate.
    mem.accessMode = "atomic";
    mem.accessLayout = layout;
    try {
      const a = accessRange(mem, p.address, prov, layout.size, layout.align, write)!;
      placeOff = addressIn(mem, p.address, prov) - a.base;
      return a;
    } finally {
      mem.accessMode = "plain";
    }
  }
  const a = accessRange(mem, p.address, prov, layout.size, layout.align, write)!;
  placeOff = p.address - a.base;
  return a;
}

/** The value at `off` of `a`, checked initialised and valid (Miri's messages otherwise). */
function readValue(a: Allocation, off: number, layout: Layout<any>): unknown {
  return readInitialised(mem, a, off, layout);
}

/**
 * The borrow tracker's view of the access at `off` of `a` (with the reference's tag), after the
 * allocation's fast test as the load and store paths make it: a tag whose access changes nothing
 * (one comparison) costs no call.
 */
function track(a: Allocation, off: number, r: Ref<any>, kind: "read" | "write"): void {
  if (a.borrows === null) return;
  const tag = refTag(r);
  if ((kind === "read" ? a.borrowRead : a.borrowWrite) === tag) return;
  borrowAccess(mem, a, kind === "read" ? 0 : 1, tag, off, r.layout.size);
}

/** The end of every atomic: a scheduling point; what a spinning thread waits on; progress for a store. */
function done(m: Machine | null, r: Ref<any>, stored: boolean): void {
  // (A host that is not a Machine, as in unit tests of the shims, has no threads to schedule.)
  if (m === null) return;
  m.locks.lastAtomic[m.dataRaces.thread()] = refPtr(r).address;
  m.b--;
  if (stored) m.progress();
}

/** The running Machine's race detector while it is active (several threads), else `null`. */
function racing(): MachineRaces | null {
  const m = running;
  return m !== null && m.dataRaces.active ? m.dataRaces : null;
}

/** `AtomicT::load(order)`. */
export function atomicLoad(r: Ref<any>, order: unknown): unknown {
  const layout = atomicLayout(r, "load");
  const o = checkOrdering("load", order);
  const a = place(r, layout, false);
  const off = placeOff;
  track(a, off, r, "read");
  const v = readValue(a, off, layout);
  racing()?.atomicLoad(a, off, layout.size, o);
  done(running, r, false);
  return v;
}

/** `AtomicT::store(value, order)`. */
export function atomicStore(r: Ref<any>, value: unknown, order: unknown): void {
  const layout = atomicLayout(r, "store");
  checkOperand(layout, value);
  const o = checkOrdering("store", order);
  const a = place(r, layout, true);
  const off = placeOff;
  track(a, off, r, "write");
  racing()?.atomicStore(a, off, layout.size, o);
  write(a, off, layout, value);
  done(running, r, true);
}

/** `swap` and `fetch_*`: the previous value. */
export function atomicRmw(r: Ref<any>, method: RmwMethod, operand: unknown, order: unknown): unknown {
  const layout = atomicLayout(r, method);
  const missing = missingMethod(layout, method);
  if (missing !== null) reportTypeError(current, "E0599", missing);
  checkOperand(layout, operand);
  const o = checkOrdering("rmw", order);
  const a = place(r, layout, true);
  const off = placeOff;
  track(a, off, r, "write");
  const old = readValue(a, off, layout);
  racing()?.atomicRmw(a, off, layout.size, o);
  write(a, off, rmwStoreLayout(layout), rmwResult(layout, method, old, operand));
  done(running, r, true);
  return old;
}

/** `compare_exchange` / `compare_exchange_weak`: `{ ok, value }` with the previous (or current) value. */
export function atomicCompareExchange(
  r: Ref<any>,
  weak: boolean,
  expected: unknown,
  next: unknown,
  success: unknown,
  failure: unknown,
): { ok: boolean; value: unknown } {
  const method = weak ? "compare_exchange_weak" : "compare_exchange";
  const layout = atomicLayout(r, method);
  checkOperand(layout, expected);
  checkOperand(layout, next);
  const so = checkOrdering("rmw", success);
  const fo = checkOrdering("failure", failure);
  const m = running;
  // A compare-exchange needs writable memory even when it fails (Miri checks it as a write).
  const a = place(r, layout, true);
  const off = placeOff;
  track(a, off, r, "read");
  const old = readValue(a, off, layout);
  let ok = atomicEquals(layout, old, expected);
  let spuriously = false;
  if (ok && weak && nextUnit(m) < CAS_WEAK_FAILURE_RATE) {
    ok = false;
    spuriously = true;
    if (m !== null) spurious.add(m.thread);
  }
  if (ok) track(a, off, r, "write");
  racing()?.compareExchange(a, off, layout.size, ok, so, fo);
  if (ok) write(a, off, layout, next);
  if (spuriously && m !== null) {
    // A spurious failure is a load of the value the thread expected, which no other thread can
    // observe: it needs no scheduling point of its own (the retry that follows is one), so it
    // spends no budget and makes no scheduling decision (Miri's semantics, at the cost of a load).
    m.locks.lastAtomic[m.dataRaces.thread()] = refPtr(r).address;
  } else done(m, r, ok);
  // A record of the program's realm (layouts.ts valueObject), not of kmiri's.
  const result = valueObject();
  result.ok = ok;
  result.value = old;
  return result as { ok: boolean; value: unknown };
}

/** A uniform number in [0, 1) from the Machine's spurious-failure stream. */
function nextUnit(m: Machine | null): number {
  if (m === null) return 1; // no Machine (a unit test of the shims): never a spurious failure
  const rng = (m.weakCasRng ??= new Xoshiro128(deriveSeed(m.seed, "compare_exchange_weak")));
  return rng.nextU32() / 4294967296;
}

/**
 * `core::sync::atomic::fence(order)`: an acquire fence acquires what the thread's earlier relaxed
 * loads read, a release fence publishes through its later relaxed stores, SeqCst fences are
 * totally ordered. `Relaxed` panics, as in Rust. A scheduling point.
 */
export function fence(order: Ordering): void {
  const o = checkOrdering("fence", order);
  racing()?.fence(o as Exclude<Ordering, "Relaxed">);
  if (running !== null) running.b--;
}

/**
 * `core::sync::atomic::compiler_fence(order)`: orders the compiler only, not other threads; it
 * creates no happens-before edge (as in Miri). `Relaxed` panics, as in Rust.
 */
export function compiler_fence(order: Ordering): void {
  checkOrdering("compiler_fence", order);
}
