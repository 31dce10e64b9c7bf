/**
 * The README's rendered UB examples are kmiri's real output: regenerating them from the corpus
 * must give the text the README shows (run `npx tsx scripts/readme-ub-examples.ts --write`).
 */
import { expect, test } from "vitest";
import { readFileSync } from "node:fs";
import { END, START, ubExamplesSection } from "../scripts/readme-ub-examples.js";

test("the README's UB examples are up to date", async () => {
  const readme = readFileSync("README.md", "utf8");
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  expect(a).toBeGreaterThan(0);
  expect(readme.slice(a, b + END.length)).toBe(await ubExamplesSection());
});
