/**
 * The scheduler loop of a Machine: it runs the program's threads one at a time, each until it
 * blocks, ends or its budget of scheduling points runs out, then makes a *decision* — the run's
 * policy (src/concurrency/scheduler.ts: random preemption, PCT or a replay, recorded as the replay
 * string) picks the next runnable thread and its budget. It also owns
 *
 * - the thread states it changes: `join` blocking, `spin_loop` spinning, a thread ending, and
 *   *progress* ({@link Scheduler.progress}), which wakes the spinning threads;
 * - deadlock detection: no thread can run (and no actor can wake one) — reported through
 *   src/interp/end-checks.ts;
 * - the time limit (`timeoutMs`) at every decision, besides the Machine's check at loop ticks;
 * - the actors (src/interp/actors.ts): devices and interrupt sources that are not threads but
 *   step at the decisions. With none registered, a decision costs one length test more than
 *   without them, and schedules are exactly those of a Machine without actors.
 *
 * The Machine keeps the hot fields compiled code reads (`s`, `sp`, `b`, `stopped`): the loop
 * switches threads through {@link Machine.enter}, and hands what a thread threw to
 * {@link Machine.settle} (findings, panics and exceptions are the Machine's business).
 *
 * @module
 */
import type { Machine } from "./machine.js";
import type { PanicInfo } from "./report.js";
import { PanicStop, UBStop } from "./report.js";
import type { Thread } from "./thread.js";
import { ReplayDivergence, Xoshiro128, deriveSeed } from "../concurrency/scheduler.js";
import { resetSyncDepth } from "./runtime-kit.js";
import { STALL_ROUNDS, isQuiescent, validateActor, type Actor } from "./actors.js";
import { deadlockReports } from "./end-checks.js";

/**
 * How many scheduling decisions the other threads get after `main` returned, before the run ends
 * and the threads still running are leaked: Miri's `MAIN_THREAD_YIELDS_AT_SHUTDOWN` (src/eval.rs).
 *
 * Miri's rule: once `main`'s stack is empty, the main thread — if threads are preempted at all
 * (`preemption_rate > 0`) — yields 256 times, each yield a random pick among the enabled threads;
 * a thread picked runs until it is preempted, blocks or ends, and the main thread yields again the
 * next time it runs; when it runs with no yield left, the program ends, and threads not finished
 * are an error ("the main thread terminated without waiting for all remaining threads", unless
 * leaks are ignored). A detached thread about to finish gets to finish; one that runs (or waits)
 * forever is still reported, after a bounded number of steps. At rate 0 there is no yield.
 *
 * kmiri does the same with its decisions: when `main` returns (at a preemption rate above 0, or
 * with PCT) the main thread stays, with an empty stack, and the run makes up to 256 more
 * decisions; the main thread is offered in them only when no other thread can run (PCT always
 * runs its highest-priority thread, so offering it at every decision could starve the others),
 * and each decision counts, whoever it picks. The run ends when they are used up, or at once when
 * every other thread has ended (Miri would yield to itself; only actors could tell). Then the
 * leak checks run as before. Deterministic per seed; a replay replays them.
 */
export const MAIN_THREAD_YIELDS_AT_SHUTDOWN = 256;

/**
 * `spin_loop` calls a thread may make, with no progress in between, inside code that cannot be
 * suspended before kmiri says it would spin forever. No other thread, interrupt or device runs
 * there, so only the spinner's own progress could end the spin; the margin is for loops whose
 * attempts fail by chance (a weak compare-exchange fails spuriously 80% of the time, as in Miri:
 * 10,000 failures in a row never happen).
 */
export const SYNC_SPIN_LIMIT = 10_000;

/** The scheduler of one Machine (its `scheduler`). */
export class Scheduler {
  /** How many times a thread made progress (the `spin_loop` of a thread that has not seen the last one retries). */
  progressCount = 0;
  /** The thread spinning in code that cannot be suspended, the progress count when it began, and its spins since. */
  private syncSpinner: Thread | null = null;
  private syncSpinProgress = -1;
  private syncSpins = 0;
  /** The registered actors, in registration order (see src/interp/actors.ts). */
  readonly actors: Actor[] = [];
  /** The site that registered each actor (-1: registered by the host, outside the program). */
  readonly actorSites: number[] = [];
  /** The actor stepping now (its reports say so), or null. */
  acting: Actor | null = null;
  /** The main thread once `main` returned, while it yields to the others (see {@link run}); else null. */
  private yielding: Thread | null = null;
  /** Threads that called `spin_loop` since the last progress (an upper bound; 0: none). */
  private spinners = 0;
  /** The budget of the thread the last decision picked. */
  private nextBudget = Infinity;
  /** Threads whose end the race detector has seen. */
  private readonly terminated: boolean[] = [];
  /** The actors' stream, `deriveSeed(seed, "actors")`: made when the first actor registers. */
  private actorRng: Xoshiro128 | null = null;
  /** Busy actors that ran {@link STALL_ROUNDS} rounds without waking a thread (the deadlock names them). */
  private stalledBy: Actor[] = [];
  /**
   * The threads not known to be done, in creation order: a decision scans these, not every thread
   * the run ever had (a program that spawned thousands of threads, most of them ended, would
   * otherwise pay for all of them at every decision). {@link liveThreads} adds new threads and
   * drops ended ones.
   */
  private readonly live: Thread[] = [];
  /** How many of the Machine's threads {@link live} has seen. */
  private seen = 0;
  /**
   * The interrupt threads of idle CPUs (Mirch) not yet ended, by id: scheduled like the program's
   * threads (they are in {@link live}), but not in the Machine's `threads`.
   */
  private readonly interruptThreads = new Map<number, Thread>();

  constructor(private readonly m: Machine) {}

  // ── the loop ──────────────────────────────────────────────────────────────────────

  /**
   * Runs threads, starting with `main`, until `main` ends or the run stops (a finding, a deadlock,
   * a replay that diverged). When `main` returns while other threads have not ended, it yields to
   * them up to {@link MAIN_THREAD_YIELDS_AT_SHUTDOWN} times first (Miri's rule; not at preemption
   * rate 0). Returns `main`'s panic, if it panicked.
   */
  run(main: Thread): PanicInfo | undefined {
    const m = this.m;
    let t: Thread | undefined = this.decide(main);
    if (!t) return undefined;
    const irq = m.irq;
    // The decisions left once `main` returned (-1: it has not returned): see
    // MAIN_THREAD_YIELDS_AT_SHUTDOWN.
    let shutdown = -1;
    for (;;) {
      // (After `main` returned the main thread has nothing left to run: picked, it yields again.)
      if (t !== main || shutdown < 0) {
        m.enter(t, this.nextBudget);
        // A preemption point of `t`'s CPU: an interrupt pending for it runs first (Mirch).
        if (irq !== null && irq.deliverable(t)) irq.deliver(t);
        let r: IteratorResult<unknown, unknown> | undefined;
        try {
          r = t.gen!.next(t.send);
        } catch (e) {
          t.sp = m.sp;
          const panic = m.settle(t, e);
          resetSyncDepth();
          if (m.stopped && !(m.stopped instanceof PanicStop)) return undefined;
          if (t === main) return panic;
          if (panic) m.threadPanics.push(panic);
          r = undefined;
        }
        t.sp = m.sp;
        if (r && !r.done) t.send = r.value;
        else if (t === main && r && m.yieldsAtShutdown()) {
          // `main` returned: the main thread stays, with an empty stack, and yields to the others.
          t.result = r.value;
          shutdown = MAIN_THREAD_YIELDS_AT_SHUTDOWN;
          this.yielding = main;
        } else {
          if (r) t.result = r.value;
          this.finish(t);
          if (t === main) return undefined;
        }
      }
      if (shutdown >= 0) {
        // The program ends when the yields are used up, or at once when no other thread is left.
        if (shutdown === 0 || !this.othersLive(main)) {
          this.yielding = null;
          m.enter(main, Infinity);
          this.finish(main);
          return undefined;
        }
        shutdown--;
      }
      const next = this.decide(t);
      if (!next) {
        if (!m.stopped) this.deadlock();
        return undefined;
      }
      if (next !== t) m.switches++;
      t = next;
    }
  }

  /**
   * A scheduling decision (see src/concurrency/scheduler.ts): the actors step first (see
   * src/interp/actors.ts), then the policy picks among the runnable threads (ids in creation
   * order) and gives the pick its budget. Undefined when no thread can run (a deadlock, reported
   * by the caller), an actor stopped the run, or a replay diverged (reported here).
   */
  private decide(cur: Thread): Thread | undefined {
    const m = this.m;
    if (m.pastDeadline()) {
      // The time limit: stopped where the thread that gave up the CPU is (a scheduling point).
      m.onThread(cur, () => (m.stopped ??= new UBStop(m.timeoutReport())));
      return undefined;
    }
    if (this.actors.length !== 0 && !this.offerActors()) return undefined;
    const runnable: number[] = [];
    const irq = m.irq;
    for (const x of this.liveThreads()) {
      if (x.state === "runnable") runnable.push(x.id);
      else if (irq !== null && irq.deliverable(x)) {
        // A CPU with a deliverable interrupt is not blocked: it wakes to take it (its wait loop retries after).
        x.state = "runnable";
        runnable.push(x.id);
      }
    }
    if (runnable.length === 0 && (this.actors.length === 0 || !this.stall(runnable))) return undefined;
    // The main thread yielding at shutdown is offered only when no other thread can run (it is
    // first: ids in creation order).
    if (this.yielding !== null && runnable.length > 1 && runnable[0] === this.yielding.id) runnable.shift();
    try {
      const id = m.policy.pick(runnable, cur.id);
      this.nextBudget = m.policy.budget();
      return m.threads[id] ?? this.interruptThreads.get(id);
    } catch (e) {
      if (!(e instanceof ReplayDivergence)) throw e;
      m.onThread(cur, () => m.replayDiverged(e.message));
      return undefined;
    }
  }

  /** Whether a thread other than `main` has not ended (blocked and spinning ones count). */
  private othersLive(main: Thread): boolean {
    for (const x of this.liveThreads()) if (x !== main) return true;
    return false;
  }

  /** The threads not done (in creation order), the list {@link live} brought up to date. */
  private liveThreads(): Thread[] {
    const all = this.m.threads;
    const live = this.live;
    while (this.seen < all.length) live.push(all[this.seen++]);
    let k = 0;
    for (let i = 0; i < live.length; i++) {
      const x = live[i];
      if (x.state !== "done") live[k++] = x;
    }
    live.length = k;
    return live;
  }

  /** No thread can run: one report per stuck thread; the first stops the run. */
  private deadlock(): void {
    const m = this.m;
    m.findings.push(...deadlockReports(m, this.stalledBy));
    m.stopped ??= new UBStop(m.findings[0]);
  }

  /** A thread ended (returned, panicked, or stopped the run): its joiners wake; it is progress. */
  finish(t: Thread): void {
    t.state = "done";
    // An interrupt thread acts as its CPU's interrupt context, which lives on: only a program
    // thread terminates for the race detector (its final clock is what a `join` of it acquires).
    if (this.m.threads[t.id] !== t) this.interruptThreads.delete(t.id);
    else if (!this.terminated[t.id]) {
      this.terminated[t.id] = true;
      this.m.dataRaces.terminate(t.id);
    }
    for (const j of t.joiners) j.state = "runnable";
    t.joiners = [];
    this.progress();
  }

  // ── interrupt threads ─────────────────────────────────────────────────────────────

  /** Adds the interrupt thread of an idle CPU (`Machine.spawnInterruptThread`, which documents it). */
  addInterruptThread(t: Thread): void {
    this.liveThreads();
    this.interruptThreads.set(t.id, t);
    this.live.push(t);
  }

  /** The interrupt thread running on CPU `cpu` (idle but for it), if any. */
  interruptThreadOf(cpu: number): Thread | undefined {
    for (const t of this.interruptThreads.values()) if (t.cpu === cpu) return t;
    return undefined;
  }

  /** Every thread not ended: the program's and the interrupt threads (a deadlock report names them all). */
  threadsNotDone(): Thread[] {
    return [...this.liveThreads()];
  }

  // ── thread states ─────────────────────────────────────────────────────────────────

  /** Blocks the running thread until `target` ends (`Machine.blockOnJoin`). */
  blockOnJoin(target: Thread): void {
    const m = this.m;
    const t = m.thread;
    t.state = "blocked";
    t.blockedAt = m.currentSite();
    target.joiners.push(t);
    m.b = 0;
  }

  /** `spin_loop` (`Machine.spinLoop`, which documents it). */
  spinLoop(): void {
    const m = this.m;
    const t = m.thread;
    if (t.seenProgress !== this.progressCount) {
      // Progress since this thread's last spin may be what it waited for, and it may have happened
      // between the thread's failed check and this call: retry once before waiting for more.
      t.seenProgress = this.progressCount;
      m.b = 0;
      return;
    }
    t.state = "spinning";
    t.blockedAt = m.currentSite();
    this.spinners++;
    m.b = 0;
  }

  /** Progress (`Machine.progress`, which defines it): wakes every spinning thread; cheap when none spins. */
  progress(): void {
    this.progressCount++;
    if (this.spinners === 0) return;
    for (const t of this.liveThreads()) if (t.state === "spinning") t.state = "runnable";
    this.spinners = 0;
  }

  /**
   * A shim blocked the running thread inside code that cannot be suspended (see runtime-kit's
   * `sync`); installed as `syncHooks.yielded` whenever a thread gets the CPU.
   */
  readonly blockedInSync = (): void => {
    const m = this.m;
    const t = m.thread;
    // A spin hint where the thread cannot be suspended is only a hint: it keeps running — until it
    // has spun so long with no progress that nothing can end the spin (see SYNC_SPIN_LIMIT).
    if (t.state === "spinning") {
      t.state = "runnable";
      if (this.syncSpinner !== t || this.syncSpinProgress !== this.progressCount) {
        this.syncSpinner = t;
        this.syncSpinProgress = this.progressCount;
        this.syncSpins = 0;
      }
      if (++this.syncSpins < SYNC_SPIN_LIMIT) return;
      this.syncSpins = 0;
      m.report(
        "unsupported",
        `this thread spins (\`spin_loop\`) inside code that cannot be suspended — a callback called by a JavaScript built-in, a constructor, a getter or a setter — with no progress in ${SYNC_SPIN_LIMIT} spins: no other thread can run until it returns, so it would spin forever`,
        {
          title: "unsupported operation",
          label: "the thread spins here",
          help: [
            { message: "call it from a plain function or method, or loop with `for` instead of a callback of `Array.from`, `sort`, `replace` and the like (the callbacks of `map`, `forEach`, `filter`, `some`, `every`, `find…`, `reduce…` and `flatMap` can be suspended)" },
          ],
        },
      );
    }
    if (t.state !== "blocked") return;
    t.state = "runnable";
    for (const other of m.threads) other.joiners = other.joiners.filter((j) => j !== t);
    m.report(
      "unsupported",
      "this thread would block (wait for another thread) inside code that cannot be suspended: a callback called by a JavaScript built-in, a constructor, a getter or a setter",
      {
        title: "unsupported operation",
        label: "the thread would block here",
        help: [
          { message: "call it from a plain function or method, or loop with `for` instead of a callback of `map`/`forEach` on other collections" },
        ],
      },
    );
  };

  // ── actors ────────────────────────────────────────────────────────────────────────

  /** Registers an actor (`Machine.addActor`, which documents it); `site` registered it. */
  addActor(actor: Actor, site: number): void {
    validateActor(actor);
    if (this.actors.includes(actor)) throw new TypeError(`kmiri: actor \`${actor.name}\` is already registered`);
    // The actors' own stream: not the schedule's, so that registering actors changes no thread
    // decision of the policy, and not recorded in the replay string: the seed it carries derives
    // this stream again, and a replay makes the same decisions, so the same draws.
    this.actorRng ??= new Xoshiro128(deriveSeed(this.m.seed, "actors"));
    this.actors.push(actor);
    this.actorSites.push(site);
  }

  /**
   * A decision with actors: each, in registration order, steps with probability its rate.
   * False when an actor stopped the run.
   */
  private offerActors(): boolean {
    const rng = this.actorRng!;
    // By index: an actor registered by another's step is offered a step in the same round.
    for (let i = 0; i < this.actors.length; i++) {
      const a = this.actors[i];
      const rate = a.rate ?? 0.5;
      if (rate <= 0 || (rate < 1 && rng.next() >= rate)) continue;
      if (!this.stepActor(a)) return false;
    }
    return true;
  }

  /**
   * No thread can run: while some actor is busy (not quiescent), the busy actors step, round after
   * round, until a thread can run (its id is added to `runnable`: true). False when every actor is
   * quiescent or the busy ones gave up (a deadlock; {@link stalledBy} names them) or an actor
   * stopped the run.
   */
  private stall(runnable: number[]): boolean {
    for (let round = 0; ; round++) {
      const busy = this.actors.filter((a) => !isQuiescent(a));
      if (busy.length === 0) return false;
      if (round === STALL_ROUNDS) {
        this.stalledBy = busy;
        return false;
      }
      for (const a of busy) if (!this.stepActor(a)) return false;
      for (const x of this.liveThreads()) if (x.state === "runnable") runnable.push(x.id);
      if (runnable.length !== 0) return true;
    }
  }

  /** One step of `a`, between two threads. False when it stopped the run (a finding, or an error of its own). */
  private stepActor(a: Actor): boolean {
    const m = this.m;
    this.acting = a;
    try {
      if (a.step(m, this.actorRng!) === "progress") this.progress();
    } catch (e) {
      m.settleActor(a, e);
      resetSyncDepth();
    } finally {
      this.acting = null;
    }
    return !(m.stopped && !(m.stopped instanceof PanicStop));
  }
}
