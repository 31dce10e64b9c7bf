/**
 * Which tests `kmiri test` runs, with vitest's and Playwright's habits: several PATHs, `--include`
 * and `--exclude` globs, a compiled `.js` beside its `.ts` skipped, and `--shard i/n` for
 * `kmiri test` (tests), `kmiri test --many-seeds` (tests, each with every seed) and
 * `kmiri run --many-seeds` (seeds). Real runs, read through `--json`. The `--many-seeds` runs use
 * the built package's worker (`npm run build` first, as `npm test` does).
 */
import { describe, expect, test } from "vitest";
import { parseArgs } from "../../src/cli/args.js";
import { testPath } from "../../src/driver/test-path.js";
import { findTestFiles } from "../../src/driver/run.js";
import { kmiri } from "../support/cli-in-process.js";

const DIR = "test/fixtures/selection";
const ALL = ["a/alpha.ts::one", "a/alpha.ts::two", "a/legacy/old.ts::old", "b/beta.spec.ts::beta", "b/delta.mjs::delta", "b/gamma.ts::gamma_1", "b/gamma.ts::gamma_2", "b/gamma.ts::gamma_3"];

interface TestJson {
  exitCode: number;
  tests: { module: string; name: string; status: string; failingSeeds?: number[] }[];
  shard?: { index: number; count: number; total: number };
  error?: { kind: string; message: string };
}

/** `kmiri test ARGS --json`: the JSON object and the names `dir/file::test` of the tests that ran. */
async function kmiriTest(args: string[]): Promise<{ json: TestJson; names: string[]; code: number }> {
  const r = await kmiri(["test", ...args, "--json"]);
  const json = JSON.parse(r.out) as TestJson;
  return { json, code: r.code, names: (json.tests ?? []).map((t) => `${t.module.replace(`${DIR}/`, "")}::${t.name}`) };
}

describe("several paths", () => {
  test("the union of their test files, de-duplicated, in the order of one walk", async () => {
    const whole = await kmiriTest([DIR]);
    expect(whole.code).toBe(0);
    expect(whole.names).toEqual(ALL);
    // Other order, overlapping: the same tests once each, in the same order.
    const parts = await kmiriTest([`${DIR}/b`, `${DIR}/a`, `${DIR}/b/gamma.ts`, `${DIR}/a/alpha.ts`]);
    expect(parts.names).toEqual(ALL);
    expect((await kmiriTest([`${DIR}/b/gamma.ts`, `${DIR}/a/legacy`])).names).toEqual(["a/legacy/old.ts::old", "b/gamma.ts::gamma_1", "b/gamma.ts::gamma_2", "b/gamma.ts::gamma_3"]);
  });

  test("the library takes a list too, and one path as before", async () => {
    const r = await testPath([`${DIR}/b/beta.spec.ts`, `${DIR}/a/legacy`]);
    expect(r.tests.map((t) => t.name)).toEqual(["old", "beta"]);
    expect((await testPath(`${DIR}/b/beta.spec.ts`)).tests.map((t) => t.name)).toEqual(["beta"]);
  });

  test("a missing path is a load error naming it", async () => {
    const r = await kmiri(["test", DIR, `${DIR}/nope`, "--json"]);
    expect(r.code).toBe(2);
    const json = JSON.parse(r.out) as TestJson;
    expect(json.error).toMatchObject({ kind: "load" });
    expect(json.error!.message).toMatch(/^cannot find .*selection[/\\]nope: no such file or directory$/);
  });

  test("parsed: `path` is a list when there are several; `run` still takes one FILE", () => {
    expect(parseArgs(["test", "a", "b", "--seed", "1", "c"])).toMatchObject({ command: "test", path: ["a", "b", "c"] });
    expect(parseArgs(["test", "a"])).toMatchObject({ command: "test", path: "a" });
    expect(() => parseArgs(["run", "a.ts", "b.ts"])).toThrow("unexpected argument `b.ts`: `kmiri run` takes one FILE");
  });
});

describe("--include and --exclude", () => {
  test("include: only matching files; braces as in vitest's `**/*.{test,spec}.ts`", async () => {
    expect((await kmiriTest([DIR, "--include", "**/*.{test,spec}.ts"])).names).toEqual(["b/beta.spec.ts::beta"]);
    expect((await kmiriTest([DIR, "--include", `${DIR}/b/g*.ts`, "--include", "*.mjs"])).names).toEqual(["b/delta.mjs::delta", "b/gamma.ts::gamma_1", "b/gamma.ts::gamma_2", "b/gamma.ts::gamma_3"]);
  });

  test("exclude wins; a name matches anywhere; a directory excludes what is under it", async () => {
    expect((await kmiriTest([DIR, "--exclude", "legacy", "--exclude", "*.mjs"])).names).toEqual(["a/alpha.ts::one", "a/alpha.ts::two", "b/beta.spec.ts::beta", "b/gamma.ts::gamma_1", "b/gamma.ts::gamma_2", "b/gamma.ts::gamma_3"]);
    expect((await kmiriTest([DIR, "--include", `${DIR}/a`, "--exclude", `${DIR}/a/legacy/**`])).names).toEqual(["a/alpha.ts::one", "a/alpha.ts::two"]);
    expect((await kmiriTest([DIR, "--include", "*.ts", "--exclude", "*.ts"])).names).toEqual([]);
  });

  test("library options; repeatable on the command line; a malformed glob is a usage error", async () => {
    const r = await testPath(DIR, { include: ["**/gamma.ts"], exclude: "never-there" });
    expect(r.tests.map((t) => t.name)).toEqual(["gamma_1", "gamma_2", "gamma_3"]);
    expect(parseArgs(["test", "src", "--include", "a", "--exclude", "b", "--include=c"])).toMatchObject({ flags: { include: ["a", "c"], exclude: ["b"] } });
    const bad = await kmiri(["test", DIR, "--include", "src/{a,b"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("error: invalid value `src/{a,b` for `--include`: unclosed `{` in the glob pattern `src/{a,b`");
    expect(() => parseArgs(["run", "a.ts", "--exclude", "x"])).toThrow("option `--exclude` is only for `kmiri test`");
  });
});

describe("a compiled .js beside its .ts", () => {
  test("is not a module under test in a directory; a .mjs without a source is", () => {
    const files = findTestFiles(DIR).map((f) => f.split(/[/\\]/).slice(-2).join("/"));
    expect(files).toContain("a/alpha.ts");
    expect(files).not.toContain("a/alpha.js");
    expect(files).toContain("b/delta.mjs");
  });

  test("named on the command line, it is taken as given (and loaded as its source, `x.js` being `x.ts`)", async () => {
    expect(findTestFiles(`${DIR}/a/alpha.js`).map((f) => f.split(/[/\\]/).pop())).toEqual(["alpha.js"]);
    expect((await kmiriTest([`${DIR}/a/alpha.js`])).names).toEqual(["a/alpha.ts::one", "a/alpha.ts::two"]);
  });
});

describe("--shard i/n for kmiri test", () => {
  test("shards are disjoint, their union is the unsharded run, each is deterministic", async () => {
    for (const count of [1, 2, 3, 5, 9]) {
      const shards: string[][] = [];
      for (let index = 1; index <= count; index++) {
        const r = await kmiriTest([DIR, "--shard", `${index}/${count}`]);
        expect(r.json.shard).toEqual({ index, count, total: ALL.length });
        expect(r.code).toBe(0);
        shards.push(r.names);
      }
      expect(shards.flat()).toEqual(ALL);
      expect(new Set(shards.flat()).size).toBe(ALL.length);
      // Sizes differ by at most one (9 shards of 8 tests: one is empty).
      const sizes = shards.map((s) => s.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
    const again = await kmiriTest([DIR, "--shard", "2/3"]);
    expect(again.names).toEqual((await kmiriTest([DIR, "--shard", "2/3"])).names);
  });

  test("after --filter and --exclude; the text output says which shard ran", async () => {
    const selected = (await kmiriTest([DIR, "-t", "gamma", "-t", "alpha"])).names;
    expect(selected).toHaveLength(5);
    const shards = [(await kmiriTest([DIR, "-t", "gamma", "-t", "alpha", "--shard", "1/2"])).names, (await kmiriTest([DIR, "-t", "gamma", "-t", "alpha", "--shard", "2/2"])).names];
    expect(shards).toEqual([selected.slice(0, 2), selected.slice(2)]);
    const text = await kmiri(["test", DIR, "--exclude", "legacy", "--shard", "2/3"]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^shard 2\/3: 2 of 7 tests\n/m);
    expect(text.out).toContain("running 2 tests");
  });

  test("without --shard the JSON has no shard field", async () => {
    expect((await kmiriTest([`${DIR}/b/beta.spec.ts`])).json).not.toHaveProperty("shard");
  });

  test("test --many-seeds: the tests are split, each keeps every seed's result", async () => {
    const seeds = ["--many-seeds", "0..12", "--workers", "2"];
    const whole = await kmiriTest(["test/fixtures/ktests-seeds", DIR, ...seeds]);
    const failing = (j: TestJson) => j.tests.map((t) => [`${t.module}::${t.name}`, t.failingSeeds]);
    const parts = [];
    for (let index = 1; index <= 3; index++) {
      const r = await kmiriTest(["test/fixtures/ktests-seeds", DIR, ...seeds, "--shard", `${index}/3`]);
      expect(r.json.shard).toEqual({ index, count: 3, total: whole.json.tests.length });
      parts.push(...failing(r.json));
    }
    expect(parts).toEqual(failing(whole.json));
    // `racy` fails for some seeds, and its list is the same in its shard as in the whole run.
    expect(whole.json.tests.find((t) => t.name === "racy")!.failingSeeds!.length).toBeGreaterThan(0);
  });
});

describe("--shard i/n for kmiri run --many-seeds", () => {
  const PROGRAM = "test/fixtures/schedule/pct-order.ts";
  interface SeedsJson {
    seed: number;
    exitCode: number;
    seeds: { seed: number; exitCode: number }[];
    failed: number[];
    shard?: { index: number; count: number; from: number; to: number };
  }
  const run = async (args: string[]) => JSON.parse((await kmiri(["run", PROGRAM, "--many-seeds", "3..23", "--pct", "2", "--workers", "2", "--json", ...args])).out) as SeedsJson;

  test("the seeds are split: disjoint, their union is the whole range, each deterministic", async () => {
    const whole = await run([]);
    expect(whole).not.toHaveProperty("shard");
    expect(whole.failed.length).toBeGreaterThan(0);
    const parts: SeedsJson[] = [];
    for (let index = 1; index <= 3; index++) parts.push(await run(["--shard", `${index}/3`]));
    expect(parts.map((p) => p.shard)).toEqual([
      { index: 1, count: 3, from: 3, to: 9 },
      { index: 2, count: 3, from: 9, to: 16 },
      { index: 3, count: 3, from: 16, to: 23 },
    ]);
    // `seed` is still A, the start of the range given.
    expect(parts.map((p) => p.seed)).toEqual([3, 3, 3]);
    expect(parts.flatMap((p) => p.seeds)).toEqual(whole.seeds);
    expect(parts.flatMap((p) => p.failed)).toEqual(whole.failed);
    const timeless = (j: SeedsJson) => ({ ...j, stats: { ...(j as unknown as { stats: object }).stats, ms: 0 } });
    expect(timeless(await run(["--shard", "2/3"]))).toEqual(timeless(parts[1]!));
  });

  test("the text output says which seeds ran", async () => {
    const r = await kmiri(["run", PROGRAM, "--many-seeds", "0..8", "--shard", "3/3", "--workers", "1"]);
    expect(r.err).toMatch(/^shard 3\/3: seeds 5\.\.8, 3 of 8 seeds\n/);
    expect(r.err).toMatch(/\d\/3 SEEDS FAILED\n$/);
  });
});

describe("invalid --shard", () => {
  test.each([
    ["0/3", "invalid value `0/3` for `--shard`: the shard index must be from 1 to 3 (shards are numbered from 1)"],
    ["4/3", "invalid value `4/3` for `--shard`: the shard index must be from 1 to 3 (shards are numbered from 1)"],
    ["1/0", "invalid value `1/0` for `--shard`: the count of shards must be 1 or more"],
    ["two/three", "invalid value `two/three` for `--shard`: expected `INDEX/COUNT`, e.g. `--shard 2/3` for the second of three shards"],
    ["2", "invalid value `2` for `--shard`: expected `INDEX/COUNT`"],
    ["-1/3", "invalid value `-1/3` for `--shard`: expected `INDEX/COUNT`"],
  ])("%s", async (value, message) => {
    expect(() => parseArgs(["test", "src", "--shard", value])).toThrow(message);
    const r = await kmiri(["test", DIR, `--shard=${value}`, "--json"]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out).error).toMatchObject({ kind: "usage" });
  });

  test("run: only with --many-seeds, and not more shards than seeds; never with --replay; not for corpus", async () => {
    const schedule = (JSON.parse((await kmiri(["run", "examples/hello.ts", "--json"])).out) as { schedule: string }).schedule;
    expect(() => parseArgs(["test", "src", "--shard", "1/2", "--replay", schedule])).toThrow("`--shard` and `--replay` cannot be used together: a replay string is one run");
    expect(() => parseArgs(["run", "a.ts", "--shard", "1/2"])).toThrow("`--shard` for `kmiri run` needs `--many-seeds A..B`: it splits the seeds");
    expect(() => parseArgs(["run", "a.ts", "--many-seeds", "0..2", "--shard", "1/3"])).toThrow("`--shard 1/3` splits the seeds of `--many-seeds 0..2` into more shards than there are seeds (2)");
    expect(parseArgs(["run", "a.ts", "--many-seeds", "0..3", "--shard", "3/3"])).toMatchObject({ flags: { shard: { index: 3, count: 3 } } });
    expect(() => parseArgs(["corpus", "dir", "--shard", "1/2"])).toThrow("option `--shard` is only for `kmiri run` and `kmiri test`");
    expect(() => parseArgs(["test", "src", "--shrad", "1/2"])).toThrow("did you mean `--shard`?");
  });
});
