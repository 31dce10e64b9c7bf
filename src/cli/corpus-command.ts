/**
 * `kmiri corpus DIR`: checks an annotated UB corpus (format in src/driver/corpus.ts) and prints
 * one line per file (`ok` / `FAILED` with what did not match) and a summary, like a UI-test runner.
 */
import type { CommonFlags } from "./args.js";
import type { CliIO } from "./io.js";
import { engineOptions } from "./options.js";
import { palette, shouldColor } from "../driver/render/render-style.js";
import type { CorpusResult } from "../driver/corpus.js";

/**
 * Runs `kmiri corpus`.
 * @param dir - the corpus directory (or one file), as given on the command line.
 * @param flags - the parsed flags (a file's own `//@ flags:` line overrides them).
 * @param io - the process.
 * @returns the exit status: 0 every file matched its annotations, 1 one did not.
 */
export async function corpusCommand(dir: string, flags: CommonFlags, io: CliIO): Promise<number> {
  const engine = await io.engine();
  const start = Date.now();
  const result = await engine.checkCorpus(dir, engineOptions(flags, io));
  if (flags.json) {
    io.stdout(`${JSON.stringify(corpusJson(result, flags.seed ?? 0, Date.now() - start))}\n`);
  } else {
    const p = palette(shouldColor(io.stdoutIsTTY, io.env));
    io.stdout(`\nchecking ${result.cases.length} corpus files\n`);
    for (const c of result.cases) {
      io.stdout(`${c.file} ... ${c.ok ? p.ok("ok") : p.error("FAILED")}\n`);
      for (const problem of c.problems) io.stdout(`    ${problem}\n`);
    }
    const verdict = result.failed === 0 ? p.ok("ok") : p.error("FAILED");
    io.stdout(`\ncorpus result: ${verdict}. ${result.passed} passed; ${result.failed} failed; finished in ${((Date.now() - start) / 1000).toFixed(2)}s\n`);
  }
  return result.failed === 0 ? 0 : 1;
}

/** The `--json` object: the contract fields, with the per-file verdicts under `corpus`. */
function corpusJson(result: CorpusResult, seed: number, ms: number) {
  return {
    seed,
    ub: result.cases.flatMap((c) => c.ub),
    corpus: {
      passed: result.passed,
      failed: result.failed,
      cases: result.cases.map((c) => ({ file: c.file, ok: c.ok, expected: c.expected, problems: c.problems })),
    },
    stats: { steps: 0, threads: 0, switches: 0, allocations: 0, ms },
    exitCode: result.failed === 0 ? 0 : 1,
  };
}
