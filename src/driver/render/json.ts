/**
 * The JSON contract of DESIGN.md ("Contracts the checks rely on"): what `kmiri run --json` and
 * `kmiri test --json` print, one object on stdout:
 *
 * ```ts
 * { seed, ub: UBReport[], tests?: TestResult[], coverage?: { modules, total, lines?, unsafeRegions?, functions? }, stats,
 *   panic?, threadPanics?, warnings?, output?, schedule?, exitCode, error? }
 * ```
 *
 * A `UBReport` of kind `data-race` also carries `race: { earlier: { access, thread, backtrace },
 * current: { access } }` (both accesses as data; added after the first contract, so optional).
 *
 * Fields may be added, never removed or renamed. `seed`, `ub`, `stats` and `exitCode` are always
 * present; `tests` and `coverage` for a test run; `output` (the program's lines) for a run;
 * `panic`, `threadPanics` (spawned threads' panics), `warnings` (non-halting diagnostics) and
 * `schedule` when the run has them; `error`
 * when kmiri could not run the program at all (it could not be loaded, the arguments were wrong,
 * or kmiri itself failed).
 */
import type { SourceLocation, UBReport } from "../../interp/report.js";
import type { CoverageReport, PanicInfo, RunResult, RunStats, TestResult, TestRunResult } from "../results.js";

/** Why kmiri produced no result: the `error` field of {@link KmiriJson}. */
export interface JsonError {
  /** `load`: the program could not be loaded; `usage`: bad arguments; `internal`: a bug in kmiri. */
  kind: "load" | "usage" | "internal";
  message: string;
  /** Where loading failed, when known. */
  location?: SourceLocation;
  /** For `load`: why (`syntax`, `unsupported`, `unknown-import`, `missing-file`, `tsc`, `type`). */
  reason?: string;
  /** For a `type` load error: every type error, in order, with TypeScript's code (`TS2322`). */
  diagnostics?: { file: string; line: number; column: number; code: string; message: string }[];
}

/** The one object `--json` prints. */
export interface KmiriJson {
  /** The seed that decided every choice of the run (replays it). */
  seed: number;
  /** Every finding, in order (for a test run: of every test). */
  ub: UBReport[];
  /** `kmiri test`: one entry per test. */
  tests?: TestResult[];
  /** `kmiri test`: coverage per module and in total. */
  coverage?: CoverageReport;
  /** Counters of the run. */
  stats: RunStats;
  /** `kmiri run`: the panic that ended the program. */
  panic?: PanicInfo;
  /** `kmiri run`: the panics of threads other than `main`, in order (only when some thread panicked). */
  threadPanics?: PanicInfo[];
  /** Non-halting diagnostics (`integer-to-pointer cast`), when there were any. */
  warnings?: UBReport[];
  /** `kmiri run`: the program's output, one entry per line. */
  output?: string[];
  /** The schedule as a replay string. */
  schedule?: string;
  /** The exit status kmiri returns: 0 clean, 1 UB / failed test / panic, 2 not run. */
  exitCode: 0 | 1 | 2;
  /** Set when the program was not run (then `ub` is empty). */
  error?: JsonError;
  /** `kmiri test --shard I/N`: the shard that ran and the tests of the whole run (`kmiri run --many-seeds --shard`: `from`, `to` instead). */
  shard?: { index: number; count: number; total?: number; from?: number; to?: number };
  /** `kmiri test --many-seeds A..B`: the seeds every test ran with (`to` excluded). */
  seedRange?: { from: number; to: number };
}

/** Counters of a run that did not happen. */
export const EMPTY_STATS: RunStats = { steps: 0, threads: 0, switches: 0, allocations: 0, ms: 0 };

/** A report with every contract field present (arrays default to empty). */
function normaliseReport(r: UBReport): UBReport {
  return { ...r, backtrace: r.backtrace ?? [], help: r.help ?? [] };
}

/**
 * The JSON object of `kmiri run`.
 * @param result - the run.
 * @returns the contract object; `JSON.stringify` it.
 */
export function runResultToJson(result: RunResult): KmiriJson {
  const json: KmiriJson = {
    seed: result.seed,
    ub: result.ub.map(normaliseReport),
    stats: result.stats,
    output: result.output ?? [],
    exitCode: result.exitCode === 2 ? 2 : result.ub.length > 0 || result.panic ? 1 : result.exitCode,
  };
  if (result.panic) json.panic = result.panic;
  if (result.threadPanics && result.threadPanics.length > 0) json.threadPanics = result.threadPanics;
  if (result.warnings && result.warnings.length > 0) json.warnings = result.warnings.map(normaliseReport);
  if (result.schedule !== undefined) json.schedule = result.schedule;
  return json;
}

/** A test result with its reports normalised (also those of each failing seed under `--many-seeds`). */
function testToJson(t: TestResult): TestResult {
  const out: TestResult = t.ub ? { ...t, ub: t.ub.map(normaliseReport) } : { ...t };
  if (t.seedFailures) out.seedFailures = t.seedFailures.map((f) => (f.ub ? { ...f, ub: f.ub.map(normaliseReport) } : f));
  return out;
}

/**
 * The JSON object of `kmiri test`.
 * @param result - the test run.
 * @returns the contract object; `JSON.stringify` it.
 */
export function testRunResultToJson(result: TestRunResult): KmiriJson {
  const failed = result.ub.length > 0 || result.tests.some((t) => t.status !== "pass");
  return {
    seed: result.seed,
    ub: result.ub.map(normaliseReport),
    tests: result.tests.map(testToJson),
    coverage: result.coverage,
    stats: result.stats,
    exitCode: failed ? 1 : result.exitCode,
    ...(result.shard ? { shard: result.shard } : {}),
    ...(result.seedRange ? { seedRange: result.seedRange } : {}),
  };
}

/**
 * The JSON object printed when nothing ran (a load error, bad arguments, an internal error), so
 * that a script reading `--json` output always gets the contract fields.
 * @param error - what went wrong.
 * @param seed - the seed that was asked for (0 when none).
 */
export function errorToJson(error: JsonError, seed = 0): KmiriJson {
  return { seed, ub: [], stats: { ...EMPTY_STATS }, exitCode: 2, error };
}

/**
 * The JSON object of either kind of result.
 * @param result - a run or a test run.
 */
export function toJson(result: RunResult | TestRunResult): KmiriJson {
  return "tests" in result ? testRunResultToJson(result) : runResultToJson(result);
}
