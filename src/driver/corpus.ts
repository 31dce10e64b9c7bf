/**
 * The UB corpus (`kmiri corpus DIR`): programs that say in their source what kmiri must report.
 *
 * Format (DESIGN.md, "Contracts"): a corpus file is a program with a `main`. Each line where UB
 * must be reported carries `//~ ERROR: KIND` (several kinds on one line are separated by commas);
 * every annotation must be matched by a report of that kind at that line, and no other report may
 * appear. A file without annotations must run clean: no finding and no panic. An optional first
 * line `//@ flags: --seed 3 --preemption-rate 0.5` sets the run's options; with `--many-seeds A..B`
 * the file runs once per seed (see {@link checkManySeeds}).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { UBReport } from "../interp/report.js";
import { UB_KINDS, type UBKind } from "../interp/report.js";
import { LoadError } from "../interp/loader/index.js";
import type { PanicInfo } from "./results.js";
import { prepareFile, runFile, type RunOptions } from "./run.js";

/** One expected report: a kind at a line of the file. */
export interface Expectation {
  line: number;
  kind: UBKind;
}

/** The verdict on one corpus file. */
export interface CorpusCase {
  /** The file, relative to the working directory. */
  file: string;
  expected: Expectation[];
  /** Options from the `//@ flags:` line. */
  flags: CorpusFlags;
  /** With `--many-seeds A..B`: the seeds that reported something (in order). */
  failingSeeds?: number[];
  ok: boolean;
  /** What did not match, one sentence each. */
  problems: string[];
  ub: UBReport[];
  panic?: PanicInfo;
}

/**
 * The options of a `//@ flags:` line: a run's options, and `--many-seeds A..B` (one run per seed
 * A … B−1; see {@link checkCorpusFile} for what must match then).
 */
export type CorpusFlags = RunOptions & { manySeeds?: { from: number; to: number } };

/** The verdict on a corpus. */
export interface CorpusResult {
  cases: CorpusCase[];
  passed: number;
  failed: number;
}

const ANNOTATION = /\/\/~\s*ERROR:\s*([a-z-]+(?:\s*,\s*[a-z-]+)*)/;

/**
 * Reads the annotations and flags of a corpus file.
 * @throws LoadError for an unknown kind or flag (a corpus file that cannot mean anything).
 */
export function parseCorpusFile(file: string, text: string): { expected: Expectation[]; flags: CorpusFlags } {
  const expected: Expectation[] = [];
  const lines = text.split("\n");
  lines.forEach((line, i) => {
    const m = ANNOTATION.exec(line);
    if (!m) return;
    for (const k of m[1].split(",").map((s) => s.trim())) {
      if (!(UB_KINDS as readonly string[]).includes(k)) {
        throw new LoadError(`${file}:${i + 1}: unknown UB kind \`${k}\` in \`//~ ERROR:\`; the kinds are ${UB_KINDS.join(", ")}`, "syntax", {
          file,
          line: i + 1,
          column: line.indexOf("//~") + 1,
        });
      }
      expected.push({ line: i + 1, kind: k as UBKind });
    }
  });
  const first = /^\s*\/\/@\s*flags:(.*)$/.exec(lines[0] ?? "");
  return { expected, flags: first ? parseFlags(file, first[1]) : {} };
}

function parseFlags(file: string, text: string): CorpusFlags {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const flags: CorpusFlags = {};
  const num = (i: number, name: string) => {
    const v = Number(words[i]);
    if (words[i] === undefined || !Number.isFinite(v)) {
      throw new LoadError(`${file}:1: \`${name}\` in \`//@ flags:\` needs a number`, "syntax", { file, line: 1, column: 1 });
    }
    return v;
  };
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    switch (w) {
      case "--seed":
        flags.seed = num(++i, w);
        break;
      case "--preemption-rate":
        flags.preemptionRate = num(++i, w);
        break;
      case "--pct":
        flags.pct = num(++i, w);
        break;
      case "--pct-steps":
        flags.pctSteps = num(++i, w);
        break;
      case "--many-seeds": {
        const m = /^(\d*)\.\.(\d+)$/.exec(words[++i] ?? "");
        const from = m ? Number(m[1] || "0") : NaN;
        const to = m ? Number(m[2]) : NaN;
        if (!m || !(from < to)) {
          throw new LoadError(`${file}:1: \`--many-seeds\` in \`//@ flags:\` needs a range of seeds \`A..B\` (A included, B excluded)`, "syntax", { file, line: 1, column: 1 });
        }
        flags.manySeeds = { from, to };
        break;
      }
      case "--max-steps":
        flags.maxSteps = num(++i, w);
        break;
      case "--memory-limit":
        flags.memoryLimit = num(++i, w);
        break;
      case "--ignore-leaks":
        flags.ignoreLeaks = true;
        break;
      case "--strict-provenance":
        flags.strictProvenance = true;
        break;
      case "--no-weak-memory":
        flags.weakMemory = false;
        break;
      case "--borrow-model": {
        const m = words[++i];
        if (m !== "stacked" && m !== "none") {
          throw new LoadError(`${file}:1: \`--borrow-model\` in \`//@ flags:\` needs \`stacked\` or \`none\``, "syntax", { file, line: 1, column: 1 });
        }
        flags.borrowModel = m;
        break;
      }
      case "--tag-gc":
        flags.tagGc = num(++i, w);
        break;
      default:
        throw new LoadError(`${file}:1: unknown flag \`${w}\` in \`//@ flags:\``, "syntax", { file, line: 1, column: 1 });
    }
  }
  return flags;
}

/** The program files of a corpus directory (recursively), in path order. */
export function corpusFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (/\.(ts|js|mjs)$/.test(e.name) && !e.name.endsWith(".d.ts")) out.push(full);
    }
  };
  if (statSync(dir, { throwIfNoEntry: false })?.isFile()) return [dir];
  walk(dir);
  return out;
}

/** Checks one corpus file: runs it and compares the findings with its annotations. */
export async function checkCorpusFile(file: string, options: RunOptions = {}): Promise<CorpusCase> {
  const cwd = options.cwd ?? process.cwd();
  const display = path.relative(cwd, path.resolve(cwd, file)).split(path.sep).join("/");
  let parsed: { expected: Expectation[]; flags: CorpusFlags };
  try {
    parsed = parseCorpusFile(display, readFileSync(path.resolve(cwd, file), "utf8"));
  } catch (e) {
    if (!(e instanceof LoadError)) throw e;
    // A malformed file fails on its own; the rest of the corpus still runs.
    return { file: display, expected: [], flags: {}, ok: false, problems: [e.message], ub: [] };
  }
  const { expected, flags } = parsed;
  const result: CorpusCase = { file: display, expected, flags, ok: false, problems: [], ub: [] };
  const { manySeeds, ...runFlags } = flags;
  if (manySeeds) return checkManySeeds(file, display, options, runFlags, manySeeds, result);
  let run;
  try {
    run = await runFile(file, { ...options, ...runFlags });
  } catch (e) {
    if (!(e instanceof LoadError)) throw e;
    result.problems.push(`could not be loaded: ${e.message}`);
    return result;
  }
  result.ub = run.ub;
  result.panic = run.panic;
  const left = [...expected];
  for (const u of run.ub) {
    const i = left.findIndex((x) => x.kind === u.kind && x.line === u.location.line && u.location.file === display);
    if (i >= 0) left.splice(i, 1);
    else {
      result.problems.push(
        `unexpected ${u.kind} at ${u.location.file}:${u.location.line}:${u.location.column}: ${u.message}`,
      );
    }
  }
  for (const x of left) result.problems.push(`expected ${x.kind} at line ${x.line}, not reported`);
  if (run.panic) {
    const where = run.panic.location ? ` at ${run.panic.location.file}:${run.panic.location.line}` : "";
    result.problems.push(`panicked${where}: ${run.panic.message}`);
  }
  result.ok = result.problems.length === 0;
  return result;
}

/**
 * A file with `--many-seeds A..B`: one run per seed. No seed may report anything that is not
 * annotated, nor panic; a file with annotations must have at least one seed that reports all of
 * them (its findings are the case's `ub`); a file without must run clean on every seed.
 */
async function checkManySeeds(
  file: string,
  display: string,
  options: RunOptions,
  flags: RunOptions,
  range: { from: number; to: number },
  result: CorpusCase,
): Promise<CorpusCase> {
  let prepared;
  try {
    prepared = await prepareFile(file, options);
  } catch (e) {
    if (!(e instanceof LoadError)) throw e;
    result.problems.push(`could not be loaded: ${e.message}`);
    return result;
  }
  const failing: number[] = [];
  let complete: number | undefined;
  let shown = 0;
  const problem = (m: string) => {
    if (shown++ < 3) result.problems.push(m);
  };
  for (let seed = range.from; seed < range.to; seed++) {
    const run = prepared.run({ ...options, ...flags, seed });
    if (run.ub.length || run.panic) failing.push(seed);
    const left = [...result.expected];
    for (const u of run.ub) {
      const i = left.findIndex((x) => x.kind === u.kind && x.line === u.location.line && u.location.file === display);
      if (i >= 0) left.splice(i, 1);
      else problem(`seed ${seed}: unexpected ${u.kind} at ${u.location.file}:${u.location.line}:${u.location.column}: ${u.message}`);
    }
    if (run.panic) {
      const where = run.panic.location ? ` at ${run.panic.location.file}:${run.panic.location.line}` : "";
      problem(`seed ${seed}: panicked${where}: ${run.panic.message}`);
    }
    if (complete === undefined && result.expected.length > 0 && left.length === 0 && run.ub.length === result.expected.length) {
      complete = seed;
      result.ub = run.ub;
      result.panic = run.panic;
    }
  }
  if (shown > 3) result.problems.push(`… and ${shown - 3} more problems`);
  if (result.expected.length > 0 && complete === undefined) {
    result.problems.push(
      `no seed in ${range.from}..${range.to} reported ${result.expected.map((x) => `${x.kind} at line ${x.line}`).join(", ")}` +
        (failing.length ? ` (seeds that reported something: ${failing.slice(0, 10).join(", ")})` : ""),
    );
  }
  result.failingSeeds = failing;
  result.ok = result.problems.length === 0;
  return result;
}

/** Checks every file of a corpus directory. */
export async function checkCorpus(dir: string, options: RunOptions = {}): Promise<CorpusResult> {
  const cwd = options.cwd ?? process.cwd();
  const cases: CorpusCase[] = [];
  for (const f of corpusFiles(path.resolve(cwd, dir))) cases.push(await checkCorpusFile(f, options));
  const passed = cases.filter((c) => c.ok).length;
  return { cases, passed, failed: cases.length - passed };
}
