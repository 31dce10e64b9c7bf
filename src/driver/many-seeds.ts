/**
 * `kmiri run --many-seeds A..B`: the same program once per seed, spread over worker threads, like
 * Miri's `-Zmiri-many-seeds`.
 *
 * Each worker (`many-seeds-worker.ts`, run from the built package: `dist/driver/`) imports the
 * library (`dist/index.js`), loads and compiles the program once, and runs it for every seed it
 * is handed; results come back as data (structured clones of {@link SeedRun}). Seeds are handed
 * out one at a time to whichever worker is free, and the results are sorted by seed, so the
 * outcome does not depend on the number of workers or on timing. Every seed runs (Miri stops at
 * the first failure unless `-Zmiri-many-seeds-keep-going`; here every failing seed is listed).
 * The workers are terminated when the run ends, fails or is aborted.
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { UBReport } from "../interp/report.js";
import { LoadError } from "../interp/loader/errors.js";
import { loadProgram, typecheckProgram } from "../interp/loader/index.js";
import type { PanicInfo, RunResult, RunStats, TestRunResult } from "./results.js";
import {
  prepareFile,
  prepareTests,
  type AbortSignalLike,
  type ManySeedsProgress,
  type RunOptions,
  type SeedTestRun,
  type TestOptions,
} from "./run.js";

export type { AbortSignalLike, ManySeedsProgress } from "./run.js";

function checkRange(from: number, to: number): void {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to <= from) {
    throw new RangeError(`invalid range of seeds ${from}..${to}`);
  }
}


/** Options of {@link runManySeeds}: those of a run, without what the seeds decide. */
export interface ManySeedsOptions extends Omit<RunOptions, "seed" | "native" | "replay" | "onOutput"> {
  /** The first seed. */
  from: number;
  /** The end of the range, excluded (`A..B` runs A … B−1). */
  to: number;
  /**
   * Worker threads (default `os.availableParallelism()`, at most one per seed). 0 runs every seed
   * in this thread, one after the other (no `dist/` needed).
   */
  workers?: number;
  /** Called after each seed's run, in completion order. */
  onProgress?: (progress: ManySeedsProgress) => void;
  /** Aborting terminates the workers and rejects with the signal's reason (an `AbortSignal`). */
  signal?: AbortSignalLike;
}


/** The run of one seed: a {@link RunResult} without its output. */
export interface SeedRun {
  seed: number;
  /** 0 clean, 1 UB or a panic, 2 kmiri itself failed. */
  exitCode: 0 | 1 | 2;
  /** Its findings (the first stopped the run). */
  ub: UBReport[];
  /** The panic that ended it. */
  panic?: PanicInfo;
  /** Panics of spawned threads. */
  threadPanics?: PanicInfo[];
  /** Its replay string. */
  schedule?: string;
  stats: RunStats;
}

/** The result of {@link runManySeeds}. */
export interface ManySeedsResult {
  from: number;
  to: number;
  /** One entry per seed, sorted by seed. */
  seeds: SeedRun[];
  /** The seeds whose run failed (exit status not 0), in order. */
  failed: number[];
  /** Counters summed over the seeds; `ms` is the wall-clock time of the whole range. */
  stats: RunStats;
  /** 2 when kmiri failed on some seed, else 1 when some seed failed, else 0. */
  exitCode: 0 | 1 | 2;
}

/** Messages between {@link runManySeeds} and its workers. */
export type WorkerReply =
  | { type: "ready" }
  | { type: "result"; seed: number; run: SeedRun | SeedTestRun }
  | { type: "error"; seed?: number; error: SerializedError };

/** An exception crossing the thread boundary. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  reason?: string;
  location?: LoadError["location"];
}

/**
 * What a worker is started with: a program whose `main` it runs per seed, or (`kind: "test"`)
 * a test path whose selected `ktest`s it runs per seed (`kmiri test --many-seeds`).
 */
export type WorkerInit =
  | { kind?: "run"; file: string; options: RunOptions }
  | { kind: "test"; path: string | readonly string[]; options: TestOptions };

/** A result without its output (sent back by workers). */
export function seedRun(r: RunResult): SeedRun {
  const out: SeedRun = { seed: r.seed, exitCode: r.exitCode, ub: r.ub, stats: r.stats };
  if (r.panic) out.panic = r.panic;
  if (r.threadPanics?.length) out.threadPanics = r.threadPanics;
  if (r.schedule !== undefined) out.schedule = r.schedule;
  return out;
}

/** Turns an exception into data that survives `postMessage`. */
export function serializeError(e: unknown): SerializedError {
  if (e instanceof Error) {
    const x = e as Error & { reason?: unknown; location?: LoadError["location"] };
    const out: SerializedError = { name: e.name, message: e.message, stack: e.stack };
    if (typeof x.reason === "string") out.reason = x.reason;
    if (x.location) out.location = x.location;
    return out;
  }
  return { name: "Error", message: String(e) };
}

function deserializeError(e: SerializedError): Error {
  if (e.name === "LoadError") return new LoadError(e.message, (e.reason ?? "unsupported") as LoadError["reason"], e.location);
  const err = new Error(e.message);
  err.name = e.name;
  if (e.stack) err.stack = e.stack;
  return err;
}

/** The worker script of the built package (`dist/driver/many-seeds-worker.js`), from src/ or dist/. */
function workerScript(): string {
  // src/interp/ and dist/driver/ are both two levels below the package root.
  const file = fileURLToPath(new URL("../../dist/driver/many-seeds-worker.js", import.meta.url));
  if (!existsSync(file)) {
    throw new Error(`kmiri's worker script ${file} is missing: build the package first (\`npm run build\`)`);
  }
  return file;
}

function emptyStats(): RunStats {
  return { steps: 0, threads: 0, switches: 0, allocations: 0, ms: 0 };
}

/**
 * Runs a program's `main` once per seed in `[from, to)`, on worker threads.
 * @param file - the program, relative to `options.cwd`.
 * @returns every seed's run, sorted by seed, and the failing seeds.
 * @throws LoadError when the program cannot be loaded or has no `main`.
 * @example
 * ```ts
 * const r = await runManySeeds("examples/threads.ts", { from: 0, to: 64 });
 * for (const s of r.failed) console.log(`FAILING SEED: ${s}`);
 * ```
 */
export async function runManySeeds(file: string, options: ManySeedsOptions): Promise<ManySeedsResult> {
  const { from, to, workers, onProgress, signal, ...runOptions } = options;
  checkRange(from, to);
  signal?.throwIfAborted();
  const cwd = runOptions.cwd ?? process.cwd();
  const t0 = performance.now();
  const total = to - from;
  const runs = new Map<number, SeedRun>();
  let failed = 0;
  const record = (run: SeedRun) => {
    runs.set(run.seed, run);
    if (run.exitCode !== 0) failed++;
    onProgress?.({ done: runs.size, total, failed, seed: run.seed });
  };

  // Host device models (functions) cannot cross to a worker thread: such runs stay in this one.
  const count = runOptions.mirch?.devices?.length ? 0 : Math.min(workers ?? availableParallelism(), total);
  if (count <= 0) {
    const prepared = await prepareFile(file, { cwd, typecheck: runOptions.typecheck });
    for (let seed = from; seed < to; seed++) {
      signal?.throwIfAborted();
      record(seedRun(prepared.run({ ...runOptions, cwd, seed })));
    }
  } else {
    // Load once here: a program that cannot be loaded fails before any worker starts, and the
    // workers find its compiled output in the cache.
    const loaded = await loadProgram(path.resolve(cwd, file), { cwd });
    if (runOptions.typecheck !== false) await typecheckProgram([loaded.entry.path], { cwd });
    await runOnWorkers<SeedRun>(workerScript(), { file, options: { ...runOptions, cwd } }, from, to, count, record, signal);
  }

  const seeds = [...runs.values()].sort((a, b) => a.seed - b.seed);
  const stats = emptyStats();
  for (const s of seeds) {
    stats.steps += s.stats.steps;
    stats.threads += s.stats.threads;
    stats.switches += s.stats.switches;
    stats.allocations += s.stats.allocations;
  }
  stats.ms = performance.now() - t0;
  const failedSeeds = seeds.filter((s) => s.exitCode !== 0).map((s) => s.seed);
  const exitCode = seeds.some((s) => s.exitCode === 2) ? 2 : failedSeeds.length ? 1 : 0;
  return { from, to, seeds, failed: failedSeeds, stats, exitCode };
}

/**
 * Hands the seeds `[from, to)` one at a time to `count` workers started with `init`, and gives
 * each result to `record` (in completion order). Shared by {@link runManySeeds} and
 * {@link testManySeeds}.
 */
function runOnWorkers<R extends { seed: number }>(
  script: string,
  init: WorkerInit,
  from: number,
  to: number,
  count: number,
  record: (run: R) => void,
  signal: AbortSignalLike | undefined,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const pool: Worker[] = [];
    let next = from;
    let done = 0;
    let settled = false;
    const finish = (error?: unknown) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      // Terminate every worker before settling, so none outlives the call.
      void Promise.all(pool.map((w) => w.terminate().catch(() => 0))).then(() => (error === undefined ? resolve() : reject(error)));
    };
    const onAbort = () => finish(signal!.reason ?? new Error("aborted"));
    signal?.addEventListener("abort", onAbort, { once: true });
    const feed = (w: Worker) => {
      if (next < to) w.postMessage(next++);
    };
    for (let i = 0; i < count; i++) {
      const w = new Worker(script, { workerData: init });
      pool.push(w);
      w.on("message", (msg: WorkerReply) => {
        if (settled) return;
        if (msg.type === "ready") return feed(w);
        if (msg.type === "error") return finish(deserializeError(msg.error));
        record(msg.run as unknown as R);
        if (++done === to - from) return finish();
        feed(w);
      });
      w.on("error", (e) => finish(e));
      w.on("exit", (code) => {
        if (!settled) finish(new Error(`a --many-seeds worker exited early (status ${code})`));
      });
    }
  });
}

/**
 * `kmiri test PATH --many-seeds A..B`: `testPath` with `options.manySeeds` comes here. Every
 * selected test runs once per seed on the worker pool of {@link runManySeeds} (each worker loads
 * and lists the tests once, then runs all of them for each seed it is handed); the per-seed runs
 * are sorted by seed and merged by `PreparedTests.report`, so the result does not depend on the
 * number of workers.
 * @throws LoadError when a test file cannot be loaded or compiled.
 * @throws RangeError when the range of seeds is empty or invalid.
 */
export async function testManySeeds(p: string | readonly string[], options: TestOptions): Promise<TestRunResult> {
  const { manySeeds, onOutput: _o, seed: _s, replay: _r, native: _n, ...testOptions } = options;
  const { from, to, workers, onProgress, signal } = manySeeds!;
  checkRange(from, to);
  signal?.throwIfAborted();
  const cwd = testOptions.cwd ?? process.cwd();
  const t0 = performance.now();
  const total = to - from;
  // Loads, compiles and lists here: a test file that cannot be loaded fails before any worker
  // starts; the workers find the compiled output in the cache.
  const prepared = await prepareTests(p, { ...testOptions, cwd, manySeeds: { from, to } });
  const runs = new Map<number, SeedTestRun>();
  let failed = 0;
  const record = (run: SeedTestRun) => {
    runs.set(run.seed, run);
    if (run.tests.some((t) => t.status !== "pass")) failed++;
    onProgress?.({ done: runs.size, total, failed, seed: run.seed });
  };
  const count = testOptions.mirch?.devices?.length ? 0 : Math.min(workers ?? availableParallelism(), total);
  if (count <= 0) {
    for (let seed = from; seed < to; seed++) {
      signal?.throwIfAborted();
      record(prepared.runSeed(seed));
    }
  } else {
    const init: WorkerInit = { kind: "test", path: p, options: { ...testOptions, cwd, manySeeds: { from, to } } };
    await runOnWorkers<SeedTestRun>(workerScript(), init, from, to, count, record, signal);
  }
  const sorted = [...runs.values()].sort((a, b) => a.seed - b.seed);
  return { ...prepared.report(sorted, performance.now() - t0), seedRange: { from, to } };
}
