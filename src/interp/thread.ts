/**
 * A thread of the program: a CPU of the Machine. It is a generator of the compiled code (so the
 * scheduler can suspend it at a scheduling point) with its own stack of call-site ids.
 */
import type { PanicStop } from "./report.js";
import { G, GEN } from "./runtime-kit.js";

/**
 * `spinning`: the thread called `spin_loop` and waits for another thread to make progress
 * ({@link Machine.progress}); like `blocked`, it is not runnable until then.
 */
export type ThreadState = "runnable" | "blocked" | "spinning" | "done";

/** A thread of the program (a CPU of the Machine). */
export class Thread {
  /**
   * The stack of call-site ids (see Machine.s) *while the thread is not running*: entries
   * `[0, min(sp, STACK_LIMIT))`, saved at the context switch ({@link Machine.enter}). The running
   * thread's stack is the Machine's one shared buffer of {@link STACK_LIMIT} entries, so a thread
   * costs memory in proportion to its depth, not 256 KiB each (a program with thousands of
   * threads spent most of its time allocating and zeroing them).
   */
  stack: Int32Array = NO_STACK;
  sp = 0;
  state: ThreadState = "runnable";
  /** What the last `yield` gave, handed back on resume. */
  send: unknown = undefined;
  result: unknown = undefined;
  panic: PanicStop | null = null;
  /** Threads waiting in `join` for this one. */
  joiners: Thread[] = [];
  /** The site of the `spawn` that made it (-1 for `main`). */
  spawnSite = -1;
  /** The site where the thread got stuck (`join`, `spin_loop`), for deadlock reports. */
  blockedAt = -1;
  /** The Machine's progress count when this thread last called `spin_loop` (see Machine.spinLoop). */
  seenProgress = 0;
  gen: Generator<unknown, unknown, unknown> | null = null;
  /**
   * Who the race detector sees acting while this thread runs: the thread itself, or on Mirch its
   * CPU's interrupt context while an interrupt frame runs on it.
   */
  raceId: number;
  /** Stack slots (`local`) alive on this thread: the stack depth of the function that owns each, and how to free it. */
  locals: { depth: number; free: (site: number) => void }[] = [];
  /** Depth (`sp` at entry) of the innermost running function that may own locals, -1 for none. */
  localsDepth = -1;
  /**
   * On Mirch, the CPU it runs on: its id for a thread of the program (thread `i` is CPU `i`); for
   * the interrupt thread of an idle CPU (see src/interp/mirch/interrupts.ts), that CPU.
   */
  cpu: number;

  constructor(
    readonly id: number,
    readonly name: string,
    readonly entry: () => unknown,
  ) {
    this.raceId = id;
    this.cpu = id;
  }
}

/** Deepest program call stack kept; deeper calls still run but are cut from backtraces. */
export const STACK_LIMIT = 1 << 16;

/** The saved stack of a thread that has none (never ran, or depth 0). */
const NO_STACK = new Int32Array(0);

/**
 * Saves the first `n` entries of `from` (the running stack) as `t`'s stack, reusing its array
 * when it is large enough.
 */
export function saveStack(t: Thread, from: Int32Array, n: number): void {
  if (n === 0) {
    t.stack = NO_STACK;
    return;
  }
  if (t.stack.length < n) t.stack = new Int32Array(Math.min(STACK_LIMIT, Math.max(16, 2 * n)));
  // A loop, not `set(from.subarray(…))`: a context switch happens hundreds of thousands of times
  // in a run with spinning threads, and each subarray is an object; stacks are shallow.
  const to = t.stack;
  for (let i = 0; i < n; i++) to[i] = from[i]!;
}

/** A generator that runs `f`: delegating to its compiled generator, or calling it plainly. */
export function startGenerator(f: () => unknown): Generator<unknown, unknown, unknown> {
  const g = (f as { [GEN]?: () => Generator<unknown, unknown, unknown> })[GEN];
  if (g) return g.call(undefined);
  return (function* () {
    const r = f();
    if (r instanceof G) return yield* r as Generator<unknown, unknown, unknown>;
    return r;
  })();
}
