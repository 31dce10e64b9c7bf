/**
 * The project's UB corpus (test/corpus) and the corpus checker itself: every fail program is
 * reported with its annotated kinds at its annotated lines and nothing else, every pass program
 * runs clean (and prints the same natively), and a corpus file that does not match is caught.
 */
import { describe, expect, test } from "vitest";
import path from "node:path";
import { checkCorpus, checkCorpusFile, corpusFiles } from "../src/interp/corpus.js";
import { LoadError } from "../src/interp/loader/index.js";
import { runFile } from "../src/interp/run.js";

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
      const checked = await runFile(f, { preemptionRate: 0 });
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

  test("an unknown kind in an annotation is an error", async () => {
    await expect(checkCorpusFile(meta("unknown-kind.ts"))).rejects.toBeInstanceOf(LoadError);
  });
});
