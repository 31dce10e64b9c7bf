// OSTD's `sync/rcu` (mod.rs, monitor.rs, non_null): read-copy update. An `Rcu<P>` / `RcuOption<P>`
// holds a pointer in an `AtomicPtr` in kmiri memory: readers load it with Acquire under a read
// guard, writers publish a new one with AcqRel (`update`, or a read guard's `compare_exchange`) and
// hand the old one to the RCU monitor, which drops it after a grace period — once every CPU has
// passed a quiescent state. `RcuDrop<T>` defers any value's `drop()` the same way.
//
// Quiescent states on Mirch. OSTD reports one from the scheduler, on a context switch, which
// cannot happen in atomic mode (preemption or interrupts disabled: a read guard, a held spin lock).
// Mirch has no scheduler, so a CPU reports one
//  - when its per-CPU atomic-mode count (`preempt.ts`) drops to zero at the end of an RCU read
//    guard, if a grace period is being monitored;
//  - in an inter-processor call that `synchronize_rcu` (and `rcu_barrier`) send to the other CPUs:
//    the handler runs where the interrupted code has interrupts enabled, so it is quiescent exactly
//    when the count it interrupted is zero (an idle CPU runs it with a count of zero);
//  - in `synchronize_rcu` itself, on the caller's CPU (it must not be in atomic mode).
// The handler reads the count with an AcqRel read-modify-write while it holds the monitor lock:
// the count's decrement at the end of a read section is a Release, so the section's reads happen
// before the report (and before the callback that frees what they read); and the reader's next
// increment (Acquire) reads the handler's write, so what the handler learned under the lock — the
// writer's new pointer — happens before the next read section. The race detector, which treats a
// handler as an actor of its own, needs both edges; on hardware the CPU's program order gives them.
//
// The callbacks are JavaScript closures kept in the monitor (Rust's `Box<dyn FnOnce>`); the
// monitor's state that Rust keeps in memory (the CPU mask, the flags, the grace-period number) is in
// a static. Callbacks run on the CPU that completes a grace period, outside the monitor lock,
// possibly in interrupt context.
import { AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Box, null_mut, panic, spin_loop, static_, struct, bool, type Box as BoxT, type Layout, type Ptr, type Ref } from "kmiri/rt";
import { in_interrupt } from "../arch/irq.js";
import { Arc } from "./arc.js";
import { current_cpu, inter_processor_call, num_cpus } from "./cpu.js";
import { DisabledPreemptGuard, preempt_count } from "./preempt.js";
import { SpinLock } from "./spin.js";

// ───────────────────────────── NonNullPtr ─────────────────────────────

/**
 * OSTD's `NonNullPtr`: an owning pointer type `P` to a `T` in kmiri memory that converts to and
 * from a raw pointer. `Box<T>` and `Arc<T>` implement it ({@link BoxPtr}, {@link ArcPtr}).
 */
export interface NonNullPtr<P, T> {
  readonly layout: Layout<T>;
  /** Gives up ownership for the raw pointer (pair with `from_raw`). */
  into_raw(p: P): Ptr<T>;
  /** Takes back ownership of a pointer from `into_raw` (unsafe: once, and not used after). */
  from_raw(raw: Ptr<T>): P;
  /** Drops an owned `P`. */
  drop(p: P): void;
}

/** `Box<T>` as a {@link NonNullPtr}. */
export function BoxPtr<T>(layout: Layout<T>): NonNullPtr<BoxT<T>, T> {
  return {
    layout,
    into_raw: (b) => Box.into_raw(b),
    from_raw: (raw) => {
      "unsafe";
      return Box.from_raw(raw);
    },
    drop: (b) => b.drop(),
  };
}

/** `Arc<T>` (of a value in kmiri memory) as a {@link NonNullPtr}. */
export function ArcPtr<T>(layout: Layout<T>): NonNullPtr<Arc<T>, T> {
  return {
    layout,
    into_raw: (a) => Arc.into_raw(a),
    from_raw: (raw) => {
      "unsafe";
      return Arc.from_raw(layout, raw);
    },
    drop: (a) => a.drop(),
  };
}

// ───────────────────────────── The monitor ─────────────────────────────

type Callback = () => void;

const MonitorWord = struct("RcuMonitor", {
  is_monitoring: AtomicBool,
  /** The CPUs that passed a quiescent state in the current grace period (OSTD's `AtomicCpuSet`). */
  cpu_mask: AtomicU64,
  /** Whether the current grace period is complete (protected by the monitor lock). */
  is_complete: bool,
  /** How many grace periods started (for `synchronize_rcu`'s IPIs: one round per period). */
  gp_seq: AtomicUsize,
});
type MonitorV = { is_monitoring: boolean; cpu_mask: bigint; is_complete: boolean; gp_seq: number };

/** OSTD's `RcuMonitor`: its state under a spin lock taken with interrupts disabled. */
class RcuMonitor {
  private readonly mem = static_(MonitorWord, { is_monitoring: false, cpu_mask: 0n, is_complete: true, gp_seq: 0 }, { name: "RCU_MONITOR", mut: true });
  private readonly state = SpinLock.static_<{ current: Callback[]; next: Callback[] }>({ current: [], next: [] }, "RCU_MONITOR_STATE");

  private word(): Ptr<MonitorV> {
    return this.mem.as_ptr();
  }

  /** An atomic field of the monitor's static. */
  private atomic<K extends "is_monitoring" | "cpu_mask" | "gp_seq">(name: K): Ref<MonitorV[K]> {
    unsafe: {
      // SAFETY: a field of a static, never freed; atomics are accessed only atomically, and the
      // reference covers that field alone (not `is_complete`, which is written under the lock).
      return this.word().field(name).as_ref();
    }
  }

  /** `is_complete` (read or written with the monitor lock held). */
  private is_complete(set?: boolean): boolean {
    unsafe: {
      // SAFETY: the monitor lock is held, which orders every access to the field.
      const p = this.word().field("is_complete");
      if (set !== undefined) p.write(set);
      return p.read();
    }
  }

  is_monitoring(): boolean {
    return this.atomic("is_monitoring").load("Relaxed");
  }

  gp_seq(): number {
    return this.atomic("gp_seq").load("Relaxed");
  }

  /**
   * The current CPU passed a quiescent state (OSTD's `finish_grace_period`). `in_handler`: called
   * from the monitor's IPI, where the CPU is quiescent only if the code it interrupted held no
   * atomic-mode guard (its count is zero: the monitor lock, taken with interrupts disabled, adds
   * none). Unsafe: outside `in_handler`, the caller must not be in a read-side critical section.
   */
  finish_grace_period(in_handler: boolean): void {
    "unsafe";
    let callbacks: Callback[];
    {
      // As OSTD's: the lock, from the IPI too. The monitor IPI waits for it like any other CPU
      // (Mirch runs a call to an idle CPU on that CPU, concurrently with the others); interrupts
      // are disabled while it is held, so the IPI never finds it held by the code it interrupted.
      const g = this.state.disable_irq().lock();
      const w = this.word();
      if (in_handler) {
        // AcqRel RMW on this CPU's count: see the header.
        if (preempt_count().fetch_add(0, "AcqRel") !== 0) {
          g.release();
          return;
        }
      }
      if (this.is_complete()) {
        g.release();
        return;
      }
      const cpu = current_cpu();
      const mask = this.atomic("cpu_mask");
      mask.fetch_or(1n << BigInt(cpu), "Relaxed");
      const full = (1n << BigInt(num_cpus())) - 1n;
      if (mask.load("Relaxed") !== full) {
        g.release();
        return;
      }
      this.is_complete(true);
      // The grace period is over: take its callbacks, and start the next one if any wait.
      callbacks = g.value.current;
      g.value.current = [];
      if (g.value.next.length !== 0) {
        this.restart(g.value);
      } else {
        this.atomic("is_monitoring").store(false, "Relaxed");
      }
      g.release();
    }
    for (const f of callbacks) f();
  }

  /** Runs `f` after the current grace period (OSTD's `after_grace_period`; Linux's `call_rcu`). */
  after_grace_period(f: Callback): void {
    const g = this.state.disable_irq().lock();
    g.value.next.push(f);
    if (this.is_complete()) this.restart(g.value);
    g.release();
  }

  /** Starts a grace period for the waiting callbacks (the monitor lock held). */
  private restart(st: { current: Callback[]; next: Callback[] }): void {
    const w = this.word();
    st.current = st.next;
    st.next = [];
    this.is_complete(false);
    this.atomic("cpu_mask").store(0n, "Relaxed");
    this.atomic("gp_seq").fetch_add(1, "Relaxed");
    this.atomic("is_monitoring").store(true, "Relaxed");
  }
}

/**
 * OSTD's `RCU_MONITOR` (a `Once` that `sync::init()` fills). Made at module level, as statics are:
 * made lazily on first use, its statics' allocations would race with the other CPUs' use.
 */
const RCU_MONITOR: RcuMonitor = new RcuMonitor();

/** OSTD's `sync::init()` (RCU's part): nothing left to do, the monitor is a static. */
export function init(): void {}

function monitor(): RcuMonitor {
  return RCU_MONITOR;
}

/**
 * OSTD's `finish_grace_period`: the current CPU is in a quiescent state. Unsafe: the caller must not
 * be in an RCU read-side critical section (atomic mode).
 */
export function finish_grace_period(): void {
  "unsafe";
  unsafe: {
    monitor().finish_grace_period(false);
  }
}

/** The monitor's inter-processor call: report a quiescent state if the interrupted code is in none. */
function rcu_ipi(): void {
  unsafe: {
    monitor().finish_grace_period(true);
  }
}

/** Linux's `call_rcu`: runs `f` once every CPU has passed a quiescent state. */
export function call_rcu(f: () => void): void {
  monitor().after_grace_period(f);
}

/**
 * Waits for a full grace period (Linux's `synchronize_rcu`): every read-side critical section that
 * began before the call has ended, and every callback queued before it has run. It asks the other
 * CPUs for a quiescent state by inter-processor calls and spins. Panics in atomic mode or in an
 * interrupt handler (it would wait for itself).
 */
export function synchronize_rcu(): void {
  if (in_interrupt()) panic("synchronize_rcu in interrupt context");
  if (preempt_count().load("Relaxed") !== 0) panic("synchronize_rcu in atomic mode (an RCU read-side critical section or a held spin lock)");
  const m = monitor();
  const done = Box.new(AtomicBool, false);
  const flag = done.as_ref();
  m.after_grace_period(() => flag.store(true, "Release"));
  let kicked = -1;
  let spins = 0;
  while (!flag.load("Acquire")) {
    unsafe: {
      m.finish_grace_period(false);
    }
    const seq = m.gp_seq();
    // Kick the other CPUs when a grace period starts, and again now and then while it lasts: a CPU
    // that was in a read-side critical section at the first kick may since have left it with no
    // quiescent report (its thread ended, or its guard was not the outermost), and only an IPI
    // asks it again (Linux's RCU forces quiescent states the same way).
    if ((seq !== kicked || ++spins % 64 === 0) && m.is_monitoring()) {
      kicked = seq;
      inter_processor_call(rcu_ipi);
    }
    spin_loop();
  }
  done.drop();
}

/** Linux's `rcu_barrier`: waits until the callbacks queued so far have run (here: a grace period). */
export function rcu_barrier(): void {
  synchronize_rcu();
}

// ───────────────────────────── Read-side guard ─────────────────────────────

/**
 * An RCU read-side critical section (OSTD's `disable_preempt()` guard as `Rcu::read` takes it).
 * `release()` ends it; the end of the outermost one on a CPU is a quiescent state.
 */
export class RcuReadLockGuard {
  private readonly g = new DisabledPreemptGuard(true);
  private released = false;

  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.g.release() && RCU_MONITOR.is_monitoring()) {
      unsafe: {
        // No atomic-mode guard is left on this CPU: it is quiescent here.
        RCU_MONITOR.finish_grace_period(false);
      }
    }
  }
}

/** Enters an RCU read-side critical section (Linux's `rcu_read_lock`). */
export function rcu_read_lock(): RcuReadLockGuard {
  return new RcuReadLockGuard();
}

// ───────────────────────────── Rcu / RcuOption ─────────────────────────────

/** The inner implementation of both `Rcu` and `RcuOption`. */
class RcuInner<P, T> {
  readonly slot: Ref<Ptr<T>>;
  private readonly owned: BoxT<Ptr<T>> | null;

  constructor(
    readonly kind: NonNullPtr<P, T>,
    pointer: P | null,
    static_name?: string,
  ) {
    const raw = pointer === null ? null_mut(kind.layout) : kind.into_raw(pointer);
    if (static_name !== undefined) {
      this.owned = null;
      this.slot = static_(AtomicPtr(kind.layout), raw, { name: static_name }).as_ref();
    } else {
      this.owned = Box.new(AtomicPtr(kind.layout), raw);
      this.slot = this.owned.as_ref();
    }
  }

  update(new_ptr: P | null): void {
    const raw = new_ptr === null ? null_mut(this.kind.layout) : this.kind.into_raw(new_ptr);
    const old = this.slot.swap(raw, "AcqRel");
    if (!old.is_null()) {
      unsafe: {
        // SAFETY: `old` came from `into_raw`; it is out of the slot, so no new reader finds it, and
        // the swap took it out once, so it is dropped once — after the current grace period.
        delay_drop(this.kind, old);
      }
    }
  }

  read(): RcuReadGuardInner<P, T> {
    const guard = rcu_read_lock();
    return new RcuReadGuardInner(this, this.slot.load("Acquire"), guard);
  }

  read_with(_guard: unknown): Ref<T> | null {
    // The caller's guard keeps this CPU in atomic mode, so the pointer outlives it.
    const p = this.slot.load("Acquire");
    if (p.is_null()) return null;
    unsafe: {
      // SAFETY: non-null, and the caller's atomic-mode guard keeps the object from being dropped
      // (that waits for this CPU's quiescent state); no one mutates a published object.
      return p.as_ref();
    }
  }

  /** `Drop for RcuInner`: no one else can read it any more, so the pointer is dropped at once. */
  drop(): void {
    const p = this.slot.load("Acquire");
    if (!p.is_null()) {
      unsafe: {
        this.kind.drop(this.kind.from_raw(p));
      }
    }
    this.owned?.drop();
  }
}

class RcuReadGuardInner<P, T> {
  private released = false;
  constructor(
    readonly rcu: RcuInner<P, T>,
    readonly obj_ptr: Ptr<T>,
    private readonly guard: RcuReadLockGuard,
  ) {}

  get(): Ref<T> | null {
    if (this.released) panic("RCU read guard used after release");
    // SAFETY: the guard keeps the object alive (its drop waits for this CPU's quiescent state).
    if (this.obj_ptr.is_null()) return null;
    unsafe: {
      return this.obj_ptr.as_ref();
    }
  }

  compare_exchange(new_ptr: P | null): { ok: true } | { ok: false; error: P | null } {
    if (this.released) panic("RCU read guard used after release");
    const kind = this.rcu.kind;
    const raw = new_ptr === null ? null_mut(kind.layout) : kind.into_raw(new_ptr);
    const r = this.rcu.slot.compare_exchange(this.obj_ptr, raw, "AcqRel", "Acquire");
    if (!r.ok) {
      this.release();
      // SAFETY: the exchange failed, so no one else saw `raw`.
      if (new_ptr === null) return { ok: false, error: null };
      unsafe: {
        return { ok: false, error: kind.from_raw(raw) };
      }
    }
    if (!this.obj_ptr.is_null()) {
      unsafe: {
        delay_drop(kind, this.obj_ptr);
      }
    }
    this.release();
    return { ok: true };
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.guard.release();
  }
}

/** Drops the pointer after the grace period (OSTD's `delay_drop`). Unsafe: see `update`. */
function delay_drop<P, T>(kind: NonNullPtr<P, T>, pointer: Ptr<T>): void {
  "unsafe";
  monitor().after_grace_period(() => {
    unsafe: {
      kind.drop(kind.from_raw(pointer));
    }
  });
}

/** OSTD's `Rcu<P>`: an RCU cell of a non-null pointer. Free it with `drop()`. */
export class Rcu<P, T> {
  private readonly inner: RcuInner<P, T>;
  constructor(kind: NonNullPtr<P, T>, pointer: P, static_name?: string) {
    this.inner = new RcuInner(kind, pointer, static_name);
  }
  /** Publishes `new_ptr`; the old pointer is dropped after the grace period. */
  update(new_ptr: P): void {
    this.inner.update(new_ptr);
  }
  /** A read guard: `get()` the object, or `compare_exchange` it. */
  read(): RcuReadGuard<P, T> {
    return new RcuReadGuard(this.inner.read());
  }
  /** Reads under a guard the caller holds (any atomic-mode guard: a lock guard, a read guard). */
  read_with(guard: unknown): Ref<T> {
    return this.inner.read_with(guard)!;
  }
  drop(): void {
    this.inner.drop();
  }
}

/** OSTD's `RcuReadGuard`. `release()` is its drop. */
export class RcuReadGuard<P, T> {
  constructor(private readonly inner: RcuReadGuardInner<P, T>) {}
  get(): Ref<T> {
    return this.inner.get()!;
  }
  /** Replaces the pointer read with `new_ptr` if no one changed it since; consumes the guard. */
  compare_exchange(new_ptr: P): { ok: true } | { ok: false; error: P } {
    return this.inner.compare_exchange(new_ptr) as { ok: true } | { ok: false; error: P };
  }
  release(): void {
    this.inner.release();
  }
}

/** OSTD's `RcuOption<P>`: an RCU cell of a nullable pointer. Free it with `drop()`. */
export class RcuOption<P, T> {
  private readonly inner: RcuInner<P, T>;
  constructor(kind: NonNullPtr<P, T>, pointer: P | null = null, static_name?: string) {
    this.inner = new RcuInner(kind, pointer, static_name);
  }
  /** `RcuOption::new_none()`. */
  static new_none<P, T>(kind: NonNullPtr<P, T>): RcuOption<P, T> {
    return new RcuOption(kind, null);
  }
  update(new_ptr: P | null): void {
    this.inner.update(new_ptr);
  }
  read(): RcuOptionReadGuard<P, T> {
    return new RcuOptionReadGuard(this.inner.read());
  }
  read_with(guard: unknown): Ref<T> | null {
    return this.inner.read_with(guard);
  }
  drop(): void {
    this.inner.drop();
  }
}

/** OSTD's `RcuOptionReadGuard`. */
export class RcuOptionReadGuard<P, T> {
  constructor(private readonly inner: RcuReadGuardInner<P, T>) {}
  get(): Ref<T> | null {
    return this.inner.get();
  }
  is_none(): boolean {
    return this.inner.obj_ptr.is_null();
  }
  compare_exchange(new_ptr: P | null): { ok: true } | { ok: false; error: P | null } {
    return this.inner.compare_exchange(new_ptr);
  }
  release(): void {
    this.inner.release();
  }
}

// ───────────────────────────── RcuDrop ─────────────────────────────

/**
 * OSTD's `RcuDrop<T>`: a value whose drop is deferred until after a grace period. `T` is a handle
 * with a `drop()` method (a `Frame`, a page-table node). `drop()` queues it.
 */
export class RcuDrop<T extends { drop(): void }> {
  private taken = false;
  constructor(private readonly inner: T) {}
  /** `Deref`. */
  get value(): T {
    if (this.taken) panic("RcuDrop used after drop or into_inner");
    return this.inner;
  }
  /** Drops the value after the grace period. */
  drop(): void {
    const v = this.value;
    this.taken = true;
    call_rcu(() => v.drop());
  }
  /** Takes the value out (unsafe: the caller drops it only after the grace period). */
  static into_inner<T extends { drop(): void }>(slot: RcuDrop<T>): T {
    "unsafe";
    const v = slot.value;
    slot.taken = true;
    return v;
  }
}
