/**
 * The project's UB corpus (test/corpus) and the corpus checker itself: every fail program is
 * reported with its annotated kinds at its annotated lines and nothing else, every pass program
 * runs clean (and prints the same natively), and a corpus file that does not match is caught.
 */
import { describe, expect, test } from "vitest";
import { readFileSync } from "node:fs";
import path from "node:path";
import { checkCorpus, checkCorpusFile, corpusFiles, parseCorpusFile } from "../../src/driver/corpus.js";
import { LoadError } from "../../src/interp/loader/index.js";
import { runFile } from "../../src/driver/run.js";

describe("the project corpus", async () => {
  const result = await checkCorpus("test/corpus");

  test.each(result.cases.map((c) => [c.file, c]))("%s", (_file, c) => {
    expect(c.problems).toEqual([]);
    if (c.file.includes("/fail/")) {
      expect(c.expected.length).toBeGreaterThan(0);
      expect(c.ub.map((u) => [u.kind, u.location.line]).sort()).toEqual(c.expected.map((x) => [x.kind, x.line]).sort());
    } else {
      expect(c.expected).toEqual([]);
      expect(c.ub).toEqual([]);
    }
  });

  test("pass programs print the same natively", async () => {
    for (const f of corpusFiles("test/corpus/pass")) {
      // The file's own `//@ flags:` (a borrow model, leaks ignored, …), with one schedule that runs
      // each thread as far as it goes, as the native runtime does.
      const { manySeeds: _many, pct: _pct, pctSteps: _steps, ...flags } = parseCorpusFile(f, readFileSync(f, "utf8")).flags;
      const checked = await runFile(f, { ...flags, preemptionRate: 0 });
      expect(checked.ub, f).toEqual([]);
      const native = await runFile(f, { native: true });
      expect(native.output, f).toEqual(checked.output);
    }
  });
});

describe("the corpus checker", () => {
  const meta = (f: string) => path.join("test/fixtures/corpus-meta", f);

  test("an annotation at the wrong line fails, naming both", async () => {
    const c = await checkCorpusFile(meta("wrong-line.ts"));
    expect(c.ok).toBe(false);
    expect(c.problems).toEqual([
      expect.stringMatching(/^unexpected use-after-free at test\/fixtures\/corpus-meta\/wrong-line.ts:7:/),
      "expected use-after-free at line 5, not reported",
    ]);
  });

  test("the wrong kind fails", async () => {
    const c = await checkCorpusFile(meta("wrong-kind.ts"));
    expect(c.ok).toBe(false);
    expect(c.problems[0]).toMatch(/^unexpected null-pointer at .*:5:/);
  });

  test("UB in a file without annotations fails", async () => {
    const c = await checkCorpusFile(meta("unannotated-ub.ts"));
    expect(c.ok).toBe(false);
    expect(c.problems).toEqual([expect.stringMatching(/^unexpected double-free at .*:7:/)]);
  });

  test("a panic is not a clean run", async () => {
    const c = await checkCorpusFile(meta("panics.ts"));
    expect(c.ok).toBe(false);
    expect(c.problems).toEqual([expect.stringMatching(/^panicked at .*panics.ts:4: not clean$/)]);
  });

  test("an unknown kind in an annotation fails that file, with the kinds listed", async () => {
    const c = await checkCorpusFile(meta("unknown-kind.ts"));
    expect(c.ok).toBe(false);
    expect(c.problems).toEqual([expect.stringMatching(/unknown-kind.ts:2: unknown UB kind `use-after-fre`.*use-after-free/)]);
    expect(() => parseCorpusFile("x.ts", "//~ ERROR: nope")).toThrow(LoadError);
  });

  test("a corpus directory is checked file by file, a bad file failing alone", async () => {
    const r = await checkCorpus("test/fixtures/corpus-meta");
    expect(r.cases.map((c) => c.file.replace(/.*\//, ""))).toEqual([
      "panics.ts", "unannotated-ub.ts", "unknown-kind.ts", "wrong-kind.ts", "wrong-line.ts",
    ]);
    expect(r.failed).toBe(5);
  });

  test("flags come from the first line", () => {
    expect(parseCorpusFile("x.ts", "//@ flags: --seed 3 --preemption-rate 0.5 --ignore-leaks\n").flags).toEqual({
      seed: 3,
      preemptionRate: 0.5,
      ignoreLeaks: true,
    });
    expect(() => parseCorpusFile("x.ts", "//@ flags: --frobnicate\n")).toThrow(/unknown flag `--frobnicate`/);
  });
});

describe("the corpus checker with several seeds (`--many-seeds`, `--pct`)", () => {
  const seeds = (f: string) => path.join("test/fixtures/corpus-seeds", f);

  test("the flags parse", () => {
    expect(parseCorpusFile("x.ts", "//@ flags: --many-seeds 3..7 --pct 2 --pct-steps 40\n").flags).toEqual({
      manySeeds: { from: 3, to: 7 },
      pct: 2,
      pctSteps: 40,
    });
    expect(() => parseCorpusFile("x.ts", "//@ flags: --many-seeds 5..5\n")).toThrow(/needs a range of seeds/);
  });

  test("an annotated file passes when some seed reports exactly its annotations and no seed reports anything else", async () => {
    const c = await checkCorpusFile(seeds("found.ts"));
    expect(c.problems).toEqual([]);
    expect(c.ok).toBe(true);
    expect(c.failingSeeds!.length).toBeGreaterThan(0);
    expect(c.ub.map((u) => [u.kind, u.location.line])).toEqual([["data-race", 18]]);
  });

  test("a file without annotations must be clean on every seed", async () => {
    const c = await checkCorpusFile(seeds("unannotated.ts"));
    expect(c.ok).toBe(false);
    expect(c.problems[0]).toMatch(/^seed \d+: unexpected data-race at .*unannotated.ts:18:/);
  });

  test("an annotation no seed matches fails, naming the seeds that reported something", async () => {
    const c = await checkCorpusFile(seeds("wrong-line.ts"));
    expect(c.ok).toBe(false);
    expect(c.problems.at(-1)).toMatch(/^no seed in 0\.\.10 reported data-race at line 19 \(seeds that reported something: \d/);
  });
});
