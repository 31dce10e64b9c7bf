/**
 * `kmiri test --many-seeds A..B` (`testPath(p, { manySeeds })`): every test once per seed on the
 * worker pool of `runManySeeds` (the built package: `npm run build` first, as `npm test` does), a
 * test passing only when every seed passes, results independent of the number of workers; and
 * `--coverage-by dir`, the coverage table with a row per directory.
 */
import { describe, expect, test } from "vitest";
import { coverageByDir } from "../../src/driver/run.js";
import { testPath } from "../../src/driver/test-path.js";
import type { TestRunResult } from "../../src/driver/results.js";
import { parseArgs, UsageError } from "../../src/cli/args.js";
import { replaySeed } from "../../src/concurrency/scheduler.js";
import { kmiri } from "../support/cli-in-process.js";

const DIR = "test/fixtures/ktests-seeds";
const RACY = `${DIR}/racy.ts`;

/** A result without its wall-clock times (not part of any determinism guarantee). */
function timeless(r: TestRunResult) {
  const row = <T extends { nativeMs: number; checkedMs: number }>(x: T) => ({ ...x, nativeMs: 0, checkedMs: 0 });
  return {
    ...r,
    stats: { ...r.stats, ms: 0 },
    tests: r.tests.map((t) => ({ ...t, ms: 0 })),
    coverage: { ...r.coverage, modules: r.coverage.modules.map(row), total: row(r.coverage.total) },
  };
}

let failing: number[] | undefined;
/** The seeds in 0..20 for which `racy` fails, each seed's test run alone. */
async function failingSeeds(): Promise<number[]> {
  if (!failing) {
    failing = [];
    for (let seed = 0; seed < 20; seed++) {
      const r = await testPath(DIR, { seed, filter: "::racy" });
      if (r.tests[0]!.status !== "pass") failing.push(seed);
    }
  }
  return failing;
}


describe("testPath with manySeeds", () => {
  test("a racy test fails for some seeds, a clean one passes; identical with 1 and 2 workers and in-process", async () => {
    const progress: number[] = [];
    const one = await testPath(DIR, { manySeeds: { from: 0, to: 20, workers: 1, onProgress: (p) => progress.push(p.done) } });
    const two = await testPath(DIR, { manySeeds: { from: 0, to: 20, workers: 2 } });
    const here = await testPath(DIR, { manySeeds: { from: 0, to: 20, workers: 0 } });
    expect(timeless(two)).toEqual(timeless(one));
    expect(timeless(here)).toEqual(timeless(one));
    expect(progress).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));

    expect(one.seed).toBe(0);
    expect(one.exitCode).toBe(1);
    expect(one.tests.map((t) => [t.name, t.status])).toEqual([["racy", "fail"], ["clean", "pass"]]);
    const [racy, clean] = one.tests;
    const expected = await failingSeeds();
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(20);
    expect(racy!.failingSeeds).toEqual(expected);
    expect(racy!.seedFailures!.map((f) => f.seed)).toEqual(expected);
    for (const f of racy!.seedFailures!) {
      expect(f.status).toBe("fail");
      expect(f.panic!.message).toMatch(/^b ran first and a last/);
      expect(replaySeed(f.schedule!)).toBe(f.seed);
    }
    expect(racy!.panic!.message).toMatch(/^b ran first and a last/);
    expect(clean!.failingSeeds).toEqual([]);
    expect(clean!.seedFailures).toBeUndefined();

    // Coverage merged over the seeds: every line of the file ran for some seed; a test counts once.
    expect(one.coverage.modules).toHaveLength(1);
    expect(one.coverage.modules[0]).toMatchObject({ module: RACY, tests: 2 });
    expect(one.coverage.total.lines.covered).toBe(one.coverage.total.lines.total);
    // 20 seeds × 2 tests, each with its spawned threads, plus the lister's main.
    expect(one.stats.threads).toBeGreaterThan(40);
  });

  test("a single seed as a range gives the result of --seed (plus failingSeeds)", async () => {
    const seed = (await failingSeeds())[0]!;
    const alone = await testPath(DIR, { seed });
    const many = await testPath(DIR, { manySeeds: { from: seed, to: seed + 1, workers: 1 } });
    expect(many.tests.map((t) => [t.status, t.failingSeeds])).toEqual([["fail", [seed]], ["pass", []]]);
    expect(many.tests.map((t) => t.schedule)).toEqual(alone.tests.map((t) => t.schedule));
    expect(alone.tests.every((t) => t.failingSeeds === undefined)).toBe(true);
  });

  test("an invalid range is a RangeError", async () => {
    await expect(testPath(DIR, { manySeeds: { from: 4, to: 4 } })).rejects.toThrow(RangeError);
  });
});

describe("kmiri test --many-seeds", () => {
  test("text: each test once, FAILING SEED lines with the first report of each failing seed, the table", async () => {
    const r = await kmiri(["test", DIR, "--many-seeds", "0..20", "--workers", "2"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("running 2 tests\n");
    expect(r.out.match(/::racy \.\.\. FAILED/g)).toHaveLength(1);
    expect(r.out.match(/::clean \.\.\. ok/g)).toHaveLength(1);
    expect(r.out).toContain("test result: FAILED. 1 passed; 1 failed; 0 ub;");
    expect(r.out).toMatch(/module\s+tests\s+lines/);
    const seeds = [...r.err.matchAll(/^FAILING SEED: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(seeds).toEqual(await failingSeeds());
    expect(r.err.match(/^---- .*::racy ----$/gm)).toHaveLength(1);
    expect(r.err.match(/thread 'main' panicked at test\/fixtures\/ktests-seeds\/racy\.ts:/g)).toHaveLength(seeds.length);
  });

  test("--json: the contract fields, failingSeeds on every test", async () => {
    const r = await kmiri(["test", DIR, "--many-seeds", "0..20", "--json"]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out);
    expect(Object.keys(j)).toEqual(expect.arrayContaining(["seed", "ub", "tests", "coverage", "stats", "exitCode"]));
    expect(j.seed).toBe(0);
    expect(j.exitCode).toBe(1);
    expect(j.tests.map((t: { failingSeeds: number[] }) => t.failingSeeds)).toEqual([await failingSeeds(), []]);
    expect(j.seedRange).toEqual({ from: 0, to: 20 });
  });

  test("usage", () => {
    expect(parseArgs(["test", DIR, "--many-seeds", "2..5", "--workers", "3", "--coverage-by", "dir"])).toMatchObject({
      command: "test",
      flags: { manySeeds: { from: 2, to: 5 }, workers: 3, coverageBy: "dir" },
    });
    expect(() => parseArgs(["test", DIR, "--coverage-by", "module"])).toThrow(UsageError);
    expect(() => parseArgs(["run", RACY, "--coverage-by", "dir"])).toThrow(/only for `kmiri test`/);
    expect(() => parseArgs(["test", DIR, "--many-seeds", "0..3", "--seed", "1"])).toThrow(/cannot be used together/);
    expect(() => parseArgs(["test", DIR, "--workers", "2"])).toThrow(/needs `--many-seeds/);
  });
});

describe("--coverage-by dir", () => {
  test("test/fixtures/ktests: its files in one row, their counts summed; lcov lines stay per file", async () => {
    const byFile = await testPath("test/fixtures/ktests");
    const byDir = await testPath("test/fixtures/ktests", { coverageBy: "dir" });
    expect(byFile.coverage.modules.length).toBeGreaterThanOrEqual(2);
    expect(byDir.coverage.modules).toHaveLength(1);
    const row = byDir.coverage.modules[0]!;
    const sum = (f: (r: (typeof byFile.coverage.modules)[number]) => number) => byFile.coverage.modules.reduce((a, r) => a + f(r), 0);
    expect(row.module).toBe("test/fixtures/ktests");
    expect(row.tests).toBe(sum((r) => r.tests));
    expect(row.tests).toBe(7);
    expect(row.lines).toEqual({ covered: sum((r) => r.lines.covered), total: sum((r) => r.lines.total) });
    expect(row.unsafe).toEqual({ covered: sum((r) => r.unsafe.covered), total: sum((r) => r.unsafe.total) });
    expect(byDir.coverage.total.lines).toEqual(byFile.coverage.total.lines);
    expect(Object.keys(byDir.coverage.lines!).sort()).toEqual(Object.keys(byFile.coverage.lines!).sort());
  });

  test("coverageByDir: one row per directory, sorted; `.` for files in the working directory", () => {
    const r = (module: string, covered: number, tests: number) => ({
      module, tests, lines: { covered, total: 10 }, unsafe: { covered: 1, total: 2 }, nativeMs: 1, checkedMs: 2,
    });
    const out = coverageByDir({ modules: [r("src/mm/a.ts", 3, 1), r("src/dma/b.ts", 4, 2), r("src/mm/c.ts", 5, 3), r("top.ts", 1, 0)], total: r("total", 13, 6) });
    expect(out.modules.map((m) => [m.module, m.tests, m.lines.covered, m.lines.total, m.unsafe.total, m.checkedMs])).toEqual([
      [".", 0, 1, 10, 2, 2],
      ["src/dma", 2, 4, 10, 2, 2],
      ["src/mm", 4, 8, 20, 4, 4],
    ]);
    expect(out.total.module).toBe("total");
  });

  test("kmiri test --coverage-by dir: the table's row is the directory", async () => {
    const r = await kmiri(["test", "test/fixtures/ktests", "--coverage-by", "dir"]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^test\/fixtures\/ktests\s+7\s+/m);
    expect(r.out).not.toMatch(/^test\/fixtures\/ktests\/mixed\.ts\s/m);
  });
});
