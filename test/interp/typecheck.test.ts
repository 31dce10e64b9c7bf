// The type check before a run (src/interp/loader/typecheck.ts): a program with a type error is
// reported at its `.ts` location with TypeScript's code and does not run; `typecheck: false`
// (`--no-typecheck`) runs it anyway; kmiri/rt's own types are checked; results are cached by
// content, so a second check of an unchanged program starts no tsc; the other programs of a
// directory are checked in the same tsc run.
import { tempProgram, writeFile } from "../support/temp-programs.js";
import * as path from "node:path";
import { beforeEach, describe, expect, test } from "vitest";
import { runFile } from "../../src/driver/run.js";
import { testPath } from "../../src/driver/test-path.js";
import { checkCorpusFile } from "../../src/driver/corpus.js";
import { runManySeeds } from "../../src/driver/many-seeds.js";
import { createMachine } from "../../src/driver/create-machine.js";
import { checkProgramTypes, LoadError, resetTscStats, tscStats } from "../../src/interp/loader/index.js";
import { parseArgs } from "../../src/cli/args.js";
import { kmiri } from "../support/cli-in-process.js";

const FIXTURES = "test/fixtures/typecheck";
const fixture = (name: string) => `${FIXTURES}/${name}`;

const write = writeFile;

async function loadError(promise: Promise<unknown>): Promise<LoadError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(LoadError);
    return error as LoadError;
  }
  throw new Error("expected a LoadError");
}

beforeEach(() => resetTscStats());

describe("a type error is the program's error, before the run", () => {
  test("reported with its .ts location, TypeScript's code and message; the program does not run", async () => {
    const printed: string[] = [];
    const e = await loadError(runFile(fixture("type-error.ts"), { onOutput: (line) => printed.push(line) }));
    expect(e.reason).toBe("type");
    expect(e.location).toEqual({ file: fixture("type-error.ts"), line: 6, column: 9 });
    expect(e.diagnostics).toEqual([
      { file: fixture("type-error.ts"), line: 6, column: 9, code: "TS2322", message: "Type 'string' is not assignable to type 'number'." },
    ]);
    expect(e.message).toBe(
      "type error in test/fixtures/typecheck/type-error.ts:6:9: Type 'string' is not assignable to type 'number'. (TS2322); " +
        "fix the program's types, or turn the type check off (`--no-typecheck`) to run it anyway",
    );
    // Run, it would have printed and then used freed memory.
    expect(printed).toEqual([]);
    // Natively too.
    expect((await loadError(runFile(fixture("type-error.ts"), { native: true }))).reason).toBe("type");
  });

  test("with the check off (`typecheck: false`) the same program runs", async () => {
    const r = await runFile(fixture("type-error.ts"), { typecheck: false });
    expect(r.output[0]).toBe("the program ran three");
    expect(r.ub.map((u) => [u.kind, u.location.line])).toEqual([["use-after-free", 12]]);
    expect(r.exitCode).toBe(1);
    expect((await runFile(fixture("type-error.ts"), { typecheck: false, native: true })).output[0]).toBe("the program ran three");
  });

  test("a clean program (kmiri/rt's types used as meant, a type-only import) runs", async () => {
    const r = await runFile(fixture("clean.ts"));
    expect(r.exitCode).toBe(0);
    expect(r.output).toEqual(["answer 42"]);
  });

  test("kmiri/rt's declarations are checked against: a wrong argument type to an rt function", async () => {
    const e = await loadError(runFile(fixture("rt-misuse.ts")));
    expect(e.reason).toBe("type");
    expect(e.diagnostics).toEqual([
      {
        file: fixture("rt-misuse.ts"),
        line: 5,
        column: 26,
        code: "TS2345",
        message: "Argument of type 'string' is not assignable to parameter of type 'number'.",
      },
    ]);
  });

  test("every error is listed, the first one is the location", async () => {
    const { dir, cacheDir } = tempProgram({
      "main.ts": `import { f } from "./util.js";\nexport function main(): void {\n  const s: string = f();\n  console.log(s.size);\n}\n`,
      "util.ts": `export function f(): number {\n  return "one";\n}\n`,
    });
    const found = await checkProgramTypes(["main.ts"], { cwd: dir, cacheDir });
    expect(found.map((d) => `${d.file}:${d.line}:${d.column} ${d.code}`)).toEqual(["main.ts:3:9 TS2322", "main.ts:4:17 TS2339", "util.ts:2:3 TS2322"]);
    const e = await loadError(runFile("main.ts", { cwd: dir }));
    expect(e.location).toEqual({ file: "main.ts", line: 3, column: 9 });
    expect(e.message).toMatch(/^type error in main\.ts:3:9: Type 'number' is not assignable to type 'string'\. \(TS2322\) \(and 2 more type errors: main\.ts:4:17: Property 'size' does not exist on type 'string'\. \(TS2339\); util\.ts:2:3: /);
  });

  test("the globals the Machine hands a program are declared; Node's are not", async () => {
    const { dir, cacheDir } = tempProgram({
      "ok.ts": `export function main(): void {\n  console.info(Math.max(1, 2));\n  queueMicrotask(() => console.error("later"));\n}\n`,
      "node.ts": `export function main(): void {\n  console.log(process.argv);\n}\n`,
    });
    expect(await checkProgramTypes(["ok.ts"], { cwd: dir, cacheDir, siblings: false })).toEqual([]);
    const found = await checkProgramTypes(["node.ts"], { cwd: dir, cacheDir, siblings: false });
    expect(found.map((d) => [d.line, d.column, d.code])).toEqual([[2, 15, "TS2591"]]);
  });
});

describe("every way to run a program checks it first", () => {
  test("kmiri test: the test files", async () => {
    const { dir } = tempProgram({
      "t.ts": `import { ktest } from "kmiri/rt";\nktest("adds", () => {\n  const n: number = "2";\n  console.log("the test ran", n);\n});\n`,
    });
    const e = await loadError(testPath("t.ts", { cwd: dir }));
    expect(e.diagnostics?.map((d) => [d.file, d.line, d.code])).toEqual([["t.ts", 3, "TS2322"]]);
    const r = await testPath("t.ts", { cwd: dir, typecheck: false });
    expect(r.tests.map((t) => [t.name, t.status, t.output])).toEqual([["adds", "pass", ["the test ran 2"]]]);
  });

  test("kmiri corpus: a file with a type error fails, saying why", async () => {
    const c = await checkCorpusFile(fixture("type-error.ts"));
    expect(c.ok).toBe(false);
    expect(c.problems).toEqual([expect.stringMatching(/^could not be loaded: type error in test\/fixtures\/typecheck\/type-error\.ts:6:9: .*\(TS2322\)/)]);
    expect((await checkCorpusFile(fixture("type-error.ts"), { typecheck: false })).problems).toEqual([
      expect.stringMatching(/^unexpected use-after-free at test\/fixtures\/typecheck\/type-error\.ts:12:/),
    ]);
  });

  test("--many-seeds: before any seed runs", async () => {
    const e = await loadError(runManySeeds(fixture("type-error.ts"), { from: 0, to: 3, workers: 0 }));
    expect(e.reason).toBe("type");
    const r = await runManySeeds(fixture("type-error.ts"), { from: 0, to: 3, workers: 0, typecheck: false });
    expect(r.failed).toEqual([0, 1, 2]);
  });

  test("createMachine, from source text", async () => {
    const e = await loadError(createMachine().run({ source: `export function main(): void {\n  const x: boolean = 1;\n}\n`, fileName: "x.ts" }));
    expect(e.location).toEqual({ file: "x.ts", line: 2, column: 9 });
  });
});

describe("the cache", () => {
  test("a second check of an unchanged program starts no tsc; a change to a type-only import is seen", async () => {
    const { dir, cacheDir } = tempProgram({
      "main.ts": `import type { Point } from "./point.js";\nexport function main(): void {\n  const p: Point = { x: 1, y: 2 };\n  console.log(p.x + p.y);\n}\n`,
      "point.ts": `export interface Point { x: number; y: number }\n`,
    });
    expect(await checkProgramTypes(["main.ts"], { cwd: dir, cacheDir })).toEqual([]);
    expect(tscStats).toMatchObject({ checks: 1, checkHits: 0 });

    resetTscStats();
    expect(await checkProgramTypes(["main.ts"], { cwd: dir, cacheDir })).toEqual([]);
    expect(tscStats).toMatchObject({ runs: 0, checks: 0, checkHits: 1 });

    // point.ts is imported for its type only (tsc erases the import, the loader never sees it).
    resetTscStats();
    write(dir, "point.ts", `export interface Point { x: number; y: string }\n`);
    const found = await checkProgramTypes(["main.ts"], { cwd: dir, cacheDir });
    expect(found.map((d) => [d.file, d.line, d.code])).toEqual([["main.ts", 3, "TS2322"]]);
    expect(tscStats).toMatchObject({ runs: 1, checks: 1 });

    // Errors are cached too.
    resetTscStats();
    expect(await checkProgramTypes(["main.ts"], { cwd: dir, cacheDir })).toEqual(found);
    expect(tscStats).toMatchObject({ runs: 0, checkHits: 1 });

    // A file that would change what an import resolves to (`./point.js` is `point.ts` first).
    resetTscStats();
    write(dir, "point.ts", `export interface Point { x: number; y: number }\n`);
    expect(await checkProgramTypes(["main.ts"], { cwd: dir, cacheDir })).toEqual([]);
    expect(tscStats.runs).toBe(0);
    write(dir, "point.js", `export const unused = 1;\n`);
    await checkProgramTypes(["main.ts"], { cwd: dir, cacheDir });
    expect(tscStats.runs).toBe(1);
  });

  test("a second run of an unchanged program starts no tsc at all (compile and check cached)", async () => {
    await runFile(fixture("clean.ts"));
    resetTscStats();
    const r = await runFile(fixture("clean.ts"));
    expect(r.exitCode).toBe(0);
    expect(tscStats).toMatchObject({ runs: 0, checks: 0, checkHits: 1 });
  });

  test("the key does not depend on where the program is: the same source in a fresh directory hits", async () => {
    const source = `import { Box, u32 } from "kmiri/rt";\nexport function main(): void {\n  const b = Box.new(u32, 7);\n  console.log("typecheck cache", b.read());\n  b.drop();\n}\n`;
    const machine = createMachine();
    await machine.run({ source });
    resetTscStats();
    const r = await machine.run({ source });
    expect(r.output).toEqual(["typecheck cache 7"]);
    expect(tscStats).toMatchObject({ runs: 0, checkHits: 1 });
  });

  test("a program of .js files only starts no tsc", async () => {
    const { dir, cacheDir } = tempProgram({ "main.js": `export function main() { console.log(1); }\n` });
    expect(await checkProgramTypes(["main.js"], { cwd: dir, cacheDir })).toEqual([]);
    expect(tscStats.runs).toBe(0);
  });

  test("a program that names a package is checked but not cached (its files are not all known)", async () => {
    const { dir, cacheDir } = tempProgram({
      "main.ts": `import type { Node } from "acorn";\nexport function main(n?: Node): void {\n  console.log(n);\n}\n`,
    });
    const first = await checkProgramTypes(["main.ts"], { cwd: dir, cacheDir });
    expect(first.map((d) => d.code)).toEqual(["TS2307"]);
    await checkProgramTypes(["main.ts"], { cwd: dir, cacheDir });
    expect(tscStats.checks).toBe(2);
  });
});

describe("batches", () => {
  const programs = {
    "a.ts": `import { twice } from "./lib.js";\nexport function main(): void {\n  console.log(twice(2));\n}\n`,
    "b.ts": `export function main(): void {\n  const n: number = "b";\n  console.log(n);\n}\n`,
    "c.ts": `export function main(): void {\n  const n: number = 3;\n  console.log(n);\n}\n`,
    "lib.ts": `export function twice(n: number): number {\n  return 2 * n;\n}\n`,
  };

  test("a miss checks the other programs of the directory in the same tsc run", async () => {
    const { dir, cacheDir } = tempProgram(programs);
    expect(await checkProgramTypes(["a.ts"], { cwd: dir, cacheDir })).toEqual([]);
    expect(tscStats).toMatchObject({ checks: 1, programsChecked: 3 });
    resetTscStats();
    expect((await checkProgramTypes(["b.ts"], { cwd: dir, cacheDir })).map((d) => [d.file, d.line, d.code])).toEqual([["b.ts", 2, "TS2322"]]);
    expect(await checkProgramTypes(["c.ts"], { cwd: dir, cacheDir })).toEqual([]);
    expect(tscStats).toMatchObject({ runs: 0, checkHits: 2 });
  });

  test("a syntax error in another program of the directory does not hide errors (tsc would skip its semantic check)", async () => {
    const { dir, cacheDir } = tempProgram({
      ...programs,
      "d.ts": `export function main(): void {\n  let x = (;\n}\n`,
    });
    expect(await checkProgramTypes(["c.ts"], { cwd: dir, cacheDir })).toEqual([]);
    expect(tscStats.checks).toBe(2);
    resetTscStats();
    expect((await checkProgramTypes(["b.ts"], { cwd: dir, cacheDir })).map((d) => d.code)).toEqual(["TS2322"]);
    expect(tscStats.runs).toBe(0);
  });

  test("`siblings: false` checks the program alone", async () => {
    const { dir, cacheDir } = tempProgram(programs);
    await checkProgramTypes(["a.ts"], { cwd: dir, cacheDir, siblings: false });
    expect(tscStats).toMatchObject({ checks: 1, programsChecked: 1 });
  });
});

describe("the command line", () => {
  test("a type error: exit 2, `error:` with the location and a snippet, no program output", async () => {
    const r = await kmiri(["run", fixture("type-error.ts")]);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toContain("error: type error in test/fixtures/typecheck/type-error.ts:6:9: Type 'string' is not assignable to type 'number'. (TS2322)");
    expect(r.err).toContain("--> test/fixtures/typecheck/type-error.ts:6:9\n");
    expect(r.err).toContain(`6 |   const count: number = "three";`);
  });

  test("--json: one object with the error, its location and message, its reason and every type error", async () => {
    const r = await kmiri(["run", fixture("type-error.ts"), "--json"]);
    expect(r.code).toBe(2);
    const json = JSON.parse(r.out);
    expect(json).toMatchObject({
      ub: [],
      exitCode: 2,
      error: { kind: "load", reason: "type", location: { file: fixture("type-error.ts"), line: 6, column: 9 } },
    });
    expect(json.error.message).toContain("(TS2322)");
    expect(json.error.diagnostics[0]).toMatchObject({ file: fixture("type-error.ts"), line: 6, column: 9, code: "TS2322" });
  });

  test("--no-typecheck runs the program (for run, test and corpus)", async () => {
    const r = await kmiri(["run", fixture("type-error.ts"), "--no-typecheck"]);
    expect(r.code).toBe(1);
    expect(r.out).toBe("the program ran three\n");
    expect(r.err).toContain("error: Undefined Behavior: memory access failed: alloc1 has been freed");
    expect(parseArgs(["run", "a.ts", "--no-typecheck"])).toMatchObject({ flags: { noTypecheck: true } });
    expect(parseArgs(["test", "dir", "--no-typecheck"])).toMatchObject({ flags: { noTypecheck: true } });
    expect(parseArgs(["corpus", "dir", "--no-typecheck"])).toMatchObject({ flags: { noTypecheck: true } });
  });

  test("--help documents the flag", async () => {
    const r = await kmiri(["--help"]);
    expect(r.out).toContain("--no-typecheck");
  });
});
