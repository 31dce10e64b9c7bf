/**
 * Unsafe regions as data (issue 16): `coverage.unsafeRegions` in `--json`, the unrun regions
 * under the text coverage table, and `FN`/`FNDA`/`FNF`/`FNH` records in `--lcov`, on
 * test/fixtures/unsafe-regions (one unsafe block run, one not, an unsafe function never called);
 * and real hit counts, summed over tests and seeds, on test/fixtures/hit-counts (a loop body run
 * 5 times in one test and 2 in another, an unsafe function called from it each time).
 */
import { describe, expect, test } from "vitest";
import { kmiri } from "../support/cli-in-process.js";
import { toLcov } from "../../src/driver/render/lcov.js";
import { testPath } from "../../src/driver/test-path.js";
import { renderUnrunUnsafeRegions } from "../../src/driver/render/render-tests.js";
import type { CoverageReport } from "../../src/driver/results.js";

const DIR = "test/fixtures/unsafe-regions";
const FILE = `${DIR}/regions.ts`;
const REGIONS = [
  { file: FILE, line: 4, endLine: 11, kind: "function", hits: 0 },
  { file: FILE, line: 15, endLine: 19, kind: "block", hits: 0 },
  { file: FILE, line: 25, endLine: 30, kind: "block", hits: 1 },
];

/** Runs `kmiri argv…` (which writes `--lcov cov.lcov`); the lcov text written. */
async function lcovOf(argv: string[]): Promise<string> {
  const written: Record<string, string> = {};
  const r = await kmiri([...argv, "--lcov", "cov.lcov"], false, {}, written);
  expect(r.code).toBe(0);
  expect(r.err).toBe("");
  return written["cov.lcov"]!;
}

describe("unsafe regions (real engine)", () => {
  test("--json lists every unsafe region with its lines, kind and hits; the counts agree", async () => {
    const r = await kmiri(["test", DIR, "--json"]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(json.coverage.unsafeRegions).toEqual(REGIONS);
    // the existing fields stay
    expect(json.coverage.modules).toMatchObject([{ module: FILE, tests: 1, unsafe: { covered: 1, total: 3 } }]);
    expect(json.coverage.total.unsafe).toEqual({ covered: 1, total: 3 });
    expect(json.coverage.lines[FILE].length).toBeGreaterThan(0);
  });

  test("--coverage-by dir keeps the per-file list", async () => {
    const json = JSON.parse((await kmiri(["test", DIR, "--json", "--coverage-by", "dir"])).out);
    expect(json.coverage.modules).toMatchObject([{ module: DIR, unsafe: { covered: 1, total: 3 } }]);
    expect(json.coverage.unsafeRegions).toEqual(REGIONS);
  });

  test("the text output lists the regions not run under the coverage table", async () => {
    const r = await kmiri(["test", DIR]);
    expect(r.code).toBe(0);
    const table = r.out.indexOf("module ");
    const list = r.out.indexOf("unsafe regions not run:\n");
    expect(table).toBeGreaterThan(0);
    expect(list).toBeGreaterThan(table);
    expect(r.out.slice(list)).toBe(
      `unsafe regions not run:\n  ${FILE}:4-11 (function)\n  ${FILE}:15-19 (block)\n`,
    );
  });

  test("no list when every unsafe region ran", async () => {
    const r = await kmiri(["test", "test/fixtures/ktests", "--filter", "use_after_free"]);
    expect(r.out).toContain("unsafe ");
    expect(r.out).not.toContain("unsafe regions not run");
  });

  test("--lcov writes FN/FNDA/FNF/FNH records for the functions, then the unsafe regions", async () => {
    const lcov = await lcovOf(["test", DIR]);
    expect(lcov.startsWith(`TN:\nSF:${FILE}\n`)).toBe(true);
    expect(lcov).toContain(
      [
        "FN:4,never_called",
        "FN:13,maybe",
        "FN:24,{closure}",
        "FN:4,unsafe-fn@4",
        "FN:15,unsafe-block@15",
        "FN:25,unsafe-block@25",
        "FNDA:0,never_called",
        "FNDA:1,maybe",
        "FNDA:1,{closure}",
        "FNDA:0,unsafe-fn@4",
        "FNDA:0,unsafe-block@15",
        "FNDA:1,unsafe-block@25",
        "FNF:6",
        "FNH:3",
        "DA:",
      ].join("\n"),
    );
    expect(lcov).toMatch(/LF:\d+\nLH:\d+\nend_of_record\n$/);
  });
});

describe("hit counts (real engine)", () => {
  const COUNTS = "test/fixtures/hit-counts";
  const CFILE = `${COUNTS}/counts.ts`;
  /** The regions of counts.ts: `poke` called 5 + 2 times, the loop's block entered 5 times in one test, 2 in the other. */
  const counted = (k: number) => [
    { file: CFILE, line: 4, endLine: 11, kind: "function", hits: 7 * k },
    { file: CFILE, line: 17, endLine: 19, kind: "block", hits: 5 * k },
    { file: CFILE, line: 26, endLine: 28, kind: "block", hits: 2 * k },
  ];
  const line = (json: { coverage: CoverageReport }, n: number) => json.coverage.lines![CFILE]!.find((l) => l.line === n);

  test("--json: a region's hits and a line's hits count the runs, summed over the tests", async () => {
    const r = await kmiri(["test", COUNTS, "--json"]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(json.coverage.unsafeRegions).toEqual(counted(1));
    expect(line(json, 16)).toEqual({ line: 16, hit: true, hits: 5 }); // `sum += i;`, 5 iterations
    expect(line(json, 7)).toEqual({ line: 7, hit: true, hits: 7 }); // in `poke`
    // Calls per function: `poke` 7 times, the empty `noop` 3 (a counter of its own, which is no
    // line), each ktest's body once.
    expect(json.coverage.functions).toEqual([
      { file: CFILE, name: "poke", line: 4, endLine: 11, hits: 7 },
      { file: CFILE, name: "{closure}", line: 13, endLine: 22, hits: 1 },
      { file: CFILE, name: "{closure}", line: 24, endLine: 30, hits: 1 },
      { file: CFILE, name: "noop", line: 33, endLine: 33, hits: 3 },
      { file: CFILE, name: "{closure}", line: 35, endLine: 39, hits: 1 },
    ]);
    expect(json.coverage.lines[CFILE].map((l: { line: number }) => l.line)).not.toContain(0);
    expect(json.coverage.lines[CFILE].map((l: { line: number }) => l.line)).not.toContain(33);
    expect(line(json, 15)).toEqual({ line: 15, hit: true, hits: 1 }); // the `for` itself
    // the covered counts stay counts of lines and regions, not of runs
    expect(json.coverage.modules[0]).toMatchObject({ unsafe: { covered: 3, total: 3 } });
    expect(json.coverage.total.lines.covered).toBe(json.coverage.total.lines.total);
  });

  test("--lcov: DA and FNDA carry the counts", async () => {
    const lcov = await lcovOf(["test", COUNTS]);
    // Two `{closure}`s (the ktests' bodies) are told apart by their lines.
    expect(lcov).toContain("FN:4,poke\nFN:13,{closure}@13\nFN:24,{closure}@24\nFN:33,noop\nFN:35,{closure}@35\nFN:4,unsafe-fn@4\n");
    expect(lcov).toContain(
      "FNDA:7,poke\nFNDA:1,{closure}@13\nFNDA:1,{closure}@24\nFNDA:3,noop\nFNDA:1,{closure}@35\n" +
        "FNDA:7,unsafe-fn@4\nFNDA:5,unsafe-block@17\nFNDA:2,unsafe-block@26\nFNF:8\nFNH:8\n",
    );
    expect(lcov).toContain("DA:7,7\n");
    expect(lcov).toContain("DA:16,5\n");
    expect(lcov).toContain("DA:27,2\n");
  });

  test("--many-seeds sums over the seeds: 4 seeds show 4 times the counts, on workers and in-process", async () => {
    const r = await kmiri(["test", COUNTS, "--many-seeds", "0..4", "--workers", "2", "--json"]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(json.coverage.unsafeRegions).toEqual(counted(4));
    expect(json.coverage.functions.map((f: { hits: number }) => f.hits)).toEqual([28, 4, 4, 12, 4]);
    expect(line(json, 16)).toEqual({ line: 16, hit: true, hits: 20 });
    const here = await testPath(COUNTS, { manySeeds: { from: 0, to: 4, workers: 0 } });
    expect(here.coverage.unsafeRegions).toEqual(json.coverage.unsafeRegions);
    expect(here.coverage.lines).toEqual(json.coverage.lines);
  });
});

describe("unsafe regions (renderers)", () => {
  const total = { module: "total", tests: 0, lines: { covered: 0, total: 0 }, unsafe: { covered: 0, total: 0 }, nativeMs: 0, checkedMs: 0 };

  test("lcov without unsafe regions has no FN records; names on one line are made unique", () => {
    const plain: CoverageReport = { modules: [], total, lines: { "a.ts": [{ line: 1, hit: true }] } };
    expect(toLcov(plain)).toBe("TN:\nSF:a.ts\nDA:1,1\nLF:1\nLH:1\nend_of_record\n");
    const counted: CoverageReport = { modules: [], total, lines: { "a.ts": [{ line: 1, hit: true, hits: 12 }, { line: 2, hit: false, hits: 0 }] } };
    expect(toLcov(counted)).toBe("TN:\nSF:a.ts\nDA:1,12\nDA:2,0\nLF:2\nLH:1\nend_of_record\n");
    const twice: CoverageReport = {
      ...plain,
      unsafeRegions: [
        { file: "a.ts", line: 1, endLine: 1, kind: "block", hits: 1 },
        { file: "a.ts", line: 1, endLine: 1, kind: "block", hits: 0 },
      ],
    };
    expect(toLcov(twice)).toBe(
      "TN:\nSF:a.ts\nFN:1,unsafe-block@1\nFN:1,unsafe-block@1#2\nFNDA:1,unsafe-block@1\nFNDA:0,unsafe-block@1#2\nFNF:2\nFNH:1\nDA:1,1\nLF:1\nLH:1\nend_of_record\n",
    );
  });

  test("the unrun list is empty without regions or when all ran", () => {
    expect(renderUnrunUnsafeRegions({ modules: [], total })).toBe("");
    expect(renderUnrunUnsafeRegions({ modules: [], total, unsafeRegions: [{ file: "a.ts", line: 2, endLine: 5, kind: "function", hits: 1 }] })).toBe("");
    expect(renderUnrunUnsafeRegions({ modules: [], total, unsafeRegions: [{ file: "a.ts", line: 2, endLine: 5, kind: "function", hits: 0 }] })).toBe(
      "unsafe regions not run:\n  a.ts:2-5 (function)",
    );
  });
});
