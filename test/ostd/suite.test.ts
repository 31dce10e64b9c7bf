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
  tests: { name: string; module: string; status: string; threads?: number; failingSeeds?: number[] }[];
  coverage: { modules: Row[]; total: Row };
  exitCode: number;
}

let result: TestJson;

/** `kmiri test src/ostd-under-test ARGS --json`, asynchronously (see below). */
function kmiriTest(args: string[]): Promise<TestJson> {
  return new Promise<TestJson>((done, fail) => {
    execFile(
      process.execPath,
      [join(ROOT, "bin", "kmiri.js"), "test", "src/ostd-under-test", ...args, "--json"],
      { cwd: ROOT, encoding: "utf8", maxBuffer: 256 * 1024 * 1024, env: { ...process.env, NO_COLOR: "1" } },
      // A failing test exits 1 with the JSON still on stdout: the assertions below say what failed.
      (err, out) => (out ? done(JSON.parse(out) as TestJson) : fail(err ?? new Error("kmiri test printed nothing"))),
    );
  });
}

// The suite runs for about a minute: asynchronously, so that the worker keeps answering vitest
// (a synchronous spawn blocks its event loop and vitest's RPC times out).
beforeAll(async () => {
  result = await kmiriTest(["--coverage-by", "dir"]);
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

  test("the multi-CPU tests pass on every seed of 0..32", async () => {
    // The tests that ran more than one thread (a CPU each on Mirch), found from the run itself.
    const smp = result.tests.filter((t) => (t.threads ?? 1) > 1);
    expect(smp.length).toBeGreaterThanOrEqual(10);
    // (A time limit per run: a schedule that livelocks is a failing seed, not a hung suite.)
    const seeds = await kmiriTest(["--many-seeds", "0..32", "--timeout", "60", ...smp.flatMap((t) => ["--filter", `${t.module}::${t.name}`])]);
    // (A filter is a substring: a test whose name extends another's runs too.)
    const ran = new Set(seeds.tests.map((t) => `${t.module}::${t.name}`));
    expect(smp.filter((t) => !ran.has(`${t.module}::${t.name}`))).toEqual([]);
    const failing = seeds.tests.filter((t) => t.status !== "pass").map((t) => `${t.module}::${t.name} seeds ${t.failingSeeds?.join(",")}`);
    expect(failing).toEqual([]);
  }, 1_200_000);

  test("every unsafe region of the port is covered", () => {
    const unrun = result.coverage.modules.filter((r) => r.unsafe.covered < r.unsafe.total).map((r) => `${r.module}: ${r.unsafe.covered}/${r.unsafe.total}`);
    expect(unrun).toEqual([]);
  });
});
