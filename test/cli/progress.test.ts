/**
 * The progress line of `kmiri test` (and `--many-seeds`) on a terminal: drawn on standard error
 * with `\r`, program output printed around it, cleared at the end; absent when standard error is
 * not a terminal or with `--json`.
 */
import { describe, expect, test } from "vitest";
import { ProgressLine, elapsed } from "../../src/cli/progress-line.js";
import type { CliIO } from "../../src/cli/io.js";
import { kmiri } from "../support/cli-in-process.js";

function ttyIO(columns?: number): CliIO & { err: string } {
  const io = {
    err: "",
    stdout: () => undefined,
    stderr: (t: string) => void (io.err += t),
    stdoutIsTTY: true,
    stderrIsTTY: true,
    stderrColumns: columns,
    env: {},
    cwd: "/",
    engine: () => Promise.reject(new Error("no engine")),
    readFile: () => undefined,
    writeFile: () => undefined,
  };
  return io;
}

describe("ProgressLine", () => {
  test("redraws in place, pads over a longer previous line, and clears", () => {
    const io = ttyIO();
    const p = new ProgressLine(io);
    p.show("running 1/3");
    p.show("run 2/3");
    p.clear();
    expect(io.err).toBe("\rrunning 1/3\rrun 2/3    \r       \r");
  });

  test("cut to the terminal's width so that it never wraps", () => {
    const io = ttyIO(30);
    const p = new ProgressLine(io);
    p.show("x".repeat(100));
    expect(io.err).toBe(`\r${"x".repeat(28)}…`);
  });

  test("`around` takes the line away while output is printed, then draws it again", () => {
    const io = ttyIO();
    const p = new ProgressLine(io);
    p.show("abc");
    p.around(() => io.stderr("LINE\n"));
    expect(io.err).toBe("\rabc\r   \rLINE\n\rabc");
  });

  test("inert when standard error is no terminal, or when disabled", () => {
    const io = { ...ttyIO(), stderrIsTTY: false };
    new ProgressLine(io).show("x");
    const off = ttyIO();
    new ProgressLine(off, false).show("x");
    expect(io.err + off.err).toBe("");
  });

  test("elapsed time", () => {
    expect(elapsed(12_345)).toBe("12.3s");
    expect(elapsed(125_000)).toBe("2m05s");
  });
});

describe("kmiri test on a terminal", () => {
  test("shows each test as it starts, prints program output around the line, clears it", async () => {
    const r = await kmiri(["test", "test/fixtures/ktests/mixed.ts"], true);
    expect(r.err).toMatch(/\rrunning 1\/6, \d+\.\ds: test\/fixtures\/ktests\/mixed\.ts::passes/);
    // The third test starts after the second failed.
    expect(r.err).toMatch(/\rrunning 3\/6, 1 failed, \d+\.\ds: test\/fixtures\/ktests\/mixed\.ts::use_after_free/);
    expect(r.out).toContain("kept 1\n");
    // The last thing on standard error about the line is its erasure.
    const last = r.err.lastIndexOf("\rrunning");
    expect(r.err.slice(last)).toMatch(/^\rrunning 6\/6[^\n]*\r +\r/);
  });

  test("no line without a terminal, nor with --json", async () => {
    const plain = await kmiri(["test", "test/fixtures/ktests/mixed.ts"]);
    const json = await kmiri(["test", "test/fixtures/ktests/mixed.ts", "--json"], true);
    expect(plain.err).not.toContain("\r");
    expect(json.err).not.toContain("\r");
  });
});

describe("--filter, repeated, and threads per test", () => {
  test("a test runs when it matches any filter; each result says how many threads it ran", async () => {
    const r = await kmiri(["test", "test/fixtures/ktests/mixed.ts", "--filter", "::passes", "--filter", "use_after", "--json"]);
    const j = JSON.parse(r.out) as { tests: { name: string; threads: number }[] };
    expect(j.tests.map((t) => t.name)).toEqual(["passes", "use_after_free"]);
    expect(j.tests.map((t) => t.threads)).toEqual([1, 1]);
  });

  test("a test that spawns counts its threads", async () => {
    const r = await kmiri(["test", "test/fixtures/ktests-seeds", "--filter", "racy", "--json", "--seed", "1"]);
    const j = JSON.parse(r.out) as { tests: { name: string; threads: number }[] };
    expect(j.tests.length).toBeGreaterThan(0);
    for (const t of j.tests) expect(t.threads, t.name).toBeGreaterThan(1);
  });
});
