/**
 * Threads in native mode. Plain Node has one thread for the program's objects, so a spawned
 * thread runs to completion at `spawn` (a legal schedule of the Machine); a program that needs
 * two threads to make progress together cannot run natively.
 */
import { NativePanic } from "./panic.js";

/** A handle on a thread that has already run. */
export class JoinHandle<T> {
  /** @internal */
  constructor(
    private readonly result: T,
    private readonly failure: NativePanic | null,
  ) {}

  /** The thread's result, or its panic propagated. */
  join(): T {
    if (this.failure) throw new NativePanic(`thread panicked: ${this.failure.message}`);
    return this.result;
  }
}

let threadCount = 0;

/** Runs `f` now, as a thread that is never preempted. */
export function spawn<T>(f: () => T, _options?: { name?: string }): JoinHandle<T> {
  threadCount++;
  try {
    return new JoinHandle<T>(f(), null);
  } catch (e) {
    if (e instanceof NativePanic) return new JoinHandle<T>(undefined as T, e);
    throw e;
  }
}

/** Nothing to yield to natively. */
export function yield_now(): void {}

/** Nothing to yield to natively. */
export function spin_loop(): void {}

/** Threads spawned so far (for statistics). */
export function spawnedThreads(): number {
  return threadCount;
}
