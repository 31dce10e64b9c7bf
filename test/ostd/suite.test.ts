/**
 * The main job: the OSTD port (src/ostd-under-test) under `kmiri test`, as the README's first
 * command runs it (one row per module directory). Every test passes on the Machine with every check
 * on and finds no UB; the table's total is the sum of its rows; every unsafe region of the port is
 * run by some test. Needs the built CLI (`npm test` builds first).
 */
import { beforeAll, describe, expect, test } from "vitest";
import { execFile } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

interface Row {
  module: string;
  tests: number;
  lines: { covered: number; total: number };
  unsafe: { covered: number; total: number };
  nativeMs?: number;
  checkedMs?: number;
}
interface TestJson {
  ub: { kind: string; message: string; location?: { file: string; line: number } }[];
  tests: { name: string; module: string; status: string }[];
  coverage: { modules: Row[]; total: Row };
  exitCode: number;
}

let result: TestJson;

// The suite runs for about a minute: asynchronously, so that the worker keeps answering vitest
// (a synchronous spawn blocks its event loop and vitest's RPC times out).
beforeAll(async () => {
  const stdout = await new Promise<string>((done, fail) => {
    execFile(
      process.execPath,
      [join(ROOT, "bin", "kmiri.js"), "test", "src/ostd-under-test", "--coverage-by", "dir", "--json"],
      { cwd: ROOT, encoding: "utf8", maxBuffer: 256 * 1024 * 1024, env: { ...process.env, NO_COLOR: "1" } },
      // A failing test exits 1 with the JSON still on stdout: the assertions below say what failed.
      (err, out) => (out ? done(out) : fail(err ?? new Error("kmiri test printed nothing"))),
    );
  });
  result = JSON.parse(stdout) as TestJson;
}, 600_000);

describe("the OSTD suite (the main job)", () => {
  test("every test passes with no UB", () => {
    const bad = result.tests.filter((t) => t.status !== "pass").map((t) => `${t.module}::${t.name} ${t.status}`);
    expect(bad).toEqual([]);
    expect(result.ub.map((u) => `${u.kind} at ${u.location?.file}:${u.location?.line}: ${u.message}`)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(result.tests.length).toBeGreaterThan(0);
  });

  test("the table's total is the sum of its rows", () => {
    const rows = result.coverage.modules;
    const sum = (f: (r: Row) => number) => rows.reduce((a, r) => a + f(r), 0);
    const total = result.coverage.total;
    expect(total.tests).toBe(sum((r) => r.tests));
    expect(total.lines).toEqual({ covered: sum((r) => r.lines.covered), total: sum((r) => r.lines.total) });
    expect(total.unsafe).toEqual({ covered: sum((r) => r.unsafe.covered), total: sum((r) => r.unsafe.total) });
    expect(total.tests).toBe(result.tests.length);
  });

  test("every unsafe region of the port is covered", () => {
    const unrun = result.coverage.modules.filter((r) => r.unsafe.covered < r.unsafe.total).map((r) => `${r.module}: ${r.unsafe.covered}/${r.unsafe.total}`);
    expect(unrun).toEqual([]);
  });
});
