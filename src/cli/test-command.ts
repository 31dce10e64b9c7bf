/**
 * `kmiri test PATH`: runs the `ktest`s under PATH, prints one line per test, the failures (on
 * stderr, as Miri's reports), the `test result:` line and the coverage table; writes lcov and
 * SARIF when asked. With `--json`, one JSON object on stdout instead. With `--many-seeds A..B`
 * every test runs once per seed (on worker threads) and its failure lists `FAILING SEED: n` with
 * the first report of each failing seed; program output is not printed. `--coverage-by dir`
 * groups the table's rows by directory.
 */
import type { TestFlags } from "./args.js";
import type { CliIO } from "./io.js";
import { cachedSources } from "./io.js";
import type { EngineTestOptions } from "./engine.js";
import { ProgressLine, elapsed } from "./progress-line.js";
import { engineOptions } from "./options.js";
import { writeSarif } from "./run-command.js";
import { toLcov } from "../driver/render/lcov.js";
import { writeHtml } from "./html-report.js";
import { shardTestLine } from "./shard.js";
import { renderCoverageTable, renderTestFailures, renderUnrunUnsafeRegions, renderTestLines, renderTestSummary } from "../driver/render/render-tests.js";
import { palette, shouldColor } from "../driver/render/render-style.js";
import { testRunResultToJson } from "../driver/render/json.js";
import type { TestRunResult } from "../driver/results.js";

/**
 * Runs `kmiri test`.
 * @param path - a test file or a directory, or several, as given on the command line.
 * @param flags - the parsed flags.
 * @param io - the process.
 * @returns the exit status: 0 every test passed, 1 a test failed or found UB, 2 the lcov or the
 *   SARIF file could not be written.
 * @throws the engine's `LoadError` when a test file cannot be loaded (the caller reports it).
 */
export async function testCommand(path: string | readonly string[], flags: TestFlags, io: CliIO): Promise<number> {
  const warn = (message: string) => io.stderr(`${palette(shouldColor(io.stderrIsTTY, io.env)).warning("warning")}: ${message}\n`);

  const engine = await io.engine();
  const options: EngineTestOptions = engineOptions(flags, io);
  if (flags.filter !== undefined) options.filter = flags.filter;
  if (flags.coverageBy !== undefined) options.coverageBy = flags.coverageBy;
  if (flags.include !== undefined) options.include = flags.include;
  if (flags.exclude !== undefined) options.exclude = flags.exclude;
  if (flags.shard !== undefined) options.shard = flags.shard;
  // A progress line on a terminal (standard error) while the suite or the seeds run; program output
  // streamed to standard output is printed around it.
  const progress = new ProgressLine(io, !flags.json);
  const t0 = Date.now();
  if (flags.manySeeds) {
    options.manySeeds = { from: flags.manySeeds.from, to: flags.manySeeds.to };
    if (flags.workers !== undefined) options.manySeeds.workers = flags.workers;
    if (progress.active) {
      options.manySeeds.onProgress = (p) => progress.show(`many seeds: ${p.done}/${p.total} done, ${p.failed} failed, ${elapsed(Date.now() - t0)}`);
    }
  } else {
    if (!flags.json) options.onOutput = (line) => progress.around(() => io.stdout(`${line}\n`));
    if (progress.active) {
      options.onTest = (p) => {
        if (p.phase === "start") {
          const failed = p.failed ? `, ${p.failed} failed` : "";
          progress.show(`running ${p.done + 1}/${p.total}${failed}, ${elapsed(Date.now() - t0)}: ${p.module}::${p.name}`);
        }
      };
    }
  }
  let result: TestRunResult;
  try {
    result = await engine.testPath(path, options);
  } finally {
    progress.clear();
  }
  const json = testRunResultToJson(result);

  // `shard` (with `--shard`) and `seedRange` (with `--many-seeds`) are in `json` (json.ts).
  if (flags.json) io.stdout(`${JSON.stringify(json)}\n`);
  else {
    if (result.shard) io.stdout(`${shardTestLine(result.shard, result.tests.length)}\n`);
    printText(result, io);
  }

  const sarifFailed = flags.sarif !== undefined && !writeSarif(result, flags.sarif, io);
  if (flags.html !== undefined && !writeHtml(result, flags.html, io)) return 2;
  if (flags.lcov !== undefined) {
    const lcov = toLcov(result.coverage);
    if (lcov === undefined) {
      warn(`this run recorded no per-line coverage; \`${flags.lcov}\` was not written`);
    } else {
      try {
        io.writeFile(flags.lcov, lcov);
      } catch (e) {
        io.stderr(`error: could not write the lcov file \`${flags.lcov}\`: ${(e as Error).message}\n`);
        return 2;
      }
    }
  }
  return sarifFailed ? 2 : json.exitCode;
}

/** The text output: test lines and summary on stdout, failures on stderr, then the table. */
function printText(result: TestRunResult, io: CliIO): void {
  const out = { color: shouldColor(io.stdoutIsTTY, io.env) };
  const err = { color: shouldColor(io.stderrIsTTY, io.env), readSource: cachedSources(io) };
  io.stdout(`\n${renderTestLines(result.tests, out)}\n`);
  const failures = renderTestFailures(result.tests, err);
  if (failures) io.stderr(`\n${failures}\n`);
  io.stdout(`\n${renderTestSummary(result, out)}\n`);
  if (result.coverage && result.coverage.modules.length > 0) {
    io.stdout(`\n${renderCoverageTable(result.coverage, out)}\n`);
    const unrun = renderUnrunUnsafeRegions(result.coverage, out);
    if (unrun) io.stdout(`\n${unrun}\n`);
  }
}
