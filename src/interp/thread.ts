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
  /** The stack of call-site ids (see Machine.s). */
  stack: Int32Array = new Int32Array(STACK_LIMIT);
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
  /** Stack slots (`local`) alive on this thread: the stack depth of the function that owns each, and how to free it. */
  locals: { depth: number; free: (site: number) => void }[] = [];
  /** Depth (`sp` at entry) of the innermost running function that may own locals, -1 for none. */
  localsDepth = -1;

  constructor(
    readonly id: number,
    readonly name: string,
    readonly entry: () => unknown,
  ) {}
}

/** Deepest program call stack kept; deeper calls still run but are cut from backtraces. */
export const STACK_LIMIT = 1 << 16;

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
