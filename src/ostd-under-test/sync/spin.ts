// OSTD's `sync/spin.rs` (asterinas/asterinas, ostd/src/sync/spin.rs), re-written for kmiri: a spin
// lock built on an atomic flag, with OSTD's two guardians — `lock()` (preemption disabled: Mirch
// has no kernel preemption, but the per-CPU guard count of `preempt.ts` is kept, so a held lock is
// an RCU read-side critical section as in OSTD) and `disable_irq().lock()` (local interrupts off
// while the lock is held, restored when the guard goes). Taking and releasing it are annotated for
// lockdep, and its Acquire/Release orderings are what orders the critical sections for the race
// detector (the annotations add no happens-before of their own).
import { AtomicBool, Box, lock_acquired, lock_released, spin_loop, static_, type Box as BoxT, type Ref } from "kmiri/rt";
import { LocalIrqDisabled, PreemptDisabled, type AtomicModeGuard } from "./guard.js";

/** A spin lock protecting a value of type `T` (OSTD's `SpinLock<T>`). */
export class SpinLock<T> {
  /** The lock word: a `Box` for a lock made at run time (freed by {@link drop}), or a static's. */
  private readonly word: Ref<boolean>;
  private readonly owned: BoxT<boolean> | null;
  private inner: T;
  /** The lock's class for lockdep (locks of one class are ordered together). */
  readonly class_name: string | undefined;

  /** `SpinLock::new(value)`. `class_name` names the lock's lockdep class. Free it with {@link drop}. */
  constructor(value: T, class_name?: string) {
    this.owned = Box.new(AtomicBool, false);
    this.word = this.owned.as_ref();
    this.inner = value;
    this.class_name = class_name;
  }

  /**
   * A lock whose word is a static (`static LOCK: SpinLock<T>`): never freed, so no `drop()` is
   * needed. Call it at module level, as Rust initialises statics.
   */
  static static_<T>(value: T, name: string): SpinLock<T> {
    const lock: SpinLock<T> = Object.create(SpinLock.prototype);
    const word = static_(AtomicBool, false, { name });
    Object.assign(lock, { word: word.as_ref(), owned: null, inner: value, class_name: name });
    return lock;
  }

  /** Acquires the lock (preemption disabled: nothing to do on Mirch) and returns its guard. */
  lock(): SpinLockGuard<T> {
    const g = PreemptDisabled.guard();
    this.acquire();
    return new SpinLockGuard(this, g);
  }

  /** OSTD's `disable_irq()`: the guard keeps local interrupts disabled while the lock is held. */
  disable_irq(): { lock(): SpinLockGuard<T>; try_lock(): SpinLockGuard<T> | null } {
    return {
      lock: () => {
        const g = LocalIrqDisabled.guard();
        this.acquire();
        return new SpinLockGuard(this, g);
      },
      try_lock: () => this.try_lock_with(LocalIrqDisabled.guard()),
    };
  }

  /** Tries once: the guard, or `null` when the lock is held. */
  try_lock(): SpinLockGuard<T> | null {
    return this.try_lock_with(PreemptDisabled.guard());
  }

  private try_lock_with(g: AtomicModeGuard): SpinLockGuard<T> | null {
    if (!this.word.compare_exchange(false, true, "Acquire", "Relaxed").ok) {
      g.release();
      return null;
    }
    lock_acquired(this.word, this.class_name);
    return new SpinLockGuard(this, g);
  }

  /** OSTD's `get_mut`: the value, for an owner that knows no one else can lock it. */
  get_mut(): T {
    return this.inner;
  }

  /** Frees a lock made with `new` (Rust drops it with its owner); it must not be held. */
  drop(): void {
    this.owned?.drop();
  }

  private acquire(): void {
    const w = this.word;
    while (!w.compare_exchange_weak(false, true, "Acquire", "Relaxed").ok) {
      while (w.load("Relaxed")) spin_loop();
    }
    lock_acquired(w, this.class_name);
  }

  /** @internal the guard's access. */
  static value<T>(l: SpinLock<T>): T {
    return l.inner;
  }

  /** @internal the guard's access. */
  static set<T>(l: SpinLock<T>, v: T): void {
    l.inner = v;
  }

  /** @internal the guard's release. */
  static unlock<T>(l: SpinLock<T>): void {
    lock_released(l.word);
    l.word.store(false, "Release");
  }
}

/** The guard of a held {@link SpinLock}: the value, and `release()` (Rust drops the guard). */
export class SpinLockGuard<T> {
  private released = false;

  constructor(
    private readonly lock: SpinLock<T>,
    /** The guardian's guard (preemption or local interrupts disabled). */
    private readonly guard: AtomicModeGuard,
  ) {}

  /** The protected value (`*guard`). */
  get value(): T {
    if (this.released) throw new Error("SpinLockGuard used after release");
    return SpinLock.value(this.lock);
  }

  set value(v: T) {
    if (this.released) throw new Error("SpinLockGuard used after release");
    SpinLock.set(this.lock, v);
  }

  /** Releases the lock (and restores interrupts for a `disable_irq()` guard). */
  release(): void {
    if (this.released) return;
    this.released = true;
    SpinLock.unlock(this.lock);
    this.guard.release();
  }
}
