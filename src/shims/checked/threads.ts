/**
 * Threads on the Machine: `spawn`, `JoinHandle.join`, `yield_now`, `spin_loop`. Each is a
 * scheduling point; `spawn` and `join` (whether it returns or blocks) are also *progress*
 * (Machine.progress), which wakes threads spinning in `spin_loop`.
 *
 * `join` exists twice: a plain method for calls that cannot yield (from a built-in's callback, a
 * constructor, a getter), and under `GEN` a generator the instrumented code delegates to, which
 * blocks the thread in the scheduler until the target ends.
 */
import { PanicStop } from "../../interp/report.js";
import { Thread } from "../../interp/thread.js";
import { GEN } from "../../interp/runtime-kit.js";
import { takeSpuriousFailure } from "./atomics.js";
import { machine } from "./machine.js";
import { unsupported } from "./unsafe.js";

/** The thread of a handle: kmiri's eyes only. */
let threadOf: (h: JoinHandle<unknown>) => Thread;

/** A handle on a spawned thread (`std::thread::JoinHandle`). */
export class JoinHandle<T> {
  /** The thread (private: the program must not reach the engine's thread, or forge a handle). */
  #thread: Thread;

  /** @internal */
  constructor(thread: Thread) {
    if (!isThread(thread)) unsupported("a `JoinHandle` constructed by the program: `spawn` makes them");
    this.#thread = thread;
  }

  static {
    threadOf = (h) => h.#thread;
  }

  /** Waits for the thread to end; its result, or its panic propagated into this thread. */
  join(): T {
    const t = threadOf(this);
    machine().progress();
    if (t.state !== "done") {
      unsupported(
        `\`join\` on thread \`${t.name}\`, which is still running, from code that cannot wait ` +
          "(a callback called by a JavaScript built-in, a constructor or a getter); call `join` from a plain function",
      );
    }
    return joined(t) as T;
  }
}

function isThread(t: unknown): t is Thread {
  return t instanceof Thread;
}

function joined(t: Thread): unknown {
  const m0 = machine();
  // Everything the joined thread did happens before what the joiner does next.
  m0.dataRaces.join(m0.thread.id, t.id);
  if (t.panic) {
    const m = machine();
    throw new PanicStop(
      `thread '${t.name}' panicked: ${t.panic.panicMessage}`,
      m.here(),
      m.threadName(),
      m.backtrace(),
    );
  }
  return t.result;
}

(JoinHandle.prototype.join as unknown as Record<symbol, unknown>)[GEN] = function* (this: JoinHandle<unknown>) {
  const m = machine();
  const t = threadOf(this);
  m.b--;
  m.progress();
  while (t.state !== "done") {
    m.blockOnJoin(t);
    yield undefined;
  }
  return joined(t);
};

/** `std::thread::spawn`: a new thread (a CPU of the Machine) running `f`. */
export function spawn<T>(f: () => T, options?: { name?: string }): JoinHandle<T> {
  const m = machine();
  if (typeof f !== "function") unsupported(`\`spawn\` needs a function, got ${typeof f}`);
  const t = m.spawn(f, options?.name);
  m.b--;
  return new JoinHandle<T>(t);
}

/** `std::thread::yield_now`: lets the scheduler pick a thread. */
export function yield_now(): void {
  machine().yieldNow();
}

/**
 * `core::hint::spin_loop`: the thread gives up the CPU and *spins*: it does not run again until
 * another thread makes progress (an atomic store or read-modify-write, spawn, join, a lock
 * annotation, output, a thread ending: see Machine.progress). When every thread is blocked or
 * spinning, the run is a `deadlock`, reported at the `spin_loop` of each spinning thread.
 */
export function spin_loop(): void {
  const m = machine();
  m.b--;
  // After a spurious `compare_exchange_weak` failure the retry may succeed at once: only a hint.
  if (takeSpuriousFailure(m.thread)) m.yieldNow();
  else m.spinLoop();
}
