/**
 * lockdep annotations on the Machine: `lock_acquired(lock, class_name?)` right after a lock built
 * from atomics was taken, `lock_released(lock)` right before it is released, and
 * `lock_class_rank(class_name, rank)` (an addition to the contract) to declare an order.
 *
 * - **Classes.** A lock's class is `class_name`, or else the site where the lock's memory was
 *   allocated (every lock of a `struct` allocated at one line is one class, as lockdep keys
 *   locks by their initialisation site); a lock in a named static is named after it.
 * - **Checks** (src/concurrency/lock-order.ts): acquiring a lock the thread already holds
 *   (`deadlock`); a class acquired while holding one that was, on any thread and at any time,
 *   held while acquiring it (`lock-order`: a possible deadlock, even when this run did not
 *   deadlock); a second lock of a class already held (`lock-order`, lockdep's recursive
 *   locking); a class of lower rank taken while holding one of higher rank (`lock-order`).
 * - **No happens-before of their own.** The lock's atomics order the critical sections (its
 *   `Acquire` compare-exchange reads its `Release` store): an annotation adds no edge, so a lock
 *   built with too weak orderings is reported as the data race it allows on the data it
 *   protects, rather than hidden by the annotation.
 * - Each annotation is a scheduling point and progress (it wakes spinning threads).
 */
import { describeLockViolation, type LockViolation } from "../../concurrency/index.js";
import type { HelpLine } from "../../interp/report.js";
import type { Machine } from "../../interp/machine.js";
import { WILDCARD, type Allocation } from "../../interp/memory/allocation.js";
import { Ptr, provenanceOf } from "./memory.js";
import { machine } from "./machine.js";
import { Ref, refPtr } from "./refs.js";
import { staticName } from "./statics.js";
import { unsupported } from "./unsafe.js";

/** The lock's pointer: a `Ptr` or a reference's. */
function lockPtr(lock: unknown, fn: string): Ptr<unknown> {
  if (lock instanceof Ptr) return lock;
  if (lock instanceof Ref) return refPtr(lock);
  return unsupported(`\`${fn}\` needs a pointer or a reference to the lock, got ${lock === null ? "null" : typeof lock}`);
}

/** The allocation holding the lock (a wildcard resolved), or unsupported when there is none. */
function lockAllocation(m: Machine, p: Ptr<unknown>, fn: string): Allocation {
  const a = provenanceOf(p) === WILDCARD ? m.memory.findExposed(p.address, 0) : provenanceOf(p);
  if (a === null || !a.live) return unsupported(`\`${fn}\` on a pointer that points to no live allocation (the lock at 0x${p.address.toString(16)})`);
  return a;
}

/** The lockdep class of a lock in allocation `a`: `name`, or the allocation's site. */
function classOf(m: Machine, a: Allocation, name: string | undefined): number {
  const lo = m.locks.order;
  if (name !== undefined) {
    if (typeof name !== "string") unsupported(`the class name of \`lock_acquired\` must be a string, got ${typeof name}`);
    const known = m.locks.ranks.get(name);
    const cls = lo.classFor(name, name);
    if (known !== undefined && lo.classInfo(cls).rank === undefined) lo.declareRank(name, known);
    return cls;
  }
  const st = staticName(a);
  const where = a.allocSite >= 0 ? m.siteLocation(a.allocSite) : undefined;
  const label = st ?? (where ? `lock allocated at ${where.file}:${where.line}:${where.column}` : `lock in alloc${a.id}`);
  return lo.classFor(a.allocSite >= 0 ? a.allocSite : -a.id - 1, label);
}

/**
 * `lock_acquired(lock, class_name?)`: the running thread has just taken `lock` (a pointer or
 * reference to the lock's memory). Reports a relock (`deadlock`) or a lock-order violation
 * (`lock-order`).
 */
export function lock_acquired(lock: Ptr<unknown> | Ref<unknown>, class_name?: string): void {
  const m = machine();
  const p = lockPtr(lock, "lock_acquired");
  const a = lockAllocation(m, p, "lock_acquired");
  const cls = classOf(m, a, class_name);
  const site = m.dataRaces.site();
  const v = m.locks.order.acquire(m.dataRaces.thread(), p.address, cls, site);
  if (v !== null) reportViolation(m, v);
  // lockdep's irq-safety rule (Mirch): a class taken in interrupt context and with interrupts enabled.
  const irq = m.mirch?.interrupts.lockTaken(cls, site);
  if (irq) reportIrqUnsafe(m, cls, site, irq.other, irq.here);
  m.locks.noteLock(p.address, Math.max(p.layout.size, 1));
  m.b--;
  m.progress();
}

/**
 * `lock_released(lock)`: the running thread is about to release `lock`. Releasing a lock the
 * thread does not hold is lockdep's "bad unlock balance": a warning.
 */
export function lock_released(lock: Ptr<unknown> | Ref<unknown>): void {
  const m = machine();
  const p = lockPtr(lock, "lock_released");
  if (!m.locks.order.release(m.dataRaces.thread(), p.address)) {
    m.warn(`bad unlock balance: \`lock_released\` of the lock at 0x${p.address.toString(16)}, which thread \`${m.threadName()}\` does not hold`, {
      label: "released here",
      help: [{ message: "call `lock_acquired` right after taking a lock and `lock_released` right before releasing it, on the same thread" }],
    });
  }
  m.b--;
  m.progress();
}

/**
 * `lock_class_rank(class_name, rank)` (an addition to the contract, after the KMutex idea of
 * declared lock levels): locks of class `class_name` must be taken in increasing rank — taking
 * one while holding a lock of a higher-ranked class is a `lock-order` report even when no cycle
 * was seen. Applies to locks annotated with that `class_name`.
 */
export function lock_class_rank(class_name: string, rank: number): void {
  const m = machine();
  if (typeof class_name !== "string" || typeof rank !== "number") unsupported("`lock_class_rank(class_name, rank)` needs a string and a number");
  m.locks.ranks.set(class_name, rank);
  m.locks.order.declareRank(class_name, rank, class_name);
}

/** Stops the run with a violation, worded by lockdep's rules, help lines pointing at the acquisitions. */
function reportViolation(m: Machine, v: LockViolation): never {
  const d = describeLockViolation(v, m.locks.order, { thread: (t) => m.threadNameOf(t) });
  const sites = [v.site, ...d.help.flatMap((h) => (h.site === undefined ? [] : [h.site]))];
  const depth = wrapperDepth(m, sites);
  const help: HelpLine[] = d.help.map((h) => {
    if (h.site === undefined) return { message: h.message };
    const location = m.stacks.backtrace(h.site, m.program.sites)[depth]?.location;
    return location === undefined ? { message: h.message } : { message: h.message, location };
  });
  return m.report(d.kind, d.message, { title: d.title, label: d.label, help, notes: d.notes });
}

/**
 * lockdep's irq-safety rule: lock class `cls` is taken in interrupt context and, elsewhere, with
 * interrupts enabled — an interrupt arriving while a CPU holds it with interrupts on spins forever
 * on that CPU. Reported at the acquisition that completes the pair, deadlock or not.
 */
function reportIrqUnsafe(m: Machine, cls: number, site: number, other: number, here: "irq" | "irqs-on"): never {
  const name = m.locks.order.classInfo(cls).name;
  const depth = wrapperDepth(m, [site, other]);
  const where = m.stacks.backtrace(other, m.program.sites)[depth]?.location;
  const before = here === "irq" ? "with interrupts enabled" : "in interrupt context";
  const now = here === "irq" ? "in interrupt context (an interrupt handler or an inter-processor call)" : "with interrupts enabled";
  return m.report("lock-order", `inconsistent lock state: lock class \`${name}\` is taken ${now} here, and was taken ${before} before: an interrupt that arrives on a CPU holding it with interrupts enabled deadlocks that CPU`, {
    title: "possible irq lock inversion (lockdep: {IN-HARDIRQ} and {HARDIRQ-ON})",
    label: `\`${name}\` taken ${here === "irq" ? "in interrupt context" : "with interrupts enabled"}`,
    help: [
      where ? { message: `the lock was taken ${before} here`, location: where } : { message: `the lock was taken ${before} earlier` },
      { message: "take a lock that interrupt handlers also take with interrupts disabled everywhere else (`irq_disable` before, `irq_restore` after; OSTD's `SpinLock::disable_irq().lock()`)" },
    ],
  });
}

/**
 * lockdep's irq-safety rule, its other half: interrupts are about to come back on (`irq_enable`,
 * `irq_restore(true)`) while the running thread holds a lock that interrupt handlers take — the
 * handler may arrive right now, on this CPU, and spin on it forever (Linux lockdep checks held
 * locks at `local_irq_enable`: "inconsistent {IN-HARDIRQ-W} -> {HARDIRQ-ON-W} usage"). Reported
 * at the enable, every run, whether or not the interrupt arrived. Nothing without Mirch.
 */
export function checkIrqEnable(m: Machine): void {
  const irq = m.mirch?.interrupts;
  if (irq === undefined || irq.enabled()) return;
  const held = m.locks.order.held(m.dataRaces.thread());
  if (held.length === 0) return;
  const site = m.dataRaces.site();
  for (const h of held) {
    const inIrq = irq.heldAtEnable(h.cls, site);
    if (inIrq === null) continue;
    const name = m.locks.order.classInfo(h.cls).name;
    const depth = wrapperDepth(m, [h.site, inIrq]);
    const at = (s: number) => m.stacks.backtrace(s, m.program.sites)[depth]?.location;
    const taken = at(h.site);
    const inHandler = at(inIrq);
    m.report("lock-order", `inconsistent lock state: interrupts are enabled here while this thread holds \`${name}\`, which is taken in interrupt context: an interrupt that arrives now deadlocks this CPU`, {
      title: "possible irq lock inversion (lockdep: {IN-HARDIRQ} and {HARDIRQ-ON})",
      label: `interrupts enabled holding \`${name}\``,
      help: [
        taken ? { message: `\`${name}\` was taken here`, location: taken } : { message: `\`${name}\` was taken earlier` },
        inHandler ? { message: "and is taken in interrupt context here", location: inHandler } : { message: "and is taken in interrupt context" },
        { message: "release the lock before interrupts come back on (drop the lock guard before the guard that disabled them; OSTD's `SpinLock::disable_irq().lock()` does both in order)" },
      ],
    });
  }
}

/**
 * How many innermost frames the acquisition stacks `sites` share by function — the lock
 * wrapper (`lock(l)` calling `lock_acquired`) that every acquisition goes through — so that the
 * help lines point at the callers that differ (`map_page` took A, `reclaim_page` took B), as
 * lockdep's stack traces would show. 0 when the innermost functions differ.
 */
export function wrapperDepth(m: Machine, sites: number[]): number {
  const traces = sites.map((s) => m.stacks.backtrace(s, m.program.sites));
  let k = 0;
  for (;;) {
    if (!traces.every((t) => t.length > k + 1)) return k;
    const fn = traces[0][k].fn;
    if (!traces.every((t) => t[k].fn === fn)) return k;
    k++;
  }
}
