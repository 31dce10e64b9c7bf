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
 * **Weak memory** (src/concurrency/weak-memory.ts, wired in src/interp/races.ts), while several
 * threads exist and unless the run's `weakMemory: false`: a load may return an older store's
 * value (an `AtomicPtr` keeps that store's pointer, provenance and tag included) instead of the
 * memory's current one, chosen from the seed's stream `deriveSeed(seed, "weak_memory")`; a
 * read-modify-write and a failed compare-exchange read the newest store, as in Miri. A store
 * buffer's first element is what the memory held before the first buffered store: bytes that were
 * uninitialised (or invalid) there are reported when a load reads them (Miri's
 * `using uninitialized data, but this operation requires initialized memory`). After a load of an
 * older store, a `spin_loop` only yields (the retry may see a newer store without another thread's
 * help), as after a spurious `compare_exchange_weak` failure.
 *
 * **Read-only memory** (an immutable static without interior mutability, reached through a cast
 * pointer), as Miri's `atomic_access_check`: a store, read-modify-write or compare-exchange (even a
 * failing one) is `read-only` (`atomic store and read-modify-write operations cannot be performed
 * on read-only memory`), and so is a load with any ordering but `Relaxed` (`non-relaxed atomic
 * load operations cannot be performed on read-only memory`: targets may implement it with a
 * read-modify-write); a `Relaxed` load is allowed (no atomic of kmiri is larger than a pointer).
 */
import { refPtr, refTag } from "./refs.js";
import { provenanceOf } from "./memory.js";
import { current, mem, running } from "./context.js";
import { Xoshiro128, deriveSeed } from "../../concurrency/scheduler.js";
import { accessRange, addressIn, borrowAccess, readInitialised, write } from "../../interp/memory/access.js";
import { reportUB, valueTypeName } from "../../interp/memory/diagnose.js";
import { invalidValueMessage } from "../../interp/memory/messages.js";
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

/**
 * True (once) when thread `t` (the running thread) may succeed on a retry without another
 * thread's help: its last weak compare-exchange failed spuriously, or its last atomic load read an
 * older store than the newest (weak memory).
 */
export function takeSpuriousFailure(t: Thread): boolean {
  const m = running;
  const outdated = m !== null && m.thread === t && m.dataRaces.takeOutdatedLoad();
  if (!spurious.has(t)) return outdated;
  spurious.delete(t);
  return true;
}

/**
 * What a store buffer keeps for bytes that held no value of the layout when the buffer was made
 * (its initial element): a load that reads it is reported, as Miri reports an uninitialised one.
 */
class Unreadable {
  /** @param why `null` for uninitialised bytes, else why the bytes are not a valid value. */
  constructor(readonly why: string | null) {}
}

/** The value at `off` of `a` for a store buffer's initial element: the value, or an {@link Unreadable}. */
function snapshot(a: Allocation, off: number, layout: Layout<any>): unknown {
  if (a.init !== null && !a.isInitRanges(off, layout.size, layout.initRanges)) return new Unreadable(null);
  const why = layout.invalid === null ? null : layout.invalid(a.view, off, a);
  return why === null ? layout.decode(a.view, off, a) : new Unreadable(why);
}

/** Reports the load of an {@link Unreadable} store. */
function reportUnreadable(u: Unreadable, layout: Layout<any>): never {
  if (u.why === null) reportUB(mem, "uninit", "using uninitialized data, but this operation requires initialized memory");
  return reportUB(mem, "invalid-value", invalidValueMessage(valueTypeName(layout), u.why));
}

/** See the read-only paragraph of the module comment. */
const READ_ONLY_HELP = "see <https://doc.rust-lang.org/nightly/std/sync/atomic/index.html#atomic-accesses-to-read-only-memory> for more information";

/** Reports an atomic access that read-only memory does not allow (Miri's `atomic_access_check`). */
function readOnlyAtomic(write: boolean): never {
  if (write) reportUB(mem, "read-only", `atomic store and read-modify-write operations cannot be performed on read-only memory\n${READ_ONLY_HELP}`);
  return reportUB(
    mem,
    "read-only",
    `non-relaxed atomic load operations cannot be performed on read-only memory\nthese operations sometimes have to be implemented using read-modify-write operations, which require writeable memory\n${READ_ONLY_HELP}`,
  );
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

/**
 * The memory checks of an atomic access through `r`: the allocation (a wildcard resolved); the
 * offset in {@link placeOff}. `write` for a store, RMW or compare-exchange; `relaxed` for a load
 * that read-only memory allows.
 */
function place(r: Ref<any>, layout: Layout<any>, write: boolean, relaxed = false): Allocation {
  const p = refPtr(r);
  const prov = provenanceOf(p);
  if (prov !== null && prov.indirect) {
    // Through a resolver (Mirch's untyped memory takes atomics): it is told, and may translate.
    mem.accessMode = "atomic";
    mem.accessLayout = layout;
    try {
      const a = accessRange(mem, p.address, prov, layout.size, layout.align, write)!;
      placeOff = addressIn(mem, p.address, prov) - a.base;
      if (!a.writable && !relaxed) readOnlyAtomic(write);
      return a;
    } finally {
      mem.accessMode = "plain";
    }
  }
  // Checked as a read, so that read-only memory gets the atomic wording below.
  const a = accessRange(mem, p.address, prov, layout.size, layout.align, false)!;
  if (!a.writable && !relaxed) readOnlyAtomic(write);
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
  const a = place(r, layout, false, o === "Relaxed");
  const off = placeOff;
  track(a, off, r, "read");
  let v = readValue(a, off, layout);
  const rc = racing();
  if (rc !== null) {
    // With weak memory, possibly an older store's value.
    v = rc.atomicLoadValue(a, off, layout.size, o, v);
    if (v instanceof Unreadable) reportUnreadable(v, layout);
  }
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
  const rc = racing();
  if (rc !== null) rc.atomicStoreValue(a, off, layout.size, o, value, rc.weak === null ? undefined : snapshot(a, off, layout));
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
  const next = rmwResult(layout, method, old, operand);
  const sl = rmwStoreLayout(layout);
  const rc = racing();
  if (rc !== null && rc.weak !== null) {
    write(a, off, sl, next);
    // The store buffer keeps the value as a load of the atomic type reads it.
    rc.atomicRmwValue(a, off, layout.size, o, sl === layout ? next : layout.decode(a.view, off, a), old);
  } else {
    rc?.atomicRmw(a, off, layout.size, o);
    write(a, off, sl, next);
  }
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
  // (A failed compare-exchange reads the newest store even with weak memory, as in Miri.)
  racing()?.compareExchangeValue(a, off, layout.size, ok, so, fo, next, old);
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
