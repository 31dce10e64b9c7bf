/**
 * The library's entry points: run a program (`kmiri run`) or its tests (`kmiri test`) on the
 * Machine, or natively for timing. Everything the CLI prints comes from the results built here.
 */
import path from "node:path";
import { compileProgram, CompileError, type CompiledProgram } from "../interp/compile/index.js";
import { PanicStop, UBStop } from "../interp/report.js";
import { makeProgramConsole, type ProgramConsole } from "../interp/program-console.js";
import { guestRealm } from "../interp/guest-realm.js";
import { LoadError, loadProgram, loadPrograms, typecheckProgram, type SourceModule } from "../interp/loader/index.js";
import { INTERNAL_ERROR_TITLE, KeptLines, Machine, type MachineConfig } from "../interp/machine.js";
import { MachineBorrows, type BorrowModel } from "../interp/borrows.js";
import type { CoverageReport, CoverageRow, FunctionCoverage, PanicInfo, RunResult, RunStats, TestResult, TestRunResult, TestSeedFailure, UnsafeRegion } from "./results.js";
import { pctBound } from "../concurrency/scheduler.js";
import { checkedRuntime } from "../shims/checked/runtime.js";
import { nativeModules } from "../shims/native/runtime.js";
import { NativePanic } from "../shims/native/panic.js";
import { takeNativeTests } from "../shims/native/tests.js";
import { resetSpins } from "../shims/native/threads.js";
import { resetNativeMemory } from "../shims/native/memory.js";
import { KERNEL_CODE_BASE } from "../shims/native/mirch.js";
import { bootNativeMirch, stopNativeMirch } from "../shims/native/mirch-state.js";
import type { MirchOptions } from "../interp/mirch/mirch-machine.js";
import { describeThrown, isInstance, programLocationOfError } from "../interp/error-location.js";
import { evaluateModule, type Namespace } from "../interp/link.js";
import { checkShard, selectTestFiles, shardOf, withShard, type FileSelection, type Shard } from "./test-selection.js";

/**
 * What the driver uses of an `AbortSignal` (declared here so that the published types need no
 * DOM or Node globals; a real `AbortSignal` is one).
 */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  throwIfAborted(): void;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

/** Where a {@link runManySeeds} run is. */
export interface ManySeedsProgress {
  /** Seeds run so far. */
  done: number;
  /** Seeds in the range. */
  total: number;
  /** Seeds among them that failed. */
  failed: number;
  /** The seed that just finished. */
  seed: number;
}

/** Options of {@link runFile}. */
export interface RunOptions {
  /** Seed of every choice of the run (default 0). */
  seed?: number;
  /** Directory report paths are relative to (default `process.cwd()`). */
  cwd?: string;
  /** Probability that a scheduling point preempts the running thread (default 0.1). */
  preemptionRate?: number;
  /**
   * Schedule with PCT of this bug depth (≥ 1) instead of random preemption. The change points are
   * drawn over {@link pctSteps} steps.
   */
  pct?: number;
  /**
   * PCT's estimate `k` of the steps of a run (decisions with two or more runnable threads). Default:
   * the steps of a first run of the same program (or test) with seed 0 and PCT without change
   * points, made before the real one (its output and findings are dropped). Ignored without `pct`.
   */
  pctSteps?: number;
  /**
   * Replay the schedule of an earlier run: its `schedule` (the string every concurrency report
   * prints). The seed comes from the string; `seed`, `preemptionRate` and `pct` are ignored.
   * @throws SyntaxError from {@link runFile} when the string is not a replay string.
   */
  replay?: string;
  /**
   * Loop iterations (over all threads) a run may make; the next one stops it with
   * `resource-exhaustion` (default 500 million; counted exactly).
   */
  maxSteps?: number;
  /**
   * Milliseconds a run may take (default: no limit): past it, the run stops with
   * `resource-exhaustion` at the loop or scheduling point where the program is (`--timeout`).
   * Each run has its own: every test, every seed. Code that neither loops nor reaches a
   * scheduling point (a catastrophic regular expression, `Atomics.wait`, a deep recursion
   * without loops) is not stopped.
   */
  timeoutMs?: number;
  /**
   * Threads a run may spawn, `main` not counted and ended threads counted (default 1000, at most
   * 65535); spawning one more is `resource-exhaustion` at the `spawn` (`--max-threads`).
   */
  maxThreads?: number;
  /** Bytes the program may have live at once (default 1 GiB). */
  memoryLimit?: number;
  /** Do not report leaks. */
  ignoreLeaks?: boolean;
  /** Bytes of the host's JavaScript heap in use at which a looping program is stopped (default: 70% of its limit). */
  hostHeapLimit?: number;
  /** Reject integer-to-pointer casts (`ptr_from_exposed`) as unsupported, like `-Zmiri-strict-provenance`. */
  strictProvenance?: boolean;
  /**
   * `false` turns the data-race detector off (Miri's `-Zmiri-disable-data-race-detector`):
   * unsound, for measuring what race checking costs. Default on.
   */
  dataRaceDetector?: boolean;
  /**
   * `false` turns the weak-memory emulation off (`--no-weak-memory`, Miri's
   * `-Zmiri-disable-weak-memory-emulation`): every atomic load reads the latest store. Default on
   * (store buffers while several threads exist; off too when `dataRaceDetector` is `false`).
   */
  weakMemory?: boolean;
  /** The aliasing model: `stacked` (Stacked Borrows, the default) or `none` (`--borrow-model none`). */
  borrowModel?: BorrowModel;
  /** Borrow tags whose creation and removal are printed as notes (`--track-tag N`). */
  trackTags?: number[];
  /** Minimum tag creations between two tag GCs (default 10,000; 0 turns it off; `--tag-gc N`). */
  tagGc?: number;
  /** Run on plain Node with the native runtime: no checks, for timing. */
  native?: boolean;
  /**
   * Mirch's options: CPUs, RAM, hostile devices (`--cpus`, `--ram`, `--hostile`), and device models
   * attached at boot (host models: a simulator's). Used by programs that import `kmiri/mirch`; device models boot Mirch for any program.
   */
  mirch?: MirchOptions;
  /**
   * Type-check the program's `.ts` files with tsc before it runs (default true; cached by
   * content): type errors stop it with a `LoadError` `"type"` (exit status 2). `false` skips the
   * check (`--no-typecheck`).
   */
  typecheck?: boolean;
  /** Receives each line the program prints, as it prints it. */
  onOutput?: (line: string) => void;
}

/** Options of {@link testPath}. */
export interface TestOptions extends RunOptions {
  /** Run only the tests whose name (or `module::name`) contains this text (or, for a list, any of them). */
  filter?: string | readonly string[];
  /**
   * `--include GLOB`: only files whose path relative to `cwd` matches one of these globs are test
   * files (`**\/*.{test,spec}.ts`; see glob.ts). `exclude` (`--exclude GLOB`) wins over it.
   */
  include?: string | readonly string[];
  /** `--exclude GLOB`: files (or directories) matching one of these globs are not test files. */
  exclude?: string | readonly string[];
  /**
   * `--shard index/count`: run only the index-th (1-based) of `count` contiguous blocks of the
   * selected tests (after `filter`, in run order), as vitest's and Playwright's `--shard`; the
   * shards are disjoint and together run every selected test. With `manySeeds`, each test of the
   * shard runs with every seed (its `failingSeeds` stay complete). The result's `shard` says which
   * shard ran.
   */
  shard?: Shard;
  /**
   * Rows of the coverage table: `file` (the default) one per test or program file, `dir` one per
   * directory, sums of its files (`--coverage-by dir`, see {@link coverageByDir}).
   */
  coverageBy?: "file" | "dir";
  /**
   * `--many-seeds A..B`: every selected test runs once per seed A … B−1 (B excluded) on `workers`
   * worker threads (default `os.availableParallelism()`; 0: in this thread), through
   * `runManySeeds`'s pool. A test passes only when every seed passed; its result carries
   * `failingSeeds` (see `TestResult`); coverage is merged over the seeds; the result does not
   * depend on the number of workers. `seed`, `replay`, `native` and `onOutput` are not used
   * (program output is not streamed). `onProgress` and `signal` as for `runManySeeds`.
   */
  manySeeds?: {
    from: number;
    to: number;
    workers?: number;
    onProgress?: (progress: ManySeedsProgress) => void;
    signal?: AbortSignalLike;
  };
  /**
   * Called as each test starts and ends (one seed; with `manySeeds`, `manySeeds.onProgress`
   * reports instead): the CLI's progress line on a terminal. Synchronous, between two tests' runs.
   */
  onTest?: (progress: TestProgress) => void;
}

/** Where a one-seed `testPath` run is (see {@link TestOptions.onTest}). */
export interface TestProgress {
  /** `start`: the test is about to run; `end`: it ran (checked, then natively). */
  phase: "start" | "end";
  /** Tests finished so far, and selected in all. */
  done: number;
  total: number;
  /** Finished tests that did not pass. */
  failed: number;
  /** The test: its file (as in the report) and name. */
  module: string;
  name: string;
}


function machineConfig(o: RunOptions, onOutput?: (l: string) => void, pctSteps?: number): MachineConfig {
  return {
    seed: o.seed ?? 0,
    preemptionRate: o.preemptionRate,
    pct: o.pct !== undefined && o.replay === undefined ? { depth: o.pct, steps: pctSteps ?? o.pctSteps ?? 1 } : undefined,
    replay: o.replay,
    maxSteps: o.maxSteps,
    timeoutMs: o.timeoutMs,
    maxThreads: o.maxThreads,
    memoryLimit: o.memoryLimit,
    ignoreLeaks: o.ignoreLeaks,
    hostHeapLimit: o.hostHeapLimit,
    strictProvenance: o.strictProvenance,
    dataRaceDetector: o.dataRaceDetector,
    weakMemory: o.weakMemory,
    borrowModel: o.borrowModel,
    trackTags: o.trackTags,
    tagGc: o.tagGc,
    mirch: o.mirch,
    onOutput,
  };
}

/**
 * Runs a Machine with `start`, first without Stacked Borrows' history (it costs at every
 * reference, and only an aliasing finding's help lines read it). When the run found a Stacked
 * Borrows violation, it runs again with the history, for the report's help lines; when the tag GC
 * may have decided that finding (a tag the GC presumed dead came back: see interp/borrows.ts), it
 * runs again without the GC, which gives the exact verdict. Runs are deterministic, so the
 * repetition is the same run. Lines the first run already streamed to `onOutput` are not
 * streamed twice.
 */
function exactBorrows<R extends { m: Machine }>(
  onOutput: ((l: string) => void) | undefined,
  start: (tagGc: number | undefined, onOutput: ((l: string) => void) | undefined, history: boolean) => R,
): R {
  let printed = 0;
  // Without Stacked Borrows' history: it costs at every reference made, and only a finding of
  // the aliasing model reads it — such a run is repeated with it (below).
  const first = start(undefined, onOutput && ((l) => {
    printed++;
    onOutput(l);
  }), false);
  const suspect = (r: R) => r.m.borrowTracker instanceof MachineBorrows && r.m.borrowTracker.gcSuspect;
  if (!suspect(first) && !foundAliasingViolation(first.m)) return first;
  // Runs are deterministic: a repetition prints the same lines, which were streamed already.
  const again = (tagGc: number | undefined) => {
    let skip = printed;
    return start(tagGc, onOutput && ((l) => {
      if (skip > 0) skip--;
      else onOutput(l);
    }), true);
  };
  const second = again(suspect(first) ? 0 : undefined);
  // With the history the GC's schedule changes: it may now be the one that presumed the tag dead.
  return suspect(second) ? again(0) : second;
}

/** Whether the run stopped (or would report) with a Stacked Borrows violation, whose help lines need the history. */
function foundAliasingViolation(m: Machine): boolean {
  if (m.findings.some((f) => f.kind === "stacked-borrows")) return true;
  const stop = m.stopped;
  return stop instanceof UBStop && stop.report.kind === "stacked-borrows";
}

/** Compiles, turning unsupported syntax into a load error (exit status 2). */
function compile(modules: Iterable<SourceModule>, instrument: boolean): CompiledProgram {
  try {
    return compileProgram(modules, instrument);
  } catch (e) {
    if (e instanceof CompileError) throw new LoadError(e.message, "unsupported", e.location);
    throw e;
  }
}

function emptyStats(): RunStats {
  return { steps: 0, threads: 1, switches: 0, allocations: 0, ms: 0 };
}

/**
 * Runs the exported `main` of a program file on a fresh Machine (or natively).
 * @throws LoadError when the program cannot be loaded or compiled, or has no `main`.
 * @throws SyntaxError when `options.replay` is not a replay string.
 */
export async function runFile(file: string, options: RunOptions = {}): Promise<RunResult> {
  if (options.native) return runNative(file, options);
  const prepared = await prepareFile(file, options);
  return prepared.run(options);
}

/** A program loaded and compiled once, to run on many Machines (`kmiri run --many-seeds`). */
export interface PreparedProgram {
  /** The entry file, relative to the working directory. */
  readonly file: string;
  /**
   * Runs `main` on a fresh Machine with these options (`cwd` and `native` are not used).
   * @throws LoadError when the program has no `main`.
   */
  run(options?: RunOptions): RunResult;
}

/**
 * Loads and compiles a program for {@link PreparedProgram.run}: what {@link runFile} does before
 * it runs, done once.
 * @throws LoadError when the program cannot be loaded or compiled.
 */
export async function prepareFile(file: string, options: Pick<RunOptions, "cwd" | "typecheck"> = {}): Promise<PreparedProgram> {
  const cwd = options.cwd ?? process.cwd();
  const src = await loadProgram(path.resolve(cwd, file), { cwd });
  const program = compile(src.modules.values(), true);
  if (options.typecheck !== false) await typecheckProgram([src.entry.path], { cwd });
  const entry = src.entry;
  /** PCT step estimates by the options that change a run's length. */
  const estimates = new Map<string, number>();
  const runOnce = (o: RunOptions, pctSteps?: number, history = true): { m: Machine; panic: PanicInfo | undefined } => {
    const m = new Machine(program, checkedRuntime, { ...machineConfig(o, o.onOutput, pctSteps), borrowHistory: history });
    let missingMain = false;
    const panic = m.run(entry.path, (ns) => {
      if (typeof ns.main !== "function") {
        missingMain = true;
        return () => undefined;
      }
      return ns.main as () => unknown;
    });
    if (missingMain) throw noMainError(entry.displayPath);
    return { m, panic };
  };
  const run = (options: RunOptions = {}): RunResult => {
    const t0 = performance.now();
    let pctSteps: number | undefined;
    if (options.pct !== undefined && options.replay === undefined) {
      pctSteps = options.pctSteps;
      if (pctSteps === undefined) {
        const key = `${options.maxSteps}/${options.maxThreads}/${options.memoryLimit}/${options.strictProvenance}/${options.borrowModel}/${options.weakMemory}/${JSON.stringify(options.mirch ?? null)}`;
        pctSteps = estimates.get(key);
        if (pctSteps === undefined) {
          pctSteps = estimatePctSteps((o) => runOnce(o).m, options);
          estimates.set(key, pctSteps);
        }
      }
    }
    const { m, panic } = exactBorrows(options.onOutput, (tagGc, onOutput, history) =>
      runOnce({ ...options, tagGc: tagGc ?? options.tagGc, onOutput }, pctSteps, history),
    );
    const ub = m.allFindings();
    const result: RunResult = {
      seed: m.seed,
      ub,
      panic,
      output: m.output,
      exitCode: ub.some((u) => u.title === INTERNAL_ERROR_TITLE) ? 2 : ub.length || panic ? 1 : 0,
      stats: machineStats(m, performance.now() - t0),
      schedule: m.schedule,
    };
    if (m.threadPanics.length) result.threadPanics = m.threadPanics;
    if (m.warnings.length) result.warnings = m.warnings;
    if (m.pct && pctSteps !== undefined && options.pct !== undefined) {
      const threads = m.threads.length;
      result.pct = { depth: options.pct, steps: pctSteps, threads, bound: pctBound(threads, pctSteps, options.pct) };
    }
    return result;
  };
  return { file: entry.displayPath, run };
}

/**
 * PCT's `k` for a program: the steps (decisions with two or more runnable threads) of a run with
 * seed 0 and PCT of depth 1 (no change points), at least 1. It depends on the program only, so
 * `--seed N --pct D` runs the same schedule alone and under `--many-seeds`.
 */
function estimatePctSteps(runMachine: (o: RunOptions) => Machine, options: RunOptions): number {
  const probe = runMachine({
    maxSteps: options.maxSteps,
    timeoutMs: options.timeoutMs,
    maxThreads: options.maxThreads,
    memoryLimit: options.memoryLimit,
    strictProvenance: options.strictProvenance,
    borrowModel: options.borrowModel,
    weakMemory: options.weakMemory,
    // The same checks as the real run: with race detection on, a race would end the probe early.
    dataRaceDetector: options.dataRaceDetector,
    mirch: options.mirch,
    ignoreLeaks: true,
    seed: 0,
    pct: 1,
    pctSteps: 1,
  });
  return Math.max(1, probe.pct?.steps ?? 1);
}

function noMainError(displayPath: string): LoadError {
  return new LoadError(
    `${displayPath} has no exported \`main\` function; \`kmiri run\` calls \`export function main(): void\` (for tests, use \`kmiri test\`)`,
    "unsupported",
    { file: displayPath, line: 1, column: 1 },
  );
}

/** `--native`: the program on plain Node with the unchecked runtime. */
async function runNative(file: string, options: RunOptions): Promise<RunResult> {
  const cwd = options.cwd ?? process.cwd();
  const src = await loadProgram(path.resolve(cwd, file), { cwd });
  const seed = options.seed ?? 0;
  const program = compile(src.modules.values(), false);
  if (options.typecheck !== false) await typecheckProgram([src.entry.path], { cwd });
  const output = new KeptLines();
  const t0 = performance.now();
  const native = new NativeLinker(
    program,
    (l) => {
      output.push(l);
      options.onOutput?.(l);
    },
    options.mirch,
  );
  const ns = native.import(src.entry.path);
  if (typeof ns.main !== "function") throw noMainError(src.entry.displayPath);
  const panic = native.call(ns.main as () => unknown, "main");
  const stats = { ...emptyStats(), ms: performance.now() - t0 };
  return { seed, ub: [], panic, output: output.lines(), exitCode: panic ? 1 : 0, stats };
}

function machineStats(m: Machine, ms: number): RunStats {
  return { steps: m.steps, threads: m.threads.length, switches: m.switches, allocations: m.memory.count, ms };
}

/**
 * The program files under `p` (a path or several) that define `ktest`s (a path that is a file
 * is taken as it is), narrowed by `options.include`/`exclude`: see test-selection.ts.
 */
export function findTestFiles(p: string | readonly string[], options: FileSelection = {}): string[] {
  return selectTestFiles(p, options);
}

/** Checked and native milliseconds, and tests run, of one module. */
type ModuleTiming = { native: number; checked: number; tests: number };

/**
 * The run of every selected test with one seed: what {@link PreparedTests.runSeed} returns and a
 * `--many-seeds` worker sends back (plain data).
 */
export interface SeedTestRun {
  seed: number;
  /** One result per selected test, in test order. */
  tests: TestResult[];
  /**
   * Per compiled module (by index): how often each coverage point ran and each `unsafe` region was
   * entered, summed over the tests.
   */
  lineHits: Float64Array[];
  unsafeHits: Float64Array[];
  /** Per test module. */
  timing: Record<string, ModuleTiming>;
  /** Counters summed over the tests (`threads` without the lister's; `ms` 0). */
  stats: RunStats;
}

/** Test files loaded, compiled and listed once, to run with many seeds. */
export interface PreparedTests {
  /** Runs every selected test with this seed. */
  runSeed(seed: number, onOutput?: (line: string) => void, onTest?: (progress: TestProgress) => void): SeedTestRun;
  /**
   * The result of one or more seed runs (sorted by seed): one entry per test, passing only when
   * it passed for every seed, and coverage merged over the seeds. With two or more runs each
   * test carries `failingSeeds`.
   */
  report(runs: SeedTestRun[], ms: number): TestRunResult;
}

/**
 * Loads, compiles and lists the `ktest`s under `p` for {@link PreparedTests.runSeed}: what
 * {@link testPath} does before it runs them. `options.seed` and `options.onOutput` are not used.
 * @throws LoadError when a test file cannot be loaded or compiled.
 */
export async function prepareTests(p: string | readonly string[], options: TestOptions = {}): Promise<PreparedTests> {
  const cwd = options.cwd ?? process.cwd();
  const files = findTestFiles(p, { cwd, include: options.include, exclude: options.exclude });
  if (options.shard) checkShard(options.shard);
  const many = options.manySeeds !== undefined;
  if (files.length === 0) {
    return {
      runSeed: (seed) => ({ seed, tests: [], lineHits: [], unsafeHits: [], timing: {}, stats: { ...emptyStats(), threads: 0 } }),
      report: (runs, ms) => ({
        seed: runs[0]?.seed ?? options.seed ?? 0,
        tests: [],
        ub: [],
        coverage: { modules: [], total: totalRow([]) },
        stats: { ...emptyStats(), ms: many ? ms : 0 },
        exitCode: 0,
        ...(options.shard ? { shard: { index: options.shard.index, count: options.shard.count, total: 0 } } : {}),
      }),
    };
  }
  const src = await loadPrograms(files, { cwd });
  const program = compile(src.modules.values(), true);
  const plain = compile(src.modules.values(), false);
  if (options.typecheck !== false) await typecheckProgram(files, { cwd });

  // List the tests: instantiate each test file once.
  const tests: { module: string; name: string; path: string }[] = [];
  const seen = new Set<string>();
  for (const entry of src.entries) {
    const lister = new Machine(program, checkedRuntime, machineConfig({ ...options, seed: 0 }));
    try {
      lister.run(entry.path, () => () => undefined);
    } catch {
      /* reported when the tests run */
    }
    for (const t of lister.tests) {
      const key = `${t.module}::${t.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const mod = program.modules.find((x) => x.source.displayPath === t.module);
      tests.push({ module: t.module, name: t.name, path: mod?.source.path ?? entry.path });
    }
  }
  const filters = options.filter === undefined ? undefined : typeof options.filter === "string" ? [options.filter] : options.filter;
  const matching = filters ? tests.filter((t) => filters.some((f) => `${t.module}::${t.name}`.includes(f))) : tests;
  // `--shard i/n`: this shard's contiguous block of the matching tests (test-selection.ts).
  const selected = shardOf(matching, options.shard);
  /** PCT step estimates per test (they do not depend on the seed). */
  const pctEstimates = new Map<string, number>();

  const runSeed = (seed: number, onOutputLine?: (line: string) => void, onTest?: (progress: TestProgress) => void): SeedTestRun => {
    const o: RunOptions = { ...options, seed };
    const results: TestResult[] = [];
    const lineHits = program.modules.map((m) => new Float64Array(m.compiled.coverageLines.length));
    const unsafeHits = program.modules.map((m) => new Float64Array(m.compiled.unsafeLines.length));
    const timing: Record<string, ModuleTiming> = {};
    const stats: RunStats = { ...emptyStats(), threads: 0 };
    let failed = 0;
    for (const t of selected) {
      onTest?.({ phase: "start", done: results.length, total: selected.length, failed, module: t.module, name: t.name });
      // Bounded as the Machine's own output is (a test that prints without end).
      const output = new KeptLines();
      let spec: Machine["tests"][number] | undefined;
      const runTest = (ro: RunOptions, onOutput?: (l: string) => void, pctSteps?: number, history = true) => {
        const m = new Machine(program, checkedRuntime, { ...machineConfig(ro, onOutput, pctSteps), borrowHistory: history });
        const panic = m.run(t.path, () => {
          spec = m.tests.find((x) => x.module === t.module && x.name === t.name);
          return spec ? spec.body : `test \`${t.name}\` is no longer registered by ${t.module}`;
        });
        return { m, panic };
      };
      // PCT without --pct-steps: the test's steps under seed 0 and PCT depth 1 (as for runFile).
      let pctSteps: number | undefined;
      if (o.pct !== undefined && o.replay === undefined && o.pctSteps === undefined) {
        const key = `${t.module}::${t.name}`;
        pctSteps = pctEstimates.get(key);
        if (pctSteps === undefined) {
          pctSteps = estimatePctSteps((x) => runTest(x).m, o);
          pctEstimates.set(key, pctSteps);
        }
      }
      const start = performance.now();
      const { m, panic } = exactBorrows(
        (l: string) => {
          output.push(l);
          onOutputLine?.(l);
        },
        (tagGc, onOutput, history) => runTest({ ...o, tagGc: tagGc ?? o.tagGc }, onOutput, pctSteps, history),
      );
      const ms = performance.now() - start;
      const ub = m.allFindings();
      const r: TestResult = { name: t.name, module: t.module, status: "pass", ms, output: output.lines(), schedule: m.schedule, threads: m.threads.length };
      if (ub.length) {
        r.status = "ub";
        r.ub = ub;
      } else if (spec?.shouldPanic) {
        if (!panic) {
          r.status = "fail";
          r.reason = "test did not panic as expected";
        } else if (spec.expected && !panic.message.includes(spec.expected)) {
          r.status = "fail";
          r.panic = panic;
          r.reason = `panic did not contain expected string\n      panic message: ${JSON.stringify(panic.message)}\n expected substring: ${JSON.stringify(spec.expected)}`;
        }
      } else if (panic) {
        r.status = "fail";
        r.panic = panic;
      }
      results.push(r);
      // Natively only a test that passed on the Machine: natively nothing stops a test that the
      // Machine stopped (an endless loop, a spin on a flag nobody sets), and its time means nothing.
      const nativeMs = r.status === "pass" && !spec?.shouldPanic ? timeNative(plain, t.path, t.name, options.mirch) : 0;
      m.lineHits.forEach((h, i) => addInto(lineHits[i], h));
      m.unsafeHits.forEach((h, i) => addInto(unsafeHits[i], h));
      const tm = (timing[t.module] ??= { native: 0, checked: 0, tests: 0 });
      tm.native += nativeMs;
      tm.checked += ms;
      tm.tests++;
      stats.steps += m.steps;
      stats.threads += m.threads.length;
      stats.switches += m.switches;
      stats.allocations += m.memory.count;
      if (r.status !== "pass") failed++;
      onTest?.({ phase: "end", done: results.length, total: selected.length, failed, module: t.module, name: t.name });
    }
    return { seed, tests: results, lineHits, unsafeHits, timing, stats };
  };

  const report = (runs: SeedTestRun[], ms: number): TestRunResult => {
    // Summed over the seeds too: a line run once per seed shows the number of seeds.
    const lineHits = program.modules.map((m) => new Float64Array(m.compiled.coverageLines.length));
    const unsafeHits = program.modules.map((m) => new Float64Array(m.compiled.unsafeLines.length));
    const timing = new Map<string, ModuleTiming>();
    const stats = emptyStats();
    for (const run of runs) {
      run.lineHits.forEach((h, i) => addInto(lineHits[i], h));
      run.unsafeHits.forEach((h, i) => addInto(unsafeHits[i], h));
      for (const [mod, t] of Object.entries(run.timing)) {
        const tm = timing.get(mod) ?? { native: 0, checked: 0, tests: 0 };
        tm.native += t.native;
        tm.checked += t.checked;
        // A test run with many seeds is still one test.
        if (run === runs[0]) tm.tests += t.tests;
        timing.set(mod, tm);
      }
      stats.steps += run.stats.steps;
      stats.threads += run.stats.threads;
      stats.switches += run.stats.switches;
      stats.allocations += run.stats.allocations;
    }
    stats.ms = ms;
    const results = many ? selected.map((_, i) => mergeSeeds(runs.map((r) => ({ seed: r.seed, test: r.tests[i]! })))) : runs[0]!.tests;
    let coverage = coverageReport(program, lineHits, unsafeHits, timing);
    if (options.coverageBy === "dir") coverage = coverageByDir(coverage);
    const failed = results.some((r) => r.status !== "pass");
    const seed = runs[0]?.seed ?? options.seed ?? 0;
    return { seed, tests: results, ub: results.flatMap((r) => r.ub ?? []), coverage, stats, exitCode: failed ? 1 : 0 };
  };
  return { runSeed, report: (runs, ms) => withShard(report(runs, ms), options.shard, matching.length) };
}

/** One test's results over many seeds (in seed order) as one result: see `TestResult.failingSeeds`. */
function mergeSeeds(runs: { seed: number; test: TestResult }[]): TestResult {
  const bad = runs.filter((r) => r.test.status !== "pass");
  const ms = runs.reduce((a, r) => a + r.test.ms, 0);
  const base = (bad[0] ?? runs[0]!).test;
  const merged: TestResult = { ...base, ms, failingSeeds: bad.map((r) => r.seed) };
  if (bad.length === 0) return merged;
  merged.status = bad.some((r) => r.test.status === "ub") ? "ub" : "fail";
  const ub = bad.flatMap((r) => r.test.ub ?? []);
  if (ub.length) merged.ub = ub;
  else delete merged.ub;
  merged.seedFailures = bad.map(({ seed, test }) => {
    const f: TestSeedFailure = { seed, status: test.status as "fail" | "ub" };
    if (test.ub) f.ub = test.ub;
    if (test.panic) f.panic = test.panic;
    if (test.reason) f.reason = test.reason;
    if (test.schedule !== undefined) f.schedule = test.schedule;
    return f;
  });
  return merged;
}

/**
 * The coverage table with one row per directory (relative to the working directory, `.` for
 * files directly in it) instead of one per file, lines, `unsafe` regions, tests and times summed:
 * the shape of KernMiri's table (a row per OSTD module: `mm`, `dma`, `io`). `lines` (for lcov)
 * stays per file.
 * @param coverage - a per-file report.
 */
export function coverageByDir(coverage: CoverageReport): CoverageReport {
  const groups = new Map<string, CoverageRow[]>();
  for (const row of coverage.modules) {
    const dir = path.posix.dirname(row.module.split(path.sep).join("/"));
    const list = groups.get(dir) ?? [];
    list.push(row);
    groups.set(dir, list);
  }
  const rows = [...groups.entries()].map(([dir, list]) => ({ ...totalRow(list), module: dir }));
  rows.sort((a, b) => a.module.localeCompare(b.module));
  const out: CoverageReport = { modules: rows, total: coverage.total };
  if (coverage.lines) out.lines = coverage.lines;
  if (coverage.unsafeRegions) out.unsafeRegions = coverage.unsafeRegions;
  if (coverage.functions) out.functions = coverage.functions;
  return out;
}

function addInto(dst: Float64Array, src: Float64Array): void {
  for (let i = 0; i < src.length; i++) dst[i] += src[i];
}

function coverageReport(
  program: CompiledProgram,
  lineHits: Float64Array[],
  unsafeHits: Float64Array[],
  timing: Map<string, { native: number; checked: number; tests: number }>,
): CoverageReport {
  const rows: CoverageRow[] = [];
  const lines: CoverageReport["lines"] = {};
  const unsafeRegions: UnsafeRegion[] = [];
  const functions: FunctionCoverage[] = [];
  for (const mod of program.modules) {
    // A line's count is that of its most-run coverage point (as istanbul counts a line): in
    // `for (…) x++;` the loop statement runs once and its body N times, and the line shows N.
    // Line 0 is a function's call counter, not a line.
    const all = new Map<number, number>();
    mod.compiled.coverageLines.forEach((line, k) => line > 0 && all.set(line, Math.max(all.get(line) ?? 0, lineHits[mod.index][k])));
    for (const f of mod.compiled.functions) {
      functions.push({ file: mod.source.displayPath, name: f.name, line: f.line, endLine: f.endLine, hits: lineHits[mod.index][f.counter]! });
    }
    const list = [...all.entries()].sort((a, b) => a[0] - b[0]).map(([line, hits]) => ({ line, hit: hits > 0, hits }));
    lines[mod.source.displayPath] = list;
    const u = unsafeHits[mod.index];
    mod.compiled.unsafeRegions.forEach((r, k) =>
      unsafeRegions.push({ file: mod.source.displayPath, line: r.line, endLine: r.endLine, kind: r.kind, hits: u[k] }),
    );
    const tm = timing.get(mod.source.displayPath);
    rows.push({
      module: mod.source.displayPath,
      tests: tm?.tests ?? 0,
      lines: { covered: list.filter((l) => l.hit).length, total: list.length },
      unsafe: { covered: u.filter((h) => h > 0).length, total: u.length },
      nativeMs: tm?.native ?? 0,
      checkedMs: tm?.checked ?? 0,
    });
  }
  rows.sort((a, b) => a.module.localeCompare(b.module));
  unsafeRegions.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.endLine - b.endLine);
  functions.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.endLine - b.endLine);
  return { modules: rows, total: totalRow(rows), lines, unsafeRegions, functions };
}

function totalRow(rows: CoverageRow[]): CoverageRow {
  const sum = (f: (r: CoverageRow) => number) => rows.reduce((a, r) => a + f(r), 0);
  return {
    module: "total",
    tests: sum((r) => r.tests),
    lines: { covered: sum((r) => r.lines.covered), total: sum((r) => r.lines.total) },
    unsafe: { covered: sum((r) => r.unsafe.covered), total: sum((r) => r.unsafe.total) },
    nativeMs: sum((r) => r.nativeMs),
    checkedMs: sum((r) => r.checkedMs),
  };
}

/** Milliseconds one test takes natively (a fresh instantiation, as on the Machine). */
function timeNative(plain: CompiledProgram, file: string, name: string, mirch: MirchOptions | undefined): number {
  const start = performance.now();
  try {
    takeNativeTests();
    const linker = new NativeLinker(plain, () => {}, mirch);
    linker.import(file);
    const t = takeNativeTests().find((x) => x.name === name);
    if (t) linker.call(t.body, "main");
  } catch {
    /* the checked run reports what went wrong */
  }
  return performance.now() - start;
}

/** Instantiates a plainly compiled program on Node with the native runtime. */
export class NativeLinker {
  private readonly namespaces = new Map<string, Namespace>();
  private readonly console: ProgramConsole;

  /**
   * @param mirch - Mirch's options (as `MachineConfig.mirch`), for a program that imports
   *   `kmiri/mirch`; the defaults when left out
   */
  constructor(
    private readonly program: CompiledProgram,
    onOutput: (line: string) => void,
    mirch?: MirchOptions,
  ) {
    this.console = makeProgramConsole(onOutput);
    resetSpins();
    // As the Machine: Mirch boots for kernel code, or when a simulator attaches devices.
    if (program.usesMirch || (mirch?.devices?.length ?? 0) > 0) {
      // Kernel code on Mirch: `kmiri/rt` allocations at the kernel image's addresses, as on the
      // Machine, and a machine fresh from boot (RAM, page states, boot table, devices, CPUs).
      resetNativeMemory({ start: KERNEL_CODE_BASE });
      bootNativeMirch(mirch ?? {}, onOutput, true);
    } else {
      stopNativeMirch();
    }
    const realm = guestRealm();
    for (const ns of Object.values(nativeModules)) realm.admit(ns);
    realm.resetGlobals();
  }

  /** Evaluates a module (and its imports); returns its namespace. */
  import(key: string): Record<string, unknown> {
    const builtin = nativeModules[key];
    if (builtin !== undefined) return builtin as Record<string, unknown>;
    const existing = this.namespaces.get(key);
    if (existing) return existing;
    const mod = this.program.byPath.get(key);
    if (!mod) throw new Error(`kmiri internal error: module ${key} was not loaded`);
    return evaluateModule(mod, this.namespaces, (k) => this.import(k), {
      runtime: null,
      console: this.console,
      math: guestRealm().global.Math as Math,
      lineHits: null,
      unsafeHits: null,
    });
  }

  /** Calls `f`; a panic (or an uncaught exception) is returned, as the Machine would report it. */
  call(f: () => unknown, thread: string): PanicInfo | undefined {
    try {
      f();
      return undefined;
    } catch (e) {
      // What the program threw is read without running its code (error-location.ts).
      if (isInstance(e, PanicStop)) throw e;
      const message = isInstance(e, NativePanic) ? e.message : describeThrown(e);
      return { thread, message, location: programLocationOfError(this.program, e), backtrace: [] };
    }
  }
}
