/**
 * Scheduling policies: *which runnable thread runs next, and for how long* — policy only; the
 * engine owns the threads.
 *
 * ## How the engine feeds a policy
 *
 * The engine runs one thread at a time and counts *scheduling points* (atomics, fences, spawn,
 * join, `yield_now`, `spin_loop`, lock annotations, output — never plain memory accesses: races
 * are the race detector's job whatever the interleaving). It makes a *decision* whenever
 *
 * 1. the run starts (`current` is the main thread),
 * 2. the running thread has passed as many scheduling points as its last budget allowed, or
 * 3. the running thread blocked (`join` of a running thread, a lock) or ended,
 *
 * and a decision is always the two calls, in this order:
 *
 * ```ts
 * const next = policy.pick(runnable, current);  // runnable: ids of runnable threads, in creation order
 * machine.b = policy.budget();                  // scheduling points `next` may pass before case 2
 * ```
 *
 * `current` is the thread that was running (it may be absent from `runnable` if it blocked or
 * ended). Thread ids are the engine's: `main` is 0, spawned threads 1, 2, … in creation order.
 * `budget()` may return `Infinity` (run until the thread blocks or ends).
 *
 * ## Policies
 *
 * - {@link RandomPreemption}: the engine's current behaviour, exactly (same draws from the same
 *   PRNG in the same order): a budget drawn from a geometric distribution with the preemption
 *   rate, the next thread uniform among the runnable ones (the current one included); rate 0 is
 *   round robin without preemption.
 * - {@link PctPolicy}: PCT (Burckhardt et al., ASPLOS 2010) with bug depth `d`: random distinct
 *   priorities, the highest-priority runnable thread always runs, and at `d − 1` change points
 *   drawn over the estimated number of steps the running thread drops below every other. It
 *   decides at every scheduling point (its budget is 1). A run finds a bug of depth `d` with
 *   probability at least {@link pctBound}`(n, k, d) = 1 / (n·k^(d−1))`.
 * - {@link RecordingPolicy} wraps any policy and records its decisions; {@link ReplayPolicy}
 *   plays them back. The record is a compact string ({@link encodeSchedule}): print it with every
 *   concurrency report, and `--replay STRING` reproduces the run exactly, whatever policy made it.
 *
 * ## Randomness and replay
 *
 * Every policy draws from an {@link Rng}; {@link Xoshiro128} is the generator, and the engine's
 * `Prng` (the package root's name for it) is the same class. A replay draws nothing, so the program's own randomness (`Math.random`, spurious
 * `compare_exchange_weak` failures, hostile devices) must come from a separate stream for a
 * replay to be exact: give the scheduler `new Xoshiro128(deriveSeed(seed, "schedule"))` and the
 * program another stream of the same seed. The replay string carries the seed for that reason.
 *
 * @module
 */

// ───────────────────────────── randomness ─────────────────────────────

/** A seeded source of randomness. */
export interface Rng {
  /** A uniform 32-bit unsigned integer. */
  nextU32(): number;
  /** A uniform float in [0, 1). */
  next(): number;
  /** A uniform integer in [0, n). */
  below(n: number): number;
}

/** xoshiro128** seeded through splitmix32: fast, 32-bit, and good enough for scheduling. */
export class Xoshiro128 implements Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** @param seed any number; its low 32 bits are used. */
  constructor(seed: number) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** A uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * A seed for an independent stream of `seed`, named by `stream` (`"schedule"`, `"program"`, …):
 * a hash of both, so streams of one seed do not overlap in any useful sense.
 */
export function deriveSeed(seed: number, stream: string): number {
  let h = (seed >>> 0) ^ 0x811c9dc5;
  for (let i = 0; i < stream.length; i++) h = Math.imul(h ^ stream.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

// ───────────────────────────── the policy interface ─────────────────────────────

/** Answers the engine's question at each decision: which thread runs next, and for how long. */
export interface SchedulingPolicy {
  /**
   * The thread to run next.
   * @param runnable the runnable threads' ids, in creation order; never empty (no runnable
   * thread is a deadlock, which the engine reports without asking).
   * @param current the thread that was running.
   * @returns one of `runnable`.
   */
  pick(runnable: readonly number[], current: number): number;
  /**
   * How many scheduling points the thread just picked may pass before the next decision
   * (at least 1; `Infinity` for "until it blocks or ends"). Called once after every `pick`.
   */
  budget(): number;
}

/** One decision: the thread picked and the budget it got. */
export interface Decision {
  /** The thread id. */
  thread: number;
  /** Its budget (`Infinity` allowed). */
  budget: number;
}

// ───────────────────────────── random preemption ─────────────────────────────

/**
 * Random preemption with a rate — the engine's scheduler as it is today: after each decision the
 * running thread gets a budget of scheduling points drawn from a geometric distribution with
 * parameter `rate` (mean `1/rate`); then the next thread is drawn uniformly from the runnable ones,
 * the current one included. `rate` 0: round robin (the next runnable thread after the current one
 * in creation order), no preemption. `rate` 1: a decision at every scheduling point.
 */
export class RandomPreemption implements SchedulingPolicy {
  /**
   * @param rng the run's randomness.
   * @param rate the probability of a preemption at each scheduling point, in [0, 1].
   */
  constructor(
    private readonly rng: Rng,
    readonly rate: number,
  ) {
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`preemption rate must be in [0, 1], got ${rate}`);
  }

  /** Uniform among the runnable threads (round robin at rate 0); no draw when only one can run. */
  pick(runnable: readonly number[], current: number): number {
    if (runnable.length === 1) return runnable[0];
    if (this.rate <= 0) return runnable.find((t) => t > current) ?? runnable[0];
    return runnable[this.rng.below(runnable.length)];
  }

  /** Geometric with the rate: `1 + floor(ln(1 − u) / ln(1 − rate))`. */
  budget(): number {
    if (this.rate <= 0) return Infinity;
    if (this.rate >= 1) return 1;
    return 1 + Math.floor(Math.log(1 - this.rng.next()) / Math.log(1 - this.rate));
  }
}

// ───────────────────────────── PCT ─────────────────────────────

/** Options of {@link PctPolicy}. */
export interface PctOptions {
  /**
   * The bug depth `d` ≥ 1: the number of ordering constraints the bug needs (a missing lock or an
   * order violation is depth 1 or 2). `d − 1` change points are drawn.
   */
  depth: number;
  /**
   * The estimated number of steps `k` of a run, over which change points are drawn uniformly.
   * Use the {@link PctPolicy.steps} of an earlier run of the same program (as Shuttle does), or an
   * overestimate: change points after the run's end are wasted, not harmful.
   */
  steps: number;
}

/**
 * PCT: probabilistic concurrency testing with bug depth `d`.
 *
 * Each thread gets a random priority the first time it is runnable; the runnable thread with the
 * highest priority always runs (ties: the lower id). At each of the `d − 1` change points (step
 * numbers drawn without repetition from `1…k`), the running thread's priority drops below every
 * initial priority — the `i`-th change point gives priority `i`, so threads demoted later run
 * before threads demoted earlier, as in the paper.
 *
 * A *step* is a decision with at least two runnable threads (the paper's §4.1: steps of a
 * sequential phase cannot order anything, so they neither count nor host change points). The
 * budget is always 1: the engine asks at every scheduling point, so a spawned thread of higher
 * priority runs at once.
 */
export class PctPolicy implements SchedulingPolicy {
  /** Steps counted so far (decisions with two or more runnable threads): the next run's `k`. */
  steps = 0;
  /** The change points: step number → the priority the running thread gets there. */
  readonly changePoints: ReadonlyMap<number, number>;
  private readonly prio = new Map<number, number>();
  private readonly depth: number;

  /**
   * @param rng the run's randomness (priorities and change points are drawn from it).
   */
  constructor(
    private readonly rng: Rng,
    options: PctOptions,
  ) {
    const d = Math.floor(options.depth);
    const k = Math.max(1, Math.floor(options.steps));
    if (!(d >= 1)) throw new RangeError(`PCT depth must be at least 1, got ${options.depth}`);
    this.depth = d;
    const points = new Map<number, number>();
    const n = Math.min(d - 1, k);
    for (let i = 1; i <= n; i++) {
      let step: number;
      do step = 1 + rng.below(k);
      while (points.has(step));
      points.set(step, i);
    }
    this.changePoints = points;
  }

  /** The runnable thread of highest priority, after demoting `current` if this step is a change point. */
  pick(runnable: readonly number[], current: number): number {
    for (const t of runnable) if (!this.prio.has(t)) this.prio.set(t, this.depth + this.rng.nextU32());
    if (runnable.length === 1) return runnable[0];
    this.steps++;
    const demote = this.changePoints.get(this.steps);
    if (demote !== undefined && this.prio.has(current)) this.prio.set(current, demote);
    let best = runnable[0];
    let bp = this.prio.get(best)!;
    for (let i = 1; i < runnable.length; i++) {
      const p = this.prio.get(runnable[i])!;
      if (p > bp) {
        best = runnable[i];
        bp = p;
      }
    }
    return best;
  }

  /** Always 1: PCT decides at every scheduling point. */
  budget(): number {
    return 1;
  }

  /** The current priority of a thread (undefined before it was first runnable); for tests and logs. */
  priority(t: number): number | undefined {
    return this.prio.get(t);
  }
}

/**
 * PCT's guarantee: the probability that one run with `threads` threads and `steps` steps finds a
 * given bug of depth `depth` is at least `1 / (threads · steps^(depth − 1))`.
 */
export function pctBound(threads: number, steps: number, depth: number): number {
  return 1 / (threads * Math.pow(steps, depth - 1));
}

// ───────────────────────────── record and replay ─────────────────────────────

/**
 * The policy a compact replay string names: the seed and this rebuild every decision it made
 * (the policy's stream is `deriveSeed(seed, "schedule")`).
 */
export type PolicyDescription = { readonly kind: "random"; readonly rate: number } | { readonly kind: "pct"; readonly depth: number; readonly steps: number };

/** A policy rebuilt from its description and the run's seed: the decisions it made, again. */
export function policyFor(seed: number, d: PolicyDescription): SchedulingPolicy {
  const rng = new Xoshiro128(deriveSeed(seed, "schedule"));
  return d.kind === "random" ? new RandomPreemption(rng, d.rate) : new PctPolicy(rng, { depth: d.depth, steps: d.steps });
}

/** A decision folded into the running checksum of a schedule (32 bits, FNV-like). */
function mixDecision(h: number, thread: number, budget: number): number {
  const b = budget === Infinity ? 0x7fffffff : budget % 0x7fffffff;
  h = Math.imul(h ^ thread, 0x01000193);
  return Math.imul(h ^ b, 0x9e3779b1) >>> 0;
}

/** The checksum of no decision. */
const EMPTY_CHECKSUM = 0x811c9dc5;

function describePolicy(d: PolicyDescription): string {
  return d.kind === "random" ? `r${d.rate}` : `p${d.depth},${d.steps}`;
}

/**
 * Wraps a policy and records its decisions, for {@link RecordingPolicy.replayString}.
 *
 * Given the policy's description (`compact`), it keeps O(1): the number of decisions and a
 * checksum of them. The seed and the description rebuild the policy, which makes the same
 * decisions again, so the replay string is `SEED:=POLICY=COUNT=CHECKSUM` whatever the length of
 * the run (a run of millions of decisions used to record each one, megabytes of string and
 * memory); the checksum tells a replay on another program. Without it (a policy kmiri cannot
 * rebuild: a replay of an old-format string, a library user's own policy) every decision is
 * recorded, run-length compressed, for the `SEED:RUN.RUN.…` format ({@link encodeSchedule}).
 */
export class RecordingPolicy implements SchedulingPolicy {
  private readonly threads: number[] = [];
  private readonly budgets: number[] = [];
  private readonly counts: number[] = [];
  private picked = -1;
  /** Compact mode: decisions made, and their checksum. */
  private count = 0;
  private checksum = EMPTY_CHECKSUM;

  /**
   * @param inner the policy that decides.
   * @param compact its description: record O(1) (see the class comment).
   */
  constructor(
    readonly inner: SchedulingPolicy,
    readonly compact?: PolicyDescription,
  ) {}

  /** The inner policy's pick. */
  pick(runnable: readonly number[], current: number): number {
    this.picked = this.inner.pick(runnable, current);
    return this.picked;
  }

  /** The inner policy's budget, recorded with the pick. */
  budget(): number {
    const b = this.inner.budget();
    if (this.compact !== undefined) {
      this.count++;
      this.checksum = mixDecision(this.checksum, this.picked, b);
      return b;
    }
    const n = this.threads.length - 1;
    if (n >= 0 && this.threads[n] === this.picked && this.budgets[n] === b) this.counts[n]++;
    else {
      this.threads.push(this.picked);
      this.budgets.push(b);
      this.counts.push(1);
    }
    return b;
  }

  /** Number of decisions so far. */
  get length(): number {
    if (this.compact !== undefined) return this.count;
    let n = 0;
    for (const c of this.counts) n += c;
    return n;
  }

  /**
   * The decisions so far, uncompressed.
   * @throws Error in compact mode, which keeps none (replay the string to see them again).
   */
  decisions(): Decision[] {
    if (this.compact !== undefined) throw new Error("kmiri: a compact RecordingPolicy keeps no decisions; replay its string to make them again");
    const out: Decision[] = [];
    for (let i = 0; i < this.threads.length; i++) {
      for (let j = 0; j < this.counts[i]; j++) out.push({ thread: this.threads[i], budget: this.budgets[i] });
    }
    return out;
  }

  /** The replay string of the decisions so far (compact, or see {@link encodeSchedule}). */
  replayString(seed: number): string {
    // `=` and `,`: characters a shell leaves alone (as the old format's), unquoted.
    if (this.compact !== undefined) return `${(seed >>> 0).toString(36)}:=${describePolicy(this.compact)}=${this.count.toString(36)}=${this.checksum.toString(36)}`;
    return encodeRuns(seed, this.threads, this.budgets, this.counts);
  }
}

/** A replay string does not match the run it is replayed on (another program, or edited code). */
export class ReplayDivergence extends Error {
  /** @param message what did not match. */
  constructor(message: string) {
    super(message);
    this.name = "ReplayDivergence";
  }
}

/**
 * Plays back recorded decisions. Throws {@link ReplayDivergence} when the recorded thread is not
 * runnable, or when the run asks for more decisions than were recorded.
 */
export class ReplayPolicy implements SchedulingPolicy {
  /** The seed the replay string carries (for the program's own random stream). */
  readonly seed: number;
  /** For a compact string: the policy it names (rebuilt from it and the seed), else undefined. */
  readonly description?: PolicyDescription;
  private readonly threads: number[] = [];
  private readonly budgets: number[] = [];
  private readonly counts: number[] = [];
  private run = 0;
  private used = 0;
  private pending = -1;
  private decision = 0;
  /** Compact: the rebuilt policy, the recorded count and checksum, the checksum so far. */
  private readonly rebuilt: SchedulingPolicy | null = null;
  private readonly total: number = 0;
  private readonly expected: number = 0;
  private checksum = EMPTY_CHECKSUM;
  private picked = -1;

  /** @param replay a replay string, or decoded decisions. */
  constructor(replay: string | { seed: number; decisions: readonly Decision[] }) {
    if (typeof replay === "string") {
      const compact = decodeCompact(replay);
      if (compact !== null) {
        this.seed = compact.seed;
        this.description = compact.policy;
        this.rebuilt = policyFor(compact.seed, compact.policy);
        this.total = compact.count;
        this.expected = compact.checksum;
        return;
      }
      const r = decodeScheduleRuns(replay);
      this.seed = r.seed;
      for (const run of r.runs) {
        this.threads.push(run.thread);
        this.budgets.push(run.budget);
        this.counts.push(run.count);
      }
      return;
    }
    this.seed = replay.seed;
    for (const d of replay.decisions) {
      const n = this.threads.length - 1;
      if (n >= 0 && this.threads[n] === d.thread && this.budgets[n] === d.budget) this.counts[n]++;
      else {
        this.threads.push(d.thread);
        this.budgets.push(d.budget);
        this.counts.push(1);
      }
    }
  }

  /** The recorded thread; throws {@link ReplayDivergence} if it cannot run or the record ended. */
  pick(runnable: readonly number[], current: number): number {
    if (this.rebuilt !== null) {
      if (this.decision >= this.total) {
        throw new ReplayDivergence(`the replay string ended after ${this.total} decisions, but the run continues: it was recorded on a different program or schedule`);
      }
      this.decision++;
      return (this.picked = this.rebuilt.pick(runnable, current));
    }
    if (this.run >= this.threads.length) {
      throw new ReplayDivergence(`the replay string ended after ${this.decision} decisions, but the run continues: it was recorded on a different program or schedule`);
    }
    const t = this.threads[this.run];
    if (!runnable.includes(t)) {
      throw new ReplayDivergence(
        `the replay string picks thread ${t} at decision ${this.decision + 1}, but only threads ${runnable.join(", ")} can run: it was recorded on a different program`,
      );
    }
    this.pending = this.budgets[this.run];
    if (++this.used === this.counts[this.run]) {
      this.run++;
      this.used = 0;
    }
    this.decision++;
    return t;
  }

  /** The recorded budget of the decision just picked. */
  budget(): number {
    if (this.rebuilt !== null) {
      const b = this.rebuilt.budget();
      this.checksum = mixDecision(this.checksum, this.picked, b);
      return b;
    }
    return this.pending;
  }

  /** Whether every recorded decision was used (and, for a compact string, they were the same). */
  get done(): boolean {
    if (this.rebuilt !== null) return this.decision === this.total && this.checksum === this.expected;
    return this.run >= this.threads.length;
  }

  /**
   * Why the replay does not fit a run that ended after `decisions` decisions, or `null` when it
   * does ({@link done}).
   */
  unfinished(decisions: number): string | null {
    if (this.done) return null;
    if (this.rebuilt !== null && this.decision === this.total) {
      return `the run made ${decisions} scheduling decisions, as many as the replay string, but not the same ones: it was recorded on a different program`;
    }
    return `the run ended after ${decisions} scheduling decisions, but the replay string has more: it was recorded on a different program`;
  }
}

/** A compact replay string `SEED:=POLICY=COUNT=CHECKSUM` decoded, or `null` for another format. */
function decodeCompact(replay: string): { seed: number; policy: PolicyDescription; count: number; checksum: number } | null {
  const text = replay.trim();
  const m = /^([0-9a-z]+):=(r([0-9.e-]+)|p(\d+),(\d+))=([0-9a-z]+)=([0-9a-z]+)$/.exec(text);
  if (m === null) {
    if (text.includes(":=")) throw new SyntaxError(`invalid replay string \`${replay}\`: expected SEED:=POLICY=COUNT=CHECKSUM`);
    return null;
  }
  const seed = parseInt(m[1]!, 36);
  if (seed > 0xffff_ffff) throw new SyntaxError(`invalid replay string \`${replay}\`: the seed is larger than 32 bits`);
  let policy: PolicyDescription;
  if (m[3] !== undefined) {
    const rate = Number(m[3]);
    if (!(rate >= 0 && rate <= 1)) throw new SyntaxError(`invalid replay string \`${replay}\`: a preemption rate must be in [0, 1]`);
    policy = { kind: "random", rate };
  } else {
    const depth = Number(m[4]);
    const steps = Number(m[5]);
    if (depth < 1 || steps < 1) throw new SyntaxError(`invalid replay string \`${replay}\`: PCT needs a depth and steps of at least 1`);
    policy = { kind: "pct", depth, steps };
  }
  const count = parseInt(m[6]!, 36);
  const checksum = parseInt(m[7]!, 36);
  if (!Number.isSafeInteger(count) || checksum > 0xffff_ffff) throw new SyntaxError(`invalid replay string \`${replay}\`: number too large`);
  return { seed, policy, count, checksum };
}

/** The seed of a replay string of either format. */
export function replaySeed(replay: string): number {
  return decodeCompact(replay)?.seed ?? decodeScheduleRuns(replay).seed;
}

/**
 * Encodes a schedule as a compact string that survives a shell unquoted:
 * `SEED:RUN.RUN.…`, numbers in base 36, where a run is `THREAD` (budget 1), `THREAD-BUDGET`, or
 * `THREAD_` (budget unbounded), followed by `+COUNT` when the same decision repeats COUNT times.
 *
 * @example
 * ```ts
 * encodeSchedule(7, [{ thread: 0, budget: 12 }, { thread: 1, budget: 1 }, { thread: 1, budget: 1 }, { thread: 0, budget: Infinity }]);
 * // "7:0-c.1+2.0_"
 * ```
 */
export function encodeSchedule(seed: number, decisions: readonly Decision[]): string {
  const threads: number[] = [];
  const budgets: number[] = [];
  const counts: number[] = [];
  for (const d of decisions) {
    const n = threads.length - 1;
    if (n >= 0 && threads[n] === d.thread && budgets[n] === d.budget) counts[n]++;
    else {
      threads.push(d.thread);
      budgets.push(d.budget);
      counts.push(1);
    }
  }
  return encodeRuns(seed, threads, budgets, counts);
}

function encodeRuns(seed: number, threads: readonly number[], budgets: readonly number[], counts: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < threads.length; i++) {
    const t = threads[i];
    const b = budgets[i];
    if (!Number.isInteger(t) || t < 0) throw new RangeError(`invalid thread id in a schedule: ${t}`);
    if (b !== Infinity && (!Number.isInteger(b) || b < 1)) throw new RangeError(`invalid budget in a schedule: ${b}`);
    let s = t.toString(36);
    if (b === Infinity) s += "_";
    else if (b !== 1) s += `-${b.toString(36)}`;
    if (counts[i] > 1) s += `+${counts[i].toString(36)}`;
    parts.push(s);
  }
  return `${(seed >>> 0).toString(36)}:${parts.join(".")}`;
}

const RUN = /^([0-9a-z]+)(?:-([0-9a-z]+)|(_))?(?:\+([0-9a-z]+))?$/;

/** A run of equal decisions: `count` times `thread` with `budget`. */
export interface ScheduleRun {
  /** The thread id. */
  thread: number;
  /** Its budget (`Infinity` allowed). */
  budget: number;
  /** How many decisions in a row. */
  count: number;
}

/**
 * Decodes a string made by {@link encodeSchedule} (or {@link RecordingPolicy.replayString}) into
 * runs, without expanding them.
 * @throws SyntaxError with what is wrong, for a string that is not a replay string.
 */
export function decodeScheduleRuns(replay: string): { seed: number; runs: ScheduleRun[] } {
  const text = replay.trim();
  const colon = text.indexOf(":");
  const bad = (why: string) => new SyntaxError(`invalid replay string \`${replay}\`: ${why}`);
  if (colon <= 0) throw bad("expected SEED:SCHEDULE");
  const seedText = text.slice(0, colon);
  if (!/^[0-9a-z]+$/.test(seedText)) throw bad("the seed must be a base-36 number");
  const seed = parseInt(seedText, 36);
  if (seed > 0xffff_ffff) throw bad("the seed is larger than 32 bits");
  const body = text.slice(colon + 1);
  const runs: ScheduleRun[] = [];
  if (body === "") return { seed, runs };
  for (const part of body.split(".")) {
    const m = RUN.exec(part);
    if (!m) throw bad(`\`${part}\` is not THREAD[-BUDGET|_][+COUNT]`);
    const thread = parseInt(m[1], 36);
    const budget = m[3] ? Infinity : m[2] !== undefined ? parseInt(m[2], 36) : 1;
    const count = m[4] !== undefined ? parseInt(m[4], 36) : 1;
    if (budget < 1) throw bad(`budget 0 in \`${part}\``);
    if (count < 1) throw bad(`count 0 in \`${part}\``);
    if (!Number.isSafeInteger(thread) || !Number.isSafeInteger(count) || (budget !== Infinity && !Number.isSafeInteger(budget))) {
      throw bad(`number too large in \`${part}\``);
    }
    runs.push({ thread, budget, count });
  }
  return { seed, runs };
}

/** Most decisions {@link decodeSchedule} expands (a longer schedule is replayed from its runs). */
const MAX_EXPANDED = 10_000_000;

/**
 * Decodes a string made by {@link encodeSchedule} (or {@link RecordingPolicy.replayString}) into
 * one {@link Decision} per decision.
 * @throws SyntaxError for a string that is not a replay string, or that expands to more than ten
 * million decisions (use {@link decodeScheduleRuns}).
 */
export function decodeSchedule(replay: string): { seed: number; decisions: Decision[] } {
  const { seed, runs } = decodeScheduleRuns(replay);
  let total = 0;
  for (const r of runs) total += r.count;
  if (total > MAX_EXPANDED) throw new SyntaxError(`replay string \`${replay.slice(0, 40)}…\` expands to ${total} decisions; decode it with decodeScheduleRuns`);
  const decisions: Decision[] = [];
  for (const r of runs) for (let i = 0; i < r.count; i++) decisions.push({ thread: r.thread, budget: r.budget });
  return { seed, decisions };
}
