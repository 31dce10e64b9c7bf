// OSTD's `sync::RcuDrop<T>` as far as the page table needs it: a value whose drop is deferred past
// an RCU grace period, so that a CPU walking the page table without locks (the cursor's descent in
// `locking.ts`, `page_walk`) never reads a node that has been freed under it.
//
// NOTE for the port: this is a small stand-in kept behind this file's interface (`RcuDrop.new`,
// `inner`, `into_inner`, `drop`, and `rcu_barrier`) until `sync/rcu.ts` offers `RcuDrop`/`call_rcu`;
// then `drop` should become `call_rcu`. The read side is OSTD's: a CPU is in an RCU read-side
// critical section while its preemption-guard count (`sync/preempt.ts`) is non-zero.
//
// The grace period: a dropped value waits in a queue until every *other* CPU has been seen outside
// atomic mode (its count read as 0 with Acquire, pairing with the Release of the guard's drop, so
// everything it did inside its section happens before the free). The dropping CPU itself is not
// waited for: in OSTD the value is handed back to its caller (`PageTableFrag`) once the cursor no
// longer refers to it, which is what this relies on.
import { fence, panic, spin_loop } from "kmiri/rt";
import { current_cpu, num_cpus } from "../../sync/cpu.js";
import { PREEMPT_COUNT } from "../../sync/preempt.js";
import { SpinLock } from "../../sync/spin.js";

/** A deferred drop: what to run, and which CPUs must still pass a quiescent state. */
interface Deferred {
  run: () => void;
  waiting: Set<number>;
}

/** The queue of deferred drops (`call_rcu`'s callbacks); its lock word is a static. */
const DEFERRED = SpinLock.static_<Deferred[]>([], "page_table::RCU_DEFERRED");

/** The preemption-guard count of `cpu`, read with Acquire. */
function count_of(cpu: number): number {
  unsafe: {
    // SAFETY: the per-CPU counters are statics (never freed), accessed only atomically.
    return PREEMPT_COUNT.on_cpu(cpu).as_ref().load("Acquire");
  }
}

/**
 * Whether every CPU in `waiting` has been seen quiescent; it forgets those it sees. The current
 * CPU is judged by `self_quiescent` (read before the queue's lock, whose guard counts too).
 */
function passed(d: Deferred, self_quiescent: boolean): boolean {
  const me = current_cpu();
  if (self_quiescent) d.waiting.delete(me);
  for (const cpu of [...d.waiting]) {
    if (cpu === me) continue;
    // Acquire pairs with the Release of the guard's drop on that CPU (see above).
    if (count_of(cpu) === 0) d.waiting.delete(cpu);
  }
  return d.waiting.size === 0;
}

/** Runs the deferred drops whose grace period has ended. */
function poll(): void {
  const self_quiescent = count_of(current_cpu()) === 0;
  const g = DEFERRED.lock();
  const ready: Deferred[] = [];
  const rest: Deferred[] = [];
  for (const d of g.value) (passed(d, self_quiescent) ? ready : rest).push(d);
  g.value = rest;
  g.release();
  for (const d of ready) d.run();
}

/** `call_rcu`: runs `f` once every other CPU has passed a quiescent state. */
function call_rcu(f: () => void): void {
  // The value was unlinked (a PTE store) before this point; a CPU that enters a read-side section
  // after the fence below reads the new PTE and cannot reach it.
  fence("SeqCst");
  const me = current_cpu();
  const waiting = new Set<number>();
  for (let cpu = 0; cpu < num_cpus(); cpu++) if (cpu !== me) waiting.add(cpu);
  const d: Deferred = { run: f, waiting };
  if (passed(d, false)) {
    f();
  } else {
    const g = DEFERRED.lock();
    g.value = [...g.value, d];
    g.release();
  }
  poll();
}

/**
 * Waits until every deferred drop has run (OSTD's `rcu_barrier`-like step). Call it outside any
 * read-side section, e.g. at the end of a test after joining the other CPUs.
 */
export function rcu_barrier(): void {
  for (;;) {
    poll();
    const g = DEFERRED.lock();
    const empty = g.value.length === 0;
    g.release();
    if (empty) return;
    spin_loop();
  }
}

/**
 * The read side's half of the grace-period handshake: called by a lock-free walker after it has
 * entered atomic mode and before it reads PTEs. With the fence in `call_rcu` (the store-buffering
 * pattern), either the walker reads the PTE that unlinked a node, or the dropper sees the walker's
 * count non-zero and waits. OSTD gets this from the context switch that reports a quiescent state;
 * the stand-in needs it explicitly.
 */
export function rcu_read_side_fence(): void {
  fence("SeqCst");
}

/** A value dropped only after an RCU grace period (OSTD's `RcuDrop<T>`). */
export class RcuDrop<T> {
  private taken = false;

  private constructor(
    private readonly value: T,
    private readonly dropper: (value: T) => void,
  ) {}

  /** `RcuDrop::new(value)`; `dropper` is `T`'s drop. */
  static new<T>(value: T, dropper: (value: T) => void): RcuDrop<T> {
    return new RcuDrop(value, dropper);
  }

  /** `&*rcu_drop`. */
  get inner(): T {
    if (this.taken) panic("RcuDrop used after it was dropped or taken apart");
    return this.value;
  }

  /**
   * `RcuDrop::into_inner`: the value back, to be owned again without waiting.
   *
   * # Safety: the caller must not drop the value before a grace period ends (OSTD returns a panic
   * guard with it; here the caller turns it into a PTE, which is what `PteState::into_pte` does).
   */
  static into_inner<T>(r: RcuDrop<T>): T {
    "unsafe";
    const v = r.inner;
    r.taken = true;
    return v;
  }

  /** The drop: `T`'s drop runs after the grace period. */
  drop(): void {
    const v = this.inner;
    this.taken = true;
    call_rcu(() => this.dropper(v));
  }
}
