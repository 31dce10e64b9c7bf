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

/** The running thread's index in this run: main 0, the k-th spawned thread k (Mirch's CPU). */
let currentThread = 0;
/** Threads spawned in this run. */
let spawnedInRun = 0;
/** The threads waiting in `spawn` for the thread they spawned to finish, outermost first. */
const suspended: number[] = [];

/** The running thread's index in this run (main 0, the k-th spawned thread k): Mirch's `current_cpu()`. */
export function currentThreadIndex(): number {
  return currentThread;
}

/** Whether thread `k` of this run is running: the current one, or one waiting in `spawn`. */
export function threadIsRunning(k: number): boolean {
  return k === currentThread || suspended.includes(k);
}

/** Runs `f` now, as a thread that is never preempted. */
export function spawn<T>(f: () => T, _options?: { name?: string }): JoinHandle<T> {
  threadCount++;
  const parent = currentThread;
  suspended.push(parent);
  currentThread = ++spawnedInRun;
  try {
    return new JoinHandle<T>(f(), null);
  } catch (e) {
    if (e instanceof NativePanic) return new JoinHandle<T>(undefined as T, e);
    throw e;
  } finally {
    suspended.pop();
    currentThread = parent;
  }
}

/** Nothing to yield to natively. */
export function yield_now(): void {}

/** Spins in one native run after which a thread is waiting for what can never happen. */
const SPIN_LIMIT = 10_000_000;
let spins = 0;

/**
 * Nothing to yield to natively: a spawned thread ran to completion inside `spawn`, so a thread
 * that spins waiting for one spawned after it would spin forever (and a wait that can end natively
 * ends at once); after {@link SPIN_LIMIT} spins in one run, it panics instead.
 */
export function spin_loop(): void {
  if (++spins > SPIN_LIMIT) {
    spins = 0;
    throw new NativePanic(
      `spin_loop spun ${SPIN_LIMIT} times: natively a spawned thread runs to completion inside \`spawn\`, so this wait never ends (it can on the Machine)`,
    );
  }
}

/** A new native run starts (driver's NativeLinker): no spins yet, and the main thread (index 0) runs. */
export function resetSpins(): void {
  spins = 0;
  currentThread = 0;
  spawnedInRun = 0;
  suspended.length = 0;
}

/** Threads spawned so far (for statistics). */
export function spawnedThreads(): number {
  return threadCount;
}
