/**
 * The known-bugs suite (test/known-bugs): one folder per real bug, `before.ts` (the code before
 * the fix, annotated where kmiri must report it) and `after.ts` (the fix, which must run clean on
 * every seed it states), each listed in the suite's README. The corpus checker runs every pair as
 * `kmiri corpus test/known-bugs` does.
 */
import { describe, expect, test } from "vitest";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { checkCorpus } from "../../src/driver/corpus.js";

const DIR = "test/known-bugs";
/** The bug folders (a folder starting with `_` is a template, not a bug). */
const folders = readdirSync(DIR, { withFileTypes: true })
  .filter((e) => e.isDirectory() && !e.name.startsWith("_"))
  .map((e) => e.name)
  .sort();

describe("the known-bugs suite", async () => {
  const result = await checkCorpus(DIR);
  const byFile = new Map(result.cases.map((c) => [c.file.split(path.sep).join("/"), c]));

  test("at least 20 bugs, each a before/after pair with its own README", () => {
    expect(folders.length).toBeGreaterThanOrEqual(20);
    for (const f of folders) {
      for (const file of ["before.ts", "after.ts", "README.md"]) expect(existsSync(path.join(DIR, f, file)), `${f}/${file}`).toBe(true);
    }
  });

  test.each(folders)("%s: the bug is reported where annotated, the fix runs clean", (f) => {
    const before = byFile.get(`${DIR}/${f}/before.ts`);
    const after = byFile.get(`${DIR}/${f}/after.ts`);
    expect(before, "before.ts was not checked").toBeDefined();
    expect(after, "after.ts was not checked").toBeDefined();
    expect(before!.expected.length, "before.ts has no `//~ ERROR:` annotation").toBeGreaterThan(0);
    expect(before!.problems).toEqual([]);
    expect(before!.ub.length).toBeGreaterThan(0);
    expect(after!.expected).toEqual([]);
    expect(after!.problems).toEqual([]);
    expect(after!.ub).toEqual([]);
    // A concurrency or hostile-device bug states its seeds: the fix is checked on the same range.
    if (before!.flags.manySeeds) expect(after!.flags.manySeeds, "after.ts must run on the seeds before.ts states").toEqual(before!.flags.manySeeds);
  });

  test("the README's table lists every bug with the command that reproduces it", () => {
    const readme = readFileSync(path.join(DIR, "README.md"), "utf8");
    for (const f of folders) {
      const row = readme.split("\n").find((l) => l.startsWith("|") && l.includes(`${f}`));
      expect(row, `no README row for ${f}`).toBeDefined();
      // (Commands are written `run …/<folder>/before.ts …`: `node bin/kmiri.js` and the folder elided.)
      expect(row, `the row of ${f} has no command`).toMatch(/`(corpus|run) /);
    }
  });
});
