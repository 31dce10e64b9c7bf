/**
 * The Machine's lockdep state for `lock_acquired` / `lock_released` (kmiri/rt's annotations of
 * locks built from atomics): the {@link LockOrderChecker} of the run, and what the deadlock report
 * needs to recognise a relock — a thread spinning on a lock it already holds.
 *
 * The annotation comes right after the lock was taken, so a thread that takes a lock it already
 * holds never reaches it: it spins. The run then ends as a `deadlock` at the `spin_loop` (or,
 * with other threads still running, when they end), and {@link LockAnnotations.relock} tells the
 * report that the lock the thread spins on — the target of its last atomic operation — is one it
 * holds, and where it took it.
 *
 * @module
 */
import { LockOrderChecker, type HeldLock } from "../concurrency/index.js";

/** Lock annotations of one run. */
export class LockAnnotations {
  /** lockdep: classes, the order graph, the locks each thread holds. */
  readonly order = new LockOrderChecker();
  /** Per thread: the address of its last atomic operation (what a spinning thread waits on), -1 for none. */
  readonly lastAtomic: number[] = [];
  /** Per lock address: the size of the lock as annotated (the bytes a spin on it may target). */
  private readonly sizes = new Map<number, number>();
  /** Declared ranks by class name, applied when the class is first used. */
  readonly ranks = new Map<string, number>();

  /** Records the size of the lock annotated at `addr`. */
  noteLock(addr: number, size: number): void {
    this.sizes.set(addr, size);
  }

  /**
   * The held lock thread `t` is spinning on, if its last atomic operation targeted a lock it
   * holds (a relock: it waits for itself), or `undefined`.
   */
  relock(t: number): HeldLock | undefined {
    const target = this.lastAtomic[t];
    if (target === undefined || target < 0) return undefined;
    for (const h of this.order.held(t)) {
      const size = this.sizes.get(h.lock) ?? 1;
      if (target >= h.lock && target < h.lock + Math.max(size, 1)) return h;
    }
    return undefined;
  }
}
