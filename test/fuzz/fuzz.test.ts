// Fuzzing kmiri in CI: a few hundred programs from the generator (generator.ts: seeded, the whole
// `kmiri/rt` API, valid programs mixed with deliberate UB and API misuse) run on the Machine,
// each twice with the same seed (and `main` programs once more replaying their schedule). A
// seed fails when kmiri reports an internal error, lets an exception escape, returns something
// that is not plain data, hangs, or gives two different reports for one seed. Nothing else is
// checked: whether a program has UB, panics or runs clean is not this test's business.
//
// Known findings are in KNOWN below: their generator features are disabled here (and only
// here) until kmiri is fixed; a test checks that each reproducer still fails, so a fix shows up
// as a failing test that says which entry to delete. The other reproducers in findings/ are
// findings kmiri fixed: they run as regression tests.
//
// Environment: KMIRI_FUZZ_SEEDS (how many seeds, default 350), KMIRI_FUZZ_FROM (first seed, 0),
// KMIRI_FUZZ_ALL=1 (generate the KNOWN findings' features too), KMIRI_FUZZ_HANG_MS (60000).
// Longer offline runs: `node scripts/fuzz.mjs --from 0 --count 10000 --known` (test/fuzz/README.md).
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { prepareFile, runFile, type RunOptions } from "../../src/driver/run.js";
import { testPath } from "../../src/driver/test-path.js";
import { LoadError, loadPrograms } from "../../src/interp/loader/index.js";
import {
  comparableResult,
  firstDifference,
  generateProgram,
  hitTimeLimit,
  internalErrors,
  nonDataPaths,
  type GeneratedProgram,
} from "./generator.js";

/** A finding of the fuzzer that kmiri has not fixed yet. */
interface Known {
  /** Its reproducer under test/fuzz/findings/ (a comment at its top says what happens). */
  reproducer: string;
  /** What kmiri does wrong. */
  symptom: string;
  /**
   * The generator features that trigger it (or families, by prefix): disabled in this test.
   * Re-enable them (delete the entry) once kmiri is fixed.
   */
  disable: string[];
  /**
   * How the reproducer still shows it: `internal` (an internal-error report), `non-data` (the
   * result holds a program object), `nondeterminism` (two runs with the same options differ; the
   * second is started from a deeper JavaScript stack, as a caller of the library may),
   * `false-positive` (a correct program gets a report), or `hang` (not run here: it would hang
   * this test).
   */
  check: "internal" | "non-data" | "nondeterminism" | "false-positive" | "hang";
  /** Options the reproducer runs with (besides the oracle's limits). */
  options?: RunOptions;
}

// start of KNOWN (scripts/fuzz.mjs --known evaluates the text from here to "end of KNOWN")
// The fuzzer's findings that kmiri has not fixed. Each disables exactly the generator features
// that trigger it, by name or family prefix (`misuse.arg.Ptr.add.1.bigint`, `misuse.this`; found
// with `node scripts/fuzz.mjs --matrix --attribute` and `--focus`); delete
// the entry once kmiri is fixed — the "still reproduce" tests below fail to say so — and its
// reproducer then stays in findings/ as a regression test. Findings already fixed: the other
// files of findings/ (their first comment says what they were).
// prettier-ignore
const KNOWN: Known[] = [
  {
    reproducer: "native-timing-hang.ts",
    symptom: "`kmiri test` never ends on a test that passes but waits with `yield_now` in a thread spawned before the one it waits for: its native timing run has no bound",
    disable: ["test.native-unbounded.yield"],
    check: "hang",
  },
  {
    reproducer: "method-foreign-this.ts",
    symptom: "a detached rt method (`const rd = p.read; rd()`), `box.drop.call(p)`, or a pointer whose public `layout` field the program overwrote, fail inside kmiri",
    disable: ["misuse.this.detached", "misuse.this.box-detached", "misuse.tamper.layout"],
    check: "internal",
  },
  {
    reproducer: "pct-yield-nondeterminism.ts",
    symptom: "with `pct`, `yield_now` never lets a lower-priority thread run (a correct wait livelocks), and the PCT step estimate comes from a probe run that `timeoutMs` stops by the wall clock: one seed, different `pct.steps` and schedules",
    disable: ["opt.pct.yield-wait"],
    check: "nondeterminism",
    options: { seed: 1, pct: 1, maxSteps: 10_000_000, timeoutMs: 300 },
  },
  {
    reproducer: "stack-depth-nondeterminism.ts",
    symptom: "a recursion that exhausts the stack is reported `N calls deep` with N set by the host's stack (CLI, worker thread, the caller's depth, JIT state), not by the program and seed",
    disable: ["bug.resource.recursion"],
    check: "nondeterminism",
  },
  {
    reproducer: "lock-shared-option.ts",
    symptom: "the contract's `lock_acquired(lock, class, { shared: true })` is not implemented: a type error, and without the type check two read acquisitions are a false `deadlock`",
    disable: [],
    check: "false-positive",
  },
];
// end of KNOWN

const SEEDS = Number(process.env.KMIRI_FUZZ_SEEDS ?? 350);
const FROM = Number(process.env.KMIRI_FUZZ_FROM ?? 0);
/** KMIRI_FUZZ_ALL=1: do not skip the KNOWN findings' features (to see them fail). */
const DISABLED = process.env.KMIRI_FUZZ_ALL === "1" ? [] : KNOWN.flatMap((k) => k.disable);
const FINDINGS = fileURLToPath(new URL("./findings", import.meta.url));
/** The reproducers of findings kmiri fixed: regression tests (every findings file not in KNOWN). */
const FIXED = readdirSync(FINDINGS).filter((f) => f.endsWith(".ts") && !KNOWN.some((k) => k.reproducer === f)).sort();

/**
 * The oracle's limits: small enough that an endless program ends as `resource-exhaustion` fast.
 * `typecheck: false`: the oracle is about the Machine (the generator aims at type-correct code, but
 * misuse programs pass wrong values through `as any` on purpose).
 */
const LIMITS: RunOptions = { maxSteps: 100_000, timeoutMs: 5_000, maxThreads: 32, memoryLimit: 16 * 1024 * 1024 };
const NO_TYPECHECK = { typecheck: false } as RunOptions;
/** A seed that takes longer than this (wall clock) is a hang: the watchdog ends the test process. */
const HANG_MS = Number(process.env.KMIRI_FUZZ_HANG_MS ?? 60_000);

const dir = mkdtempSync(path.join(tmpdir(), "kmiri-fuzz-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const programs: GeneratedProgram[] = [];
for (let seed = FROM; seed < FROM + SEEDS; seed++) programs.push(generateProgram(seed, { disable: DISABLED }));
const fileOf = (p: GeneratedProgram) => `fuzz-${p.seed}.ts`;

// ── the hang guard ──
// kmiri's own `timeoutMs` stops a program at loops and scheduling points; a hang inside kmiri (or
// in code that reaches neither) blocks this thread, where no vitest timeout can fire. A watchdog
// thread watches a heartbeat; when one seed runs past HANG_MS it prints the seed and its program
// on stderr and kills the test process, which fails the run.
// [what runs: seed + 1, or -(i + 1) for FIXED[i], 0: idle; a counter bumped at each change]
const beat = new Int32Array(new SharedArrayBuffer(8));
let watchdog: Worker | undefined;
beforeAll(() => {
  watchdog = new Worker(
    `const { workerData } = require("node:worker_threads");
     const fs = require("node:fs");
     const beat = workerData.beat;
     let seen = 0, since = Date.now();
     setInterval(() => {
       const code = Atomics.load(beat, 0), t = Atomics.load(beat, 1);
       if (code === 0 || t !== seen) { seen = t; since = Date.now(); return; }
       if (Date.now() - since < workerData.hangMs) return;
       const what = code > 0 ? "seed " + (code - 1) : "fixed finding " + workerData.fixed[-code - 1];
       const file = code > 0 ? workerData.dir + "/fuzz-" + (code - 1) + ".ts" : workerData.findings + "/" + workerData.fixed[-code - 1];
       let text = "";
       try { text = fs.readFileSync(file, "utf8"); } catch {}
       fs.writeSync(2, "\\nkmiri fuzz: " + what + " HANGS (no result after " + workerData.hangMs + " ms): " + file + "\\n" + text + "\\n");
       process.kill(process.pid, "SIGKILL");
     }, 500);`,
    { eval: true, workerData: { beat, hangMs: HANG_MS, dir, findings: FINDINGS, fixed: FIXED } },
  );
  watchdog.unref();
});
afterAll(() => watchdog?.terminate());

let tick = 0;
/** Tells the watchdog what runs now: a seed, a fixed finding (by name), or nothing. */
function heartbeat(what: number | string | null): void {
  Atomics.store(beat, 0, what === null ? 0 : typeof what === "number" ? what + 1 : -(FIXED.indexOf(what) + 1));
  Atomics.store(beat, 1, ++tick);
}

// ── compile every program once, in one tsc run, into the loader's content-keyed cache ──
beforeAll(async () => {
  for (const p of programs) writeFileSync(path.join(dir, fileOf(p)), p.source);
  try {
    await loadPrograms(programs.map((p) => path.join(dir, fileOf(p))), { cwd: dir });
  } catch {
    /* a program that does not load fails its own test below, with the reason */
  }
}, 120_000);

/** What went wrong with one seed (empty: nothing). */
async function fuzzOne(p: GeneratedProgram): Promise<string[]> {
  const problems: string[] = [];
  const options: RunOptions = { cwd: dir, ...LIMITS, ...p.runOptions, ...NO_TYPECHECK };
  const attempt = async <T>(what: string, f: () => Promise<T> | T): Promise<T | undefined> => {
    try {
      return await f();
    } catch (e) {
      const kind = e instanceof LoadError ? "the program did not load (a generator bug, or kmiri rejects valid syntax)" : "an exception escaped kmiri";
      problems.push(`${what}: ${kind}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      return undefined;
    }
  };
  let first: unknown;
  let second: unknown;
  let replayed: unknown;
  if (p.mode === "main") {
    const prepared = await attempt("load", () => prepareFile(fileOf(p), options));
    if (prepared === undefined) return problems;
    first = await attempt("run 1", () => prepared.run(options));
    second = await attempt("run 2", () => prepared.run(options));
    const schedule = (first as { schedule?: unknown } | undefined)?.schedule;
    if (typeof schedule === "string") replayed = await attempt("replay", () => prepared.run({ ...options, replay: schedule }));
  } else {
    const file = path.join(dir, fileOf(p));
    first = await attempt("run 1", () => testPath(file, options));
    second = await attempt("run 2", () => testPath(file, options));
  }
  if (first === undefined) return problems;
  for (const i of internalErrors(first)) problems.push(`internal error: ${i}`);
  for (const i of nonDataPaths(first).slice(0, 3)) problems.push(`the result is not plain data: ${i}`);
  // A run stopped by its time limit stops where the wall clock says: nothing to compare.
  if (hitTimeLimit(first) || (second !== undefined && hitTimeLimit(second))) return problems;
  if (replayed !== undefined && hitTimeLimit(replayed)) replayed = undefined;
  const a = comparableResult(first);
  if (second !== undefined) {
    const d = firstDifference(a, comparableResult(second));
    if (d !== null) problems.push(`nondeterminism: the same seed gave two different results: ${d}`);
  }
  if (replayed !== undefined) {
    const b = comparableResult(replayed) as Record<string, unknown>;
    delete (a as Record<string, unknown>).pct;
    delete b.pct;
    const d = firstDifference(a, b);
    if (d !== null) problems.push(`nondeterminism: replaying the run's own schedule gave another result: ${d}`);
  }
  return problems;
}

function report(p: GeneratedProgram, problems: string[]): string {
  const copy = path.join(tmpdir(), `kmiri-fuzz-seed-${p.seed}.ts`);
  writeFileSync(copy, p.source);
  return [
    `kmiri fuzz: seed ${p.seed} (${p.intent}, ${p.mode}) failed:`,
    ...problems.map((x) => `  - ${x}`),
    `run options: ${JSON.stringify(p.runOptions)} (+ ${JSON.stringify(LIMITS)})`,
    `reproduce: node scripts/fuzz.mjs --seed ${p.seed}${DISABLED.length ? " --known" : ""} --print   (or generateProgram(${p.seed}${DISABLED.length ? ", { disable: KNOWN.flatMap((k) => k.disable) }" : ""}) in generator.ts)`,
    `program (also in ${copy}):`,
    p.source,
  ].join("\n");
}

describe("fuzz: generated programs never break kmiri", () => {
  test.each(programs.map((p) => [p.seed, p.intent, p.mode, p] as const))(
    "seed %i (%s, %s)",
    async (seed, _intent, _mode, p) => {
      heartbeat(seed);
      const problems = await fuzzOne(p);
      heartbeat(null);
      if (problems.length) expect.fail(report(p, problems));
    },
    HANG_MS,
  );
});

describe("fuzz: the generator", () => {
  test("is deterministic: a seed always gives the same program", () => {
    for (const seed of [0, 1, 17, 123456]) {
      expect(generateProgram(seed).source).toBe(generateProgram(seed).source);
      expect(generateProgram(seed, { disable: DISABLED }).source).toBe(generateProgram(seed, { disable: DISABLED }).source);
    }
    expect(generateProgram(1).source).not.toBe(generateProgram(2).source);
  });

  test("mixes intents and modes, and never uses a disabled feature", () => {
    const intents = new Set(programs.map((p) => p.intent));
    const modes = new Set(programs.map((p) => p.mode));
    if (SEEDS >= 50) {
      expect([...intents].sort()).toEqual(["misuse", "ub", "valid"]);
      expect([...modes].sort()).toEqual(["main", "test"]);
    }
    const disabled = new Set(DISABLED);
    const isDisabled = (f: string) => {
      for (let i = f.length; i > 0; i = f.lastIndexOf(".", i - 1)) if (disabled.has(f.slice(0, i))) return true;
      return false;
    };
    const used = programs.flatMap((p) => p.features.filter(isDisabled).map((f) => `seed ${p.seed}: ${f}`));
    expect(used).toEqual([]);
  });
});

/** A findings file of `ktest`s (run with `kmiri test`) rather than a `main`. */
function isTestFile(file: string): boolean {
  return !/export function main\b/.test(readFileSync(file, "utf8"));
}

describe("fuzz: fixed findings stay fixed", () => {
  test.each(FIXED)("%s", async (name) => {
    const file = path.join(FINDINGS, name);
    const options: RunOptions = { cwd: FINDINGS, ...LIMITS, ...NO_TYPECHECK };
    heartbeat(name);
    let problems: string[] = [];
    try {
      const r = isTestFile(file) ? await testPath(file, options) : await runFile(name, options);
      problems = [...internalErrors(r), ...nonDataPaths(r)];
    } catch (e) {
      problems = [`an exception escaped kmiri: ${e instanceof Error ? e.stack : String(e)}`];
    }
    heartbeat(null);
    expect(problems, `${name}, a fixed finding, fails again (see its first comment)`).toEqual([]);
  });
});

describe("fuzz: known findings (KNOWN) still reproduce", () => {
  test.each(KNOWN.map((k) => [k.reproducer, k] as const))("%s", async (name, k) => {
    const file = path.join(FINDINGS, name);
    expect(existsSync(file), `${file} is missing`).toBe(true);
    expect(readFileSync(file, "utf8").startsWith("//"), "a reproducer starts with a comment saying what happens").toBe(true);
    if (k.check === "hang") return; // running it would hang this test
    const options: RunOptions = { cwd: FINDINGS, ...LIMITS, ...NO_TYPECHECK, ...k.options };
    const run = () => (isTestFile(file) ? testPath(file, options) : runFile(name, options));
    const r = await run();
    let still: boolean;
    if (k.check === "internal") still = internalErrors(r).length > 0;
    else if (k.check === "non-data") still = nonDataPaths(r).length > 0;
    else if (k.check === "false-positive") still = r.ub.length > 0;
    else {
      // two fresh loads (PCT's step estimate is cached per loaded program), the second run from
      // 300 JavaScript frames deeper
      const [a, b] = [await prepareFile(name, options), await prepareFile(name, options)];
      const deeper = (depth: number): unknown => (depth === 0 ? b.run(options) : deeper(depth - 1));
      still = firstDifference(comparableResult(a.run(options)), comparableResult(deeper(300))) !== null;
    }
    expect(
      still,
      `${name} no longer shows "${k.symptom}": kmiri fixed it? Delete its KNOWN entry in test/fuzz/fuzz.test.ts ` +
        `(that re-enables the generator features ${JSON.stringify(k.disable)}) and its reproducer.`,
    ).toBe(true);
  });
});
