/**
 * What a run produces: the data every renderer (terminal, JSON, lcov, SARIF) reads. The JSON
 * contract of DESIGN.md is `{ seed, ub, tests?, coverage?, stats }` built from these.
 */
import type { UBReport, PanicInfo } from "../interp/report.js";

export type { PanicInfo } from "../interp/report.js";

/** Counters of one run. */
export interface RunStats {
  /** Loop iterations executed, counted exactly (what `--max-steps` bounds); calls are not counted. */
  steps: number;
  /** Threads created, including `main`. */
  threads: number;
  /** Context switches made by the scheduler. */
  switches: number;
  /** Allocations made. */
  allocations: number;
  /** Wall-clock milliseconds of the run (not part of any determinism guarantee). */
  ms: number;
}

/** Lines and unsafe regions of one module that the run executed. */
export interface CoverageRow {
  module: string;
  tests: number;
  lines: { covered: number; total: number };
  unsafe: { covered: number; total: number };
  nativeMs: number;
  checkedMs: number;
}

/**
 * One unsafe region of a module: an `unsafe:` labelled block or a function whose body starts
 * with the `"unsafe";` directive, by its 1-based `.ts` lines (`endLine` inclusive).
 */
export interface UnsafeRegion {
  /** The module's source path, relative to the working directory (as in `CoverageRow.module`). */
  file: string;
  line: number;
  endLine: number;
  kind: "block" | "function";
  /**
   * How often the region was entered (a block each time control enters it, a function each time
   * it is called), summed over the tests and, with `--many-seeds`, over the seeds; 0 when it never ran.
   */
  hits: number;
}

/** One function of a module and how often it was called (lcov's `FN`/`FNDA` records). */
export interface FunctionCoverage {
  /** The module's source path, relative to the working directory (as in `CoverageRow.module`). */
  file: string;
  /** Its name as a backtrace shows it: `bump`, `Frame::new`, `main::{closure}`. */
  name: string;
  /** Its 1-based `.ts` lines (`endLine` inclusive). */
  line: number;
  endLine: number;
  /** Calls, summed over the tests and, with `--many-seeds`, over the seeds; 0 when never called. */
  hits: number;
}

export interface CoverageReport {
  modules: CoverageRow[];
  total: CoverageRow;
  /**
   * Per module: the 1-based .ts lines that can be covered, whether each ran (`hit`) and how often
   * (`hits`: the runs of its most-run statement, summed over the tests and, with `--many-seeds`,
   * over the seeds), for lcov.
   */
  lines?: Record<string, { line: number; hit: boolean; hits?: number }[]>;
  /** Every unsafe region of the program's modules, by file then line (always per file, also with `--coverage-by dir`). */
  unsafeRegions?: UnsafeRegion[];
  /** Every function of the program's modules, by file then line (always per file). */
  functions?: FunctionCoverage[];
}

/** The result of `kmiri run`. */
export interface RunResult {
  seed: number;
  /** Findings; the run stops at the first, so at most one except for deadlocks (one per stuck thread). */
  ub: UBReport[];
  /** The panic that ended the run, if any. */
  panic?: PanicInfo;
  /**
   * Panics of threads other than `main`, in the order they happened; absent when none panicked.
   * Such a panic ends only its thread: the run still succeeds unless `main` joins the thread
   * (`join` then panics in `main` too, which is {@link RunResult.panic}).
   */
  threadPanics?: PanicInfo[];
  /** Program output, one entry per `console.log` line. */
  output: string[];
  /** Non-halting diagnostics (title `warning`, e.g. `integer-to-pointer cast`), in order; only when there were any. */
  warnings?: UBReport[];
  /** 0: clean; 1: UB or a panic; 2: kmiri itself failed (a report titled `internal error in kmiri`). */
  exitCode: 0 | 1 | 2;
  stats: RunStats;
  /** The schedule as a replay string (reproduces the run with `--replay`); absent for `--native`. */
  schedule?: string;
  /**
   * With PCT (`--pct`): the bug depth `d`, the step estimate `k` the change points were drawn over,
   * the threads `n` of this run, and PCT's guarantee for it, `1/(n·k^(d−1))`: the least probability
   * that one run finds a given bug of depth `d`.
   */
  pct?: { depth: number; steps: number; threads: number; bound: number };
}

/** One `ktest`. */
export interface TestResult {
  name: string;
  /** The test file, relative to the working directory. */
  module: string;
  status: "pass" | "fail" | "ub";
  ms: number;
  /** For `fail`: the panic (or the missing panic of a `should_panic` test). */
  panic?: PanicInfo;
  /** For `fail` of a should_panic test that did not panic: a sentence saying so. */
  reason?: string;
  /** For `ub`: the findings. */
  ub?: UBReport[];
  /** Program output of the test. */
  output: string[];
  /** The test's schedule as a replay string (`kmiri test --filter NAME --replay STRING` replays it). */
  schedule?: string;
  /**
   * The threads the test ran, its own included (1: it spawned none; on Mirch each thread is a
   * CPU): which tests are worth `--many-seeds`. With `--many-seeds`, the first seed's.
   */
  threads?: number;
  /**
   * Only with `--many-seeds A..B` (`TestOptions.manySeeds`): the seeds whose run of this test
   * failed, in order (`[]` when it passed for every seed). The test's `status` is `pass` only when
   * every seed passed, else `ub` when some seed found UB, else `fail`; `ub` holds every failing
   * seed's findings in seed order; `panic`, `reason`, `output` and `schedule` are those of the
   * first failing seed (of seed A when it passed); `ms` is summed over the seeds.
   */
  failingSeeds?: number[];
  /** Only with `--many-seeds`: what went wrong with each failing seed, in seed order. */
  seedFailures?: TestSeedFailure[];
}

/** One failing seed of a test run under `--many-seeds`. */
export interface TestSeedFailure {
  seed: number;
  status: "fail" | "ub";
  /** Its findings (the first stopped the run). */
  ub?: UBReport[];
  panic?: PanicInfo;
  reason?: string;
  /** Its replay string. */
  schedule?: string;
}

/** The result of `kmiri test`. */
export interface TestRunResult {
  seed: number;
  tests: TestResult[];
  /** Every finding of every test, in test order. */
  ub: UBReport[];
  coverage: CoverageReport;
  stats: RunStats;
  exitCode: 0 | 1;
  /**
   * Only with `--shard index/count` (`TestOptions.shard`): which shard ran, and `total`, the tests
   * the whole run selects (this shard's are `tests`).
   */
  shard?: { index: number; count: number; total: number };
  /** Only with `--many-seeds A..B` (`TestOptions.manySeeds`): the seeds every test ran with, `to` excluded. */
  seedRange?: { from: number; to: number };
}
