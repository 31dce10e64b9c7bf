/**
 * Renders a `kmiri test` run the way `cargo test` does, and the coverage table of KernMiri
 * (seeds/002: module, tests, lines covered/total, unsafe covered/total, native and checked time):
 *
 * ```text
 * running 3 tests
 * test src/mm/frame.test.ts::alloc ... ok
 * test src/mm/frame.test.ts::double_free ... UB
 * test src/mm/heap.test.ts::grow ... FAILED
 *
 * failures:
 *     src/mm/frame.test.ts::double_free
 *     src/mm/heap.test.ts::grow
 *
 * test result: FAILED. 1 passed; 1 failed; 1 ub; finished in 0.42s
 * ```
 *
 * A test is named `<module>::<name>`, its module being the test file relative to the working
 * directory, so the name says where to look. Every function returns text without a trailing newline.
 */
import type { CoverageReport, CoverageRow, TestResult, TestRunResult, TestSeedFailure } from "../results.js";
import { renderPanic, renderReport, type RenderOptions } from "./render.js";
import { palette, type Palette } from "./render-style.js";

/**
 * The full name of a test: `<module>::<name>`.
 * @param test - the test.
 */
export function testName(test: Pick<TestResult, "module" | "name">): string {
  return test.module ? `${test.module}::${test.name}` : test.name;
}

function statusWord(p: Palette, status: TestResult["status"]): string {
  switch (status) {
    case "pass": return p.ok("ok");
    case "fail": return p.bad("FAILED");
    case "ub": return p.bad("UB");
  }
}

/**
 * `running N tests` and one line per test: `test <module>::<name> ... ok|FAILED|UB`.
 * @param tests - the tests, in run order.
 * @param options - colour.
 */
export function renderTestLines(tests: TestResult[], options: RenderOptions = {}): string {
  const p = palette(options.color);
  const head = `running ${tests.length} ${tests.length === 1 ? "test" : "tests"}`;
  return [head, ...tests.map((t) => `test ${testName(t)} ... ${statusWord(p, t.status)}`)].join("\n");
}

/**
 * What went wrong in each failed test, cargo's `---- name ----` sections: the panic (or why a
 * `should_panic` test failed) or the findings rendered as Miri does. `""` when every test passed.
 * @param tests - the tests, in run order.
 * @param options - colour and the source reader for snippets.
 */
export function renderTestFailures(tests: TestResult[], options: RenderOptions = {}): string {
  const sections: string[] = [];
  for (const t of tests) {
    if (t.status === "pass") continue;
    if (t.seedFailures && t.seedFailures.length > 0) {
      sections.push(`---- ${testName(t)} ----\n${renderSeedFailures(t.seedFailures, options)}`);
      continue;
    }
    const body: string[] = [];
    if (t.ub && t.ub.length > 0) body.push(...t.ub.map((r) => renderReport(r, options)));
    if (t.panic) body.push(renderPanic(t.panic, options));
    if (t.reason) body.push(`note: ${t.reason}`);
    if (body.length === 0) body.push(t.status === "ub" ? "note: undefined behaviour was reported" : "note: the test failed");
    sections.push(`---- ${testName(t)} ----\n${body.join("\n\n")}`);
  }
  return sections.join("\n\n");
}

/**
 * Under `--many-seeds`: `FAILING SEED: n` and the first report (or the panic, or why the test
 * failed) of each failing seed, in seed order, as `kmiri run --many-seeds` prints them.
 */
function renderSeedFailures(failures: TestSeedFailure[], options: RenderOptions): string {
  const p = palette(options.color);
  return failures
    .map((f) => {
      const first = f.ub?.[0]
        ? renderReport(f.ub[0], options)
        : f.panic
          ? renderPanic(f.panic, options)
          : f.reason
            ? `note: ${f.reason}`
            : "";
      const reason = f.panic && f.reason ? `\nnote: ${f.reason}` : "";
      return `${p.strong(`FAILING SEED: ${f.seed}`)}${first ? `\n${first}` : ""}${reason}`;
    })
    .join("\n\n");
}

/**
 * The list of failed tests and the `test result:` line:
 * `test result: ok. N passed; M failed; K ub; finished in X.XXs`.
 * @param result - the test run (its tests and `stats.ms`).
 * @param options - colour.
 */
export function renderTestSummary(result: Pick<TestRunResult, "tests" | "stats">, options: RenderOptions = {}): string {
  const p = palette(options.color);
  const count = (s: TestResult["status"]) => result.tests.filter((t) => t.status === s).length;
  const passed = count("pass");
  const failed = count("fail");
  const ub = count("ub");
  const out: string[] = [];
  const bad = result.tests.filter((t) => t.status !== "pass");
  if (bad.length > 0) out.push("failures:", ...bad.map((t) => `    ${testName(t)}`), "");
  const verdict = failed + ub === 0 ? p.ok("ok") : p.bad("FAILED");
  const secs = (result.stats.ms / 1000).toFixed(2);
  out.push(`test result: ${verdict}. ${passed} passed; ${failed} failed; ${ub} ub; finished in ${secs}s`);
  return out.join("\n");
}

/**
 * The whole percentage of `covered/total` every report shows (the table, the HTML report): rounded,
 * but never 100 unless all is covered; undefined when there is nothing to cover.
 */
export function coveragePercent(c: { covered: number; total: number }): number | undefined {
  if (c.total <= 0) return undefined;
  const pct = Math.round((100 * c.covered) / c.total);
  return pct === 100 && c.covered < c.total ? 99 : pct;
}

/** The percentage of `covered/total` in the table, `(87%)` ({@link coveragePercent}). */
function percent(c: { covered: number; total: number }): string {
  const pct = coveragePercent(c);
  return pct === undefined ? "(-)" : `(${pct}%)`;
}

/** A duration: `1.23s` like KernMiri's table, or `4.2ms` below a tenth of a second; `-` when not measured. */
function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return "-";
  if (ms >= 100) return `${(ms / 1000).toFixed(2)}s`;
  return `${ms.toFixed(ms < 10 ? 1 : 0)}ms`;
}

/** The slowdown of the checked run over the native one, `23.2x`; `-` without a native time. */
function ratio(row: CoverageRow): string {
  if (!(row.nativeMs > 0) || !Number.isFinite(row.checkedMs)) return "-";
  return `${(row.checkedMs / row.nativeMs).toFixed(1)}x`;
}

type Counts = { covered: number; total: number };

/** `covered/total (pct%)` cells of one column, fractions and percentages each right-aligned. */
function fractionColumn(counts: Counts[]): string[] {
  const fractions = counts.map((c) => `${c.covered}/${c.total}`);
  const percents = counts.map(percent);
  const width = Math.max(...fractions.map((f) => f.length));
  const pctWidth = Math.max(...percents.map((p) => p.length));
  return counts.map((_, i) => `${fractions[i]!.padStart(width)} ${percents[i]!.padStart(pctWidth)}`);
}

/** Column headers. */
const HEADERS = ["module", "tests", "lines", "unsafe", "native", "checked", "ratio"];
/** Left-aligned columns (the rest are right-aligned). */
const LEFT = new Set([0, 2, 3]);

/**
 * The coverage table: one row per module and a total row, with lines and `unsafe` regions
 * covered / total (and %), the native and checked run times, and their ratio (`-` when the
 * native time was not measured):
 *
 * ```text
 * module      tests  lines            unsafe        native  checked  ratio
 * ----------  -----  ---------------  ------------  ------  -------  -----
 * dma            12    385/443 (87%)    8/8 (100%)   0.25s    1.22s   4.9x
 * page_table     34   931/1032 (90%)  46/46 (100%)   1.23s   34.83s  28.3x
 * ----------  -----  ---------------  ------------  ------  -------  -----
 * total          46  1316/1475 (89%)  54/54 (100%)   1.48s   36.05s  24.4x
 * ```
 * @param coverage - the coverage report of a test run.
 * @param options - colour.
 */
export function renderCoverageTable(coverage: CoverageReport, options: RenderOptions = {}): string {
  const p = palette(options.color);
  const all = [...coverage.modules, coverage.total];
  const lines = fractionColumn(all.map((r) => r.lines));
  const unsafe = fractionColumn(all.map((r) => r.unsafe));
  const rows = all.map((r, i) => [
    i === all.length - 1 ? r.module || "total" : r.module,
    String(r.tests), lines[i]!, unsafe[i]!, duration(r.nativeMs), duration(r.checkedMs), ratio(r),
  ]);
  const widths = HEADERS.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const format = (r: string[]) =>
    r.map((cell, c) => (LEFT.has(c) ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ").replace(/\s+$/, "");
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  const body = rows.slice(0, -1).map(format);
  return [p.strong(format(HEADERS)), rule, ...body, rule, p.strong(format(rows[rows.length - 1]!))].join("\n");
}

/**
 * The unsafe regions no test ran, one per line under a heading, or `""` when every region ran
 * (or the report lists none):
 *
 * ```text
 * unsafe regions not run:
 *   src/frame.ts:12-18 (block)
 *   src/frame.ts:40-52 (function)
 * ```
 * @param coverage - the coverage report of a test run.
 * @param options - colour.
 */
export function renderUnrunUnsafeRegions(coverage: CoverageReport, options: RenderOptions = {}): string {
  const p = palette(options.color);
  const unrun = (coverage.unsafeRegions ?? []).filter((r) => r.hits === 0);
  if (unrun.length === 0) return "";
  return [p.strong("unsafe regions not run:"), ...unrun.map((r) => `  ${r.file}:${r.line}-${r.endLine} (${r.kind})`)].join("\n");
}
