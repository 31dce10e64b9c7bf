/**
 * `kmiri test PATH` as a library call: one seed (run.ts), or many seeds on worker threads
 * (many-seeds.ts). It sits above both, so that neither imports the other.
 */
import type { TestRunResult } from "./results.js";
import { prepareTests, type TestOptions } from "./run.js";
import { testManySeeds } from "./many-seeds.js";

/**
 * Runs every `ktest` under `p` (a file or a directory, or a list of them: the union of their test
 * files, see test-selection.ts), each on a fresh Machine, and natively for
 * the timing column; collects findings, results and coverage. With `manySeeds`, every test runs
 * once per seed on worker threads (see {@link TestOptions.manySeeds}).
 * @throws LoadError when a test file cannot be loaded or compiled.
 * @example
 * ```ts
 * const r = await testPath("src/ostd-under-test", { manySeeds: { from: 0, to: 32 }, coverageBy: "dir" });
 * for (const t of r.tests) if (t.failingSeeds?.length) console.log(t.name, t.failingSeeds);
 * ```
 */
export async function testPath(p: string | readonly string[], options: TestOptions = {}): Promise<TestRunResult> {
  if (options.manySeeds) return testManySeeds(p, options);
  const t0 = performance.now();
  const prepared = await prepareTests(p, options);
  const run = prepared.runSeed(options.seed ?? 0, options.onOutput, options.onTest);
  return prepared.report([run], performance.now() - t0);
}
