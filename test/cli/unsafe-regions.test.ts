/**
 * Unsafe regions as data (issue 16): `coverage.unsafeRegions` in `--json`, the unrun regions
 * under the text coverage table, and `FN`/`FNDA`/`FNF`/`FNH` records in `--lcov`, on
 * test/fixtures/unsafe-regions (one unsafe block run, one not, an unsafe function never called).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { kmiri } from "../support/cli-in-process.js";
import { main } from "../../src/cli/main.js";
import { loadEngine } from "../../src/cli/engine.js";
import type { CliIO } from "../../src/cli/io.js";
import { toLcov } from "../../src/cli/lcov.js";
import { renderUnrunUnsafeRegions } from "../../src/driver/render/render-tests.js";
import type { CoverageReport } from "../../src/driver/results.js";

const DIR = "test/fixtures/unsafe-regions";
const FILE = `${DIR}/regions.ts`;
const REGIONS = [
  { file: FILE, line: 4, endLine: 11, kind: "function", hits: 0 },
  { file: FILE, line: 15, endLine: 19, kind: "block", hits: 0 },
  { file: FILE, line: 25, endLine: 30, kind: "block", hits: 1 },
];

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

  test("--lcov writes FN/FNDA/FNF/FNH records for the unsafe regions", async () => {
    const written: Record<string, string> = {};
    let err = "";
    const io: CliIO = {
      stdout: () => {},
      stderr: (t) => void (err += t),
      stdoutIsTTY: false,
      stderrIsTTY: false,
      env: { NO_COLOR: "1" },
      cwd: process.cwd(),
      engine: loadEngine,
      readFile: (p) => {
        try {
          return readFileSync(path.resolve(p), "utf8");
        } catch {
          return undefined;
        }
      },
      writeFile: (p, text) => void (written[p] = text),
    };
    expect(await main(["test", DIR, "--lcov", "cov.lcov"], io)).toBe(0);
    expect(err).toBe("");
    const lcov = written["cov.lcov"]!;
    expect(lcov.startsWith(`TN:\nSF:${FILE}\n`)).toBe(true);
    expect(lcov).toContain(
      [
        "FN:4,unsafe-fn@4",
        "FN:15,unsafe-block@15",
        "FN:25,unsafe-block@25",
        "FNDA:0,unsafe-fn@4",
        "FNDA:0,unsafe-block@15",
        "FNDA:1,unsafe-block@25",
        "FNF:3",
        "FNH:1",
        "DA:",
      ].join("\n"),
    );
    expect(lcov).toMatch(/LF:\d+\nLH:\d+\nend_of_record\n$/);
  });
});

describe("unsafe regions (renderers)", () => {
  const total = { module: "total", tests: 0, lines: { covered: 0, total: 0 }, unsafe: { covered: 0, total: 0 }, nativeMs: 0, checkedMs: 0 };

  test("lcov without unsafe regions has no FN records; names on one line are made unique", () => {
    const plain: CoverageReport = { modules: [], total, lines: { "a.ts": [{ line: 1, hit: true }] } };
    expect(toLcov(plain)).toBe("TN:\nSF:a.ts\nDA:1,1\nLF:1\nLH:1\nend_of_record\n");
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
