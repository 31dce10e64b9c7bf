/**
 * `runManySeeds` and `kmiri run --many-seeds`: one run per seed on worker threads (the built
 * package: `npm run build` first, as `npm test` does), results independent of the number of
 * workers, the failing seeds listed as Miri lists them.
 */
import { describe, expect, test } from "vitest";
import { existsSync } from "node:fs";
import path from "node:path";
import { runManySeeds, type ManySeedsResult } from "../../src/driver/many-seeds.js";
import { runFile } from "../../src/driver/run.js";
import { LoadError } from "../../src/interp/loader/index.js";
import { kmiri } from "../support/cli-in-process.js";

const FILE = "test/fixtures/schedule/racy-panic.ts";
const BUILT = existsSync(path.resolve("dist/driver/many-seeds-worker.js"));

/** A result without its wall-clock times (not part of any determinism guarantee). */
function timeless(r: ManySeedsResult) {
  return { ...r, stats: { ...r.stats, ms: 0 }, seeds: r.seeds.map((s) => ({ ...s, stats: { ...s.stats, ms: 0 } })) };
}

let failing: number[] | undefined;
/** The seeds in 0..20 whose run of {@link FILE} fails, each run alone with `runFile`. */
async function failingSeeds(): Promise<number[]> {
  if (!failing) {
    failing = [];
    for (let seed = 0; seed < 20; seed++) if ((await runFile(FILE, { seed })).exitCode !== 0) failing.push(seed);
  }
  return failing;
}


describe("runManySeeds", () => {
  test("the worker script is built (`npm test` builds it first)", () => {
    expect(BUILT, "dist/ is missing: run `npm run build`").toBe(true);
  });

  test("seeds 0..20 of a racy program: the failing seeds, identical with 1 and 2 workers and in-process", async () => {
    const progress: number[] = [];
    const one = await runManySeeds(FILE, { from: 0, to: 20, workers: 1, onProgress: (p) => progress.push(p.done) });
    const two = await runManySeeds(FILE, { from: 0, to: 20, workers: 2 });
    const here = await runManySeeds(FILE, { from: 0, to: 20, workers: 0 });
    expect(timeless(two)).toEqual(timeless(one));
    expect(timeless(here)).toEqual(timeless(one));
    expect(progress).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));

    expect(one.seeds.map((s) => s.seed)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(one.failed.length).toBeGreaterThan(0);
    expect(one.failed.length).toBeLessThan(20);
    expect(one.failed).toEqual(await failingSeeds());
    expect(one.exitCode).toBe(1);
    for (const s of one.seeds) {
      expect(s.exitCode).toBe(one.failed.includes(s.seed) ? 1 : 0);
      if (s.exitCode) expect(s.panic?.message).toMatch(/^b ran first and a last: /);
      expect(s.schedule).toMatch(new RegExp(`^${s.seed.toString(36)}:`));
    }
    // Each seed's run is `kmiri run --seed N`'s.
    for (const seed of [one.failed[0], 0]) {
      const alone = await runFile(FILE, { seed });
      expect(alone.schedule).toBe(one.seeds[seed].schedule);
      expect(alone.exitCode).toBe(one.seeds[seed].exitCode);
    }
  });

  test("options reach every run: PCT, the preemption rate", async () => {
    const pct = await runManySeeds("test/fixtures/schedule/pct-order.ts", { from: 0, to: 10, workers: 2, pct: 2 });
    for (const s of pct.seeds) expect((await runFile("test/fixtures/schedule/pct-order.ts", { seed: s.seed, pct: 2 })).schedule).toBe(s.schedule);
    const fixed = await runManySeeds(FILE, { from: 5, to: 8, workers: 2, preemptionRate: 0 });
    expect(fixed.failed).toEqual([]);
    expect(fixed.seeds.map((s) => s.seed)).toEqual([5, 6, 7]);
  });

  test("a program that cannot be loaded rejects with its LoadError; so does one without main", async () => {
    await expect(runManySeeds("test/fixtures/schedule/missing.ts", { from: 0, to: 4, workers: 2 })).rejects.toBeInstanceOf(LoadError);
    await expect(runManySeeds("examples/ktests.ts", { from: 0, to: 4, workers: 2 })).rejects.toThrow(/has no exported `main`/);
  });

  test("aborting terminates the workers and rejects", async () => {
    const ac = new AbortController();
    const p = runManySeeds(FILE, { from: 0, to: 1000, workers: 2, signal: ac.signal, onProgress: (x) => x.done === 3 && ac.abort(new Error("stop")) });
    await expect(p).rejects.toThrow("stop");
  });

  test("no worker outlives the call", async () => {
    const workers = () => (process.getActiveResourcesInfo?.() ?? []).filter((r) => /Worker|MessagePort/.test(r)).length;
    const before = workers();
    await runManySeeds(FILE, { from: 0, to: 6, workers: 2 });
    await new Promise((r) => setTimeout(r, 50));
    expect(workers()).toBe(before);
  });
});

describe("kmiri run --many-seeds", () => {
  test("FAILING SEED lines with the first report of each, then the summary; exit 1", async () => {
    const r = await kmiri(["run", FILE, "--many-seeds", "0..20", "--workers", "2"]);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).not.toContain("\r");
    const seeds = [...r.err.matchAll(/^FAILING SEED: (\d+)$/gm)].map((m) => Number(m[1]));
    const expected = await failingSeeds();
    expect(seeds).toEqual(expected);
    expect(r.err).toContain(`FAILING SEED: ${expected[0]}
thread 'main' panicked at test/fixtures/schedule/racy-panic.ts:21:60:
b ran first and a last: `);
    expect(r.err.trimEnd().split("\n").at(-1)).toBe(`${expected.length}/20 SEEDS FAILED`);
  });

  test("a deadlock's first report, with its replay string", async () => {
    const r = await kmiri(["run", "test/fixtures/schedule/deadlock.ts", "--many-seeds", "2..4"]);
    expect(r.code).toBe(1);
    expect(r.err.match(/^FAILING SEED: \d+$/gm)).toEqual(["FAILING SEED: 2", "FAILING SEED: 3"]);
    expect(r.err.match(/error: the evaluated program deadlocked/g)).toHaveLength(2); // the first of two reports per seed
    expect(r.err).toMatch(/replay this schedule with `--replay 2:/);
    expect(r.err.trimEnd().split("\n").at(-1)).toBe("2/2 SEEDS FAILED");
  });

  test("all seeds pass: exit 0 and `0/N SEEDS FAILED`", async () => {
    const r = await kmiri(["run", "test/fixtures/schedule/spin-wait.ts", "--many-seeds", "..5"]);
    expect(r.code).toBe(0);
    expect(r.err).toBe("0/5 SEEDS FAILED\n");
  });

  test("a progress line on a terminal, updated with \\r and cleared at the end", async () => {
    const r = await kmiri(["run", FILE, "--many-seeds", "0..4", "--workers", "1"], true);
    expect(r.err).toContain("\rmany seeds: 1/4 done");
    expect(r.err).toContain("\rmany seeds: 4/4 done");
    expect(r.err).toMatch(/\r {10,}\r/);
  });

  test("--json: one object with the contract fields, seeds and failed", async () => {
    const r = await kmiri(["run", FILE, "--many-seeds", "0..20", "--json"]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out);
    expect(j.seed).toBe(0);
    expect(j.exitCode).toBe(1);
    const expected = await failingSeeds();
    expect(j.failed).toEqual(expected);
    expect(j.seeds).toHaveLength(20);
    expect(Object.keys(j.seeds[expected[0]]).sort()).toEqual(["exitCode", "panic", "schedule", "seed", "ub"]);
    const clean = j.seeds.find((x: { exitCode: number }) => x.exitCode === 0);
    expect(clean).toMatchObject({ exitCode: 0, ub: [] });
    expect(j.ub).toEqual([]);
    expect(j.stats).toMatchObject({ threads: 60 });
  });

  test("usage errors", async () => {
    for (const [argv, message] of [
      [["run", FILE, "--many-seeds", "5..5"], "the range is empty"],
      [["run", FILE, "--many-seeds", "1-5"], "expected a range of seeds `A..B`"],
      [["run", FILE, "--many-seeds", "0..4", "--seed", "1"], "cannot be used together"],
      [["run", FILE, "--workers", "2"], "`--workers` needs `--many-seeds A..B`"],
      [["corpus", "test/corpus", "--many-seeds", "0..4"], "only for `kmiri run` and `kmiri test`"],
    ] as [string[], string][]) {
      const r = await kmiri(argv);
      expect(r.code).toBe(2);
      expect(r.err).toContain(message);
    }
  });

  test("a missing program exits 2", async () => {
    const r = await kmiri(["run", "test/fixtures/schedule/missing.ts", "--many-seeds", "0..3"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/cannot find/);
  });
});
