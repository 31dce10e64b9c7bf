/**
 * examples/tiny-simulator.mjs: a simulator with its own CPUs, ISA and scheduler that uses kmiri's
 * Memory and RaceDetector through the memory seam. Checked twice: as data (its exported
 * `runProgram`, on its programs and on variants that must flip the verdict), and as the example a
 * user runs (`node examples/tiny-simulator.mjs`, output text and `--json`). Needs the built
 * package (`npm test` builds first): the example imports `kmiri` by name.
 */
import { describe, expect, test } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join, resolve } from "node:path";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const EXAMPLE = join(ROOT, "examples", "tiny-simulator.mjs");

interface Help { message: string; at: string; pc: number }
interface Finding { kind: string; message: string; cpu: string; pc: number; at: string; help: Help[] }
interface Run { findings: Finding[]; steps: number; registers: number[][] }
interface Program { name: string; entries: string[]; data?: Record<string, number>; about: string; source: string }
interface Simulator {
  runProgram(program: Program, options?: { seed?: number; maxSteps?: number }): Run;
  PROGRAMS: Record<"clean" | "racy" | "use-after-free" | "out-of-bounds", Program>;
}

if (!existsSync(join(ROOT, "dist", "index.js"))) {
  throw new Error("examples/tiny-simulator.mjs imports the built package: run `npm run build` first (`npm test` does)");
}
// The example resolves `kmiri` by the package's self-reference (package.json `exports`), to dist/.
const sim = (await import(/* @vite-ignore */ pathToFileURL(EXAMPLE).href)) as Simulator;
const SEEDS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

/** A copy of `p` with one instruction line changed (the original must contain it). */
function variant(p: Program, from: RegExp, to: string): Program {
  expect(p.source).toMatch(from);
  return { ...p, source: p.source.replace(from, to) };
}

describe("the tiny simulator's programs, as data", () => {
  test.each(SEEDS)("clean: no finding, and cpu0 reads 2 (seed %i)", (seed) => {
    const r = sim.runProgram(sim.PROGRAMS.clean, { seed });
    expect(r.findings).toEqual([]);
    expect(r.registers[0][5]).toBe(2);
  });

  test.each(SEEDS)("clean with a relaxed flag store: cpu0's plain read races with cpu1's amoadd (seed %i)", (seed) => {
    // Without the release, the acquire load synchronises with nothing: the verdict must flip.
    const r = sim.runProgram(variant(sim.PROGRAMS.clean, /st\.rel(\s+r4)/, "st.rlx$1"), { seed });
    expect(r.findings).toHaveLength(1);
    const [f] = r.findings;
    expect(f.kind).toBe("data-race");
    expect(f.message).toBe("Data race detected between (1) atomic store on thread `cpu1` and (2) non-atomic read on thread `cpu0` at alloc1[0x0]");
    expect(f).toMatchObject({ cpu: "cpu0", pc: 5, at: "clean.s:7" });
    expect(f.help).toEqual([{ message: "and (1) occurred earlier here", at: "clean.s:10", pc: 8 }]);
  });

  test.each(SEEDS)("racy: a data race between cpu0 and cpu1, both PCs named (seed %i)", (seed) => {
    const r = sim.runProgram(sim.PROGRAMS.racy, { seed });
    expect(r.findings).toHaveLength(1);
    const [f] = r.findings;
    expect(f.kind).toBe("data-race");
    const m = /^Data race detected between \(1\) non-atomic (read|write) on thread `(cpu[01])` and \(2\) non-atomic (read|write) on thread `(cpu[01])` at alloc1\[0x0\]$/.exec(f.message);
    expect(m, f.message).not.toBeNull();
    const [, kind1, cpu1, kind2, cpu2] = m!;
    expect([cpu1, cpu2].sort()).toEqual(["cpu0", "cpu1"]);
    expect([kind1, kind2]).toContain("write");
    // The current access is the reporting CPU's, at the PC of its `ld` (1) or `st` (3); the earlier one's PC is in the help line.
    expect(f.cpu).toBe(cpu2);
    expect(f.pc).toBe(kind2 === "read" ? 1 : 3);
    expect(f.help).toEqual([{ message: "and (1) occurred earlier here", at: `racy.s:${kind1 === "read" ? 3 : 5}`, pc: kind1 === "read" ? 1 : 3 }]);
  });

  test("racy made atomic: the same increments with amoadd are clean", () => {
    const atomic = variant(sim.PROGRAMS.racy, /ld\s+r2, \[r1\]\n\s*addi r2, r2, 1\n\s*st\s+r2, \[r1\]/, "amoadd r2, [r1], 1");
    for (const seed of SEEDS) expect(sim.runProgram(atomic, { seed }).findings).toEqual([]);
  });

  test("racy on one CPU: no second thread, no race", () => {
    const single = { ...sim.PROGRAMS.racy, entries: ["inc"] };
    expect(sim.runProgram(single).findings).toEqual([]);
  });

  test.each(SEEDS)("use-after-free: kmiri's message, with where the block was allocated and freed (seed %i)", (seed) => {
    const r = sim.runProgram(sim.PROGRAMS["use-after-free"], { seed });
    expect(r.findings).toEqual([
      {
        kind: "use-after-free",
        message: "memory access failed: alloc1 has been freed, so this pointer is dangling",
        cpu: "cpu0",
        pc: 4,
        at: "use-after-free.s:6",
        help: [
          { message: "alloc1 was allocated here:", at: "use-after-free.s:2", pc: 0 },
          { message: "alloc1 was deallocated here:", at: "use-after-free.s:5", pc: 3 },
        ],
      },
    ]);
  });

  test("use-after-free without the free is clean; freeing twice is a double-free", () => {
    const p = sim.PROGRAMS["use-after-free"];
    expect(sim.runProgram(variant(p, /free\s+r1\n/, "addi r1, r1, 0\n")).findings).toEqual([]);
    const twice = sim.runProgram(variant(p, /ld\s+r3, \[r1\+8\]/, "free r1"));
    expect(twice.findings.map((f) => [f.kind, f.pc])).toEqual([["double-free", 4]]);
  });

  test.each(SEEDS)("out-of-bounds: the fifth store of the loop, at offset 16 of a 16-byte block (seed %i)", (seed) => {
    const r = sim.runProgram(sim.PROGRAMS["out-of-bounds"], { seed });
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({
      kind: "out-of-bounds",
      message: "memory access failed: attempting to access 4 bytes, but got alloc1+0x10 which is at or beyond the end of the allocation of size 16 bytes",
      cpu: "cpu0",
      pc: 2,
      at: "out-of-bounds.s:4",
    });
  });

  test("out-of-bounds with the right count is clean", () => {
    const fixed = variant(sim.PROGRAMS["out-of-bounds"], /li\s+r2, 5/, "li r2, 4");
    expect(sim.runProgram(fixed).findings).toEqual([]);
  });
});

describe("node examples/tiny-simulator.mjs", () => {
  function example(...args: string[]) {
    const r = spawnSync(process.execPath, [EXAMPLE, ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    if (r.error) throw r.error;
    return r;
  }

  test("prints one section per program: nothing for the clean one, kmiri's finding for the others; exit 0", () => {
    const r = example();
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const sections = Object.fromEntries(
      r.stdout.split(/^== /m).filter(Boolean).map((s) => [s.slice(0, s.indexOf(":")), s.slice(s.indexOf("\n") + 1)]),
    );
    expect(Object.keys(sections)).toEqual(["clean", "racy", "use-after-free", "out-of-bounds"]);
    expect(sections.clean).toBe("no findings; cpu0's r5 = 2\n");
    expect(sections.racy).toMatch(/^data-race on cpu[01] at pc [13] \(racy\.s:[35]\): Data race detected between \(1\) non-atomic \w+ on thread `cpu[01]` and \(2\) non-atomic \w+ on thread `cpu[01]` at alloc1\[0x0\]\n {4}and \(1\) occurred earlier here: racy\.s:[35] \(pc [13]\)\n$/);
    expect(sections.racy).toContain("`cpu0`");
    expect(sections.racy).toContain("`cpu1`");
    expect(sections["use-after-free"]).toMatch(/^use-after-free on cpu0 at pc 4 \(use-after-free\.s:6\): memory access failed: alloc1 has been freed, so this pointer is dangling\n/);
    expect(sections["out-of-bounds"]).toMatch(/^out-of-bounds on cpu0 at pc 2 \(out-of-bounds\.s:4\): memory access failed: attempting to access 4 bytes, but got alloc1\+0x10/);
  });

  test("--json gives the same findings as data", () => {
    const r = example("--json", "--seed", "3");
    expect(r.status).toBe(0);
    const results = JSON.parse(r.stdout) as ({ name: string } & Run)[];
    expect(results.map((x) => [x.name, x.findings.map((f) => f.kind)])).toEqual([
      ["clean", []],
      ["racy", ["data-race"]],
      ["use-after-free", ["use-after-free"]],
      ["out-of-bounds", ["out-of-bounds"]],
    ]);
    for (const x of results) expect(x).toEqual({ name: x.name, ...sim.runProgram(sim.PROGRAMS[x.name as keyof Simulator["PROGRAMS"]], { seed: 3 }) });
  });
});
