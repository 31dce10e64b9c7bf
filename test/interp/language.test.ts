/**
 * The compiler against the language: each program under test/fixtures/language runs on plain
 * Node (TypeScript through tsx, the reference), natively under kmiri, and on the Machine with
 * several seeds and preemption rates; all must print the same. These programs use classes,
 * closures, destructuring, labels, try/finally, import cycles, live bindings, callbacks of
 * built-ins and threads — the shapes the instrumentation rewrites.
 */
import { describe, expect, test } from "vitest";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { runFile } from "../../src/driver/run.js";

const dir = "test/fixtures/language";
const programs = readdirSync(dir)
  .filter((f) => f.endsWith(".ts") && /export function main/.test(readFileSync(path.join(dir, f), "utf8")))
  .sort();

function reference(file: string): string[] {
  const r = spawnSync(process.execPath, ["--import", "tsx", "test/support/oracle.mjs", file], { encoding: "utf8", timeout: 60_000 });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return r.stdout.split("\n").slice(0, -1);
}

describe.each(programs)("%s", (name) => {
  const file = path.join(dir, name);

  test("prints the same on plain Node, natively and on the Machine", async () => {
    const expected = reference(file);
    expect(expected.length).toBeGreaterThan(3);
    const native = await runFile(file, { native: true });
    expect(native.output).toEqual(expected);
    for (const [seed, preemptionRate] of [[0, 0], [1, 0.1], [2, 0.5], [3, 1]]) {
      const checked = await runFile(file, { seed, preemptionRate });
      expect(checked.ub).toEqual([]);
      expect(checked.panic).toBeUndefined();
      expect(checked.output, `seed ${seed}, preemption rate ${preemptionRate}`).toEqual(expected);
    }
  });
});

test("a thread that would block inside a built-in's callback is reported, not hung", async () => {
  const r = await runFile("test/fixtures/engine/block-in-callback.ts", { preemptionRate: 0 });
  expect(r.ub).toHaveLength(1);
  expect(r.ub[0]).toMatchObject({ kind: "unsupported", location: { line: 9 } });
  expect(r.ub[0].message).toContain("cannot be suspended");
});
