/**
 * kmiri as a library in one call: {@link createMachine} gives a checked machine — the Machine with
 * kmiri's checked runtime wired in — that runs programs and their tests, from files or from
 * source text. (A `Machine` built by hand must be given that runtime, `checkedRuntime`; it refuses
 * anything else, so that a program never runs unchecked by mistake.)
 *
 * @example
 * ```ts
 * import { createMachine } from "kmiri";
 * const kmiri = createMachine({ seed: 3 });
 * const r = await kmiri.run({
 *   fileName: "uaf.ts",
 *   source: `import { alloc, dealloc, u32 } from "kmiri/rt";
 *            export function main() { unsafe: { const p = alloc(u32); p.write(1); dealloc(p, u32); p.read(); } }`,
 * });
 * r.ub[0].kind; // "use-after-free", at uaf.ts line 2
 * ```
 */
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { RunResult, TestRunResult } from "./results.js";
import { runFile, type RunOptions, type TestOptions } from "./run.js";
import { testPath } from "./test-path.js";

/** A program given as source text instead of a file. */
export interface ProgramText {
  /** The entry module's source (TypeScript, or JavaScript when `fileName` ends in `.js`/`.mjs`). */
  source: string;
  /** Its file name in reports (default `main.ts`); a relative path. */
  fileName?: string;
  /**
   * Other modules of the program, by relative path (`"./util.ts"` imported as `"./util.js"`):
   * the entry may import them as it would import files next to it.
   */
  files?: Readonly<Record<string, string>>;
}

/** A checked machine: runs programs and tests with kmiri's checks, with the options it was made with. */
export interface CheckedMachine {
  /** The options every run starts from (each call may override them). */
  readonly options: Readonly<TestOptions>;
  /**
   * Runs a program's exported `main()`: `program` is a file path (relative to `options.cwd`) or
   * the program's source text.
   * @throws LoadError when the program cannot be loaded or compiled, or has no `main`.
   */
  run(program: string | ProgramText, options?: RunOptions): Promise<RunResult>;
  /**
   * Runs the `ktest`s of a file or directory (or of a program given as text), each on a fresh
   * Machine, and reports results, findings and coverage.
   * @throws LoadError when a test file cannot be loaded or compiled.
   */
  test(tests: string | ProgramText, options?: TestOptions): Promise<TestRunResult>;
}

/**
 * Creates a checked machine with these options (seed, scheduler, limits, borrow model, …: the
 * options of `runFile` and `testPath`). It is cheap: programs are compiled when they run (and
 * cached by content).
 */
export function createMachine(options: TestOptions = {}): CheckedMachine {
  const base: Readonly<TestOptions> = Object.freeze({ ...options });
  return {
    options: base,
    run(program, more = {}) {
      const o = { ...base, ...more };
      if (typeof program === "string") return runFile(program, o);
      return withProgramText(program, (dir, entry) => runFile(entry, { ...o, cwd: dir }));
    },
    test(tests, more = {}) {
      const o = { ...base, ...more };
      if (typeof tests === "string") return testPath(path.resolve(o.cwd ?? process.cwd(), tests), o);
      return withProgramText(tests, (dir, entry) => testPath(path.join(dir, entry), { ...o, cwd: dir }));
    },
  };
}

/**
 * Writes a program given as text into a fresh temporary directory, runs `f` there (report paths
 * are then the program's own file names), and removes the directory.
 */
async function withProgramText<R>(program: ProgramText, f: (dir: string, entry: string) => Promise<R>): Promise<R> {
  const entry = program.fileName ?? "main.ts";
  const files: [string, string][] = [[entry, program.source], ...Object.entries(program.files ?? {})];
  for (const [name] of files) {
    if (path.isAbsolute(name) || path.normalize(name).split(path.sep).includes("..")) {
      throw new TypeError(`kmiri: a program file name must be a relative path inside the program, not \`${name}\``);
    }
  }
  const dir = await mkdtemp(path.join(tmpdir(), "kmiri-program-"));
  try {
    for (const [name, text] of files) {
      const file = path.join(dir, name);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, text);
    }
    return await f(dir, entry);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
