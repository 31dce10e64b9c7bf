import { readdirSync } from "node:fs";
import { tempProgram, writeFile } from "../support/temp-programs.js";
import * as path from "node:path";
import type { Node, Program } from "acorn";
import { SourceMapConsumer } from "source-map";
import { beforeEach, describe, expect, it } from "vitest";
import { LoadError, loadProgram, loadPrograms, resetTscStats, tscStats } from "../../src/interp/loader/index.js";
import { createPositionMapper, decodeSourceMap } from "../../src/interp/loader/source-map.js";
import { scanImportHints } from "../../src/interp/loader/resolve.js";
import { compileKey, readCached } from "../../src/interp/loader/tsc.js";

const fixture = (files: Record<string, string>) => tempProgram(files, "kmiri-loader-test-");
const write = writeFile;

/** All nodes of a tree, depth first. */
function nodes(root: Node): Node[] {
  const out: Node[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value !== null && typeof value === "object" && typeof (value as Node).type === "string") {
      out.push(value as Node);
      for (const [key, child] of Object.entries(value)) if (key !== "loc") visit(child);
    }
  };
  visit(root);
  return out;
}

/** The CallExpression whose callee is the identifier or member `name` (e.g. "dist", "Math.sqrt"). */
function findCall(ast: Program, name: string): Node {
  const calleeName = (callee: any): string =>
    callee.type === "Identifier" ? callee.name : callee.type === "MemberExpression" ? `${calleeName(callee.object)}.${callee.property.name}` : "?";
  const call = nodes(ast).find((n) => n.type === "CallExpression" && calleeName((n as any).callee) === name);
  if (!call) throw new Error(`no call of ${name}`);
  return call;
}

/** 1-based line and column of the first occurrence of `needle` in `text`. */
function positionOf(text: string, needle: string): { line: number; column: number } {
  const index = text.indexOf(needle);
  if (index < 0) throw new Error(`${needle} not in text`);
  const before = text.slice(0, index).split("\n");
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

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

describe("loadProgram", () => {
  it("loads a single TS file", async () => {
    const { dir, cacheDir } = fixture({
      "main.ts": `import { alloc } from "kmiri/rt";\nconst n: number = 4;\nexport function main(): void { alloc(n); }\n`,
    });
    const program = await loadProgram("main.ts", { cwd: dir, cacheDir });
    const main = program.entry;
    expect(main.path).toBe(path.join(dir, "main.ts"));
    expect(main.displayPath).toBe("main.ts");
    expect(main.source).toContain("const n: number = 4;");
    expect(main.js).toContain("const n = 4;");
    expect(main.js).not.toContain("sourceMappingURL");
    expect(main.ast.type).toBe("Program");
    expect(main.ast.sourceType).toBe("module");
    expect(main.ast.body[0]!.loc).toBeDefined();
    expect(main.ast.body[0]!.range).toBeDefined();
    expect(main.imports).toEqual(new Map([["kmiri/rt", { kind: "builtin", name: "kmiri/rt" }]]));
    expect([...program.modules.keys()]).toEqual([main.path]);
    expect(tscStats.runs).toBe(1);
  });

  it("down-levels to ES2019", async () => {
    const { dir, cacheDir } = fixture({
      "main.ts": `class C { x = 1; static s = 2; }\nexport const v = (new C() as any)?.x ?? 0;\n`,
    });
    const { entry } = await loadProgram("main.ts", { cwd: dir, cacheDir });
    expect(entry.js).not.toContain("?.");
    expect(entry.js).not.toContain("??");
    expect(entry.js).toContain("this.x = 1");
  });

  it("loads an import graph with .js specifiers, index.ts and type-only imports", async () => {
    const { dir, cacheDir } = fixture({
      "src/main.ts": [
        `import type { Page } from "./types.js";`,
        `import type { Gone } from "./no-such-file.js";`,
        `import { add } from "./b.js";`,
        `import { twice } from "./lib";`,
        `export * from "./lib/index.js";`,
        `export function main(p: Page): number { return twice(add(p.n, 1)); }`,
      ].join("\n"),
      "src/types.ts": `export interface Page { n: number }\n`,
      "src/b.ts": `export function add(a: number, b: number): number { return a + b; }\n`,
      "src/lib/index.ts": `import { add } from "../b.js";\nimport { yieldNow } from "kmiri/mirch";\nexport function twice(x: number): number { yieldNow(); return add(x, x); }\n`,
    });
    const program = await loadProgram("src/main.ts", { cwd: dir, cacheDir });
    const p = (name: string) => path.join(dir, name);
    expect(new Set(program.modules.keys())).toEqual(new Set([p("src/main.ts"), p("src/b.ts"), p("src/lib/index.ts")]));
    expect(program.entry.imports).toEqual(
      new Map([
        ["./b.js", { kind: "module", path: p("src/b.ts") }],
        ["./lib", { kind: "module", path: p("src/lib/index.ts") }],
        ["./lib/index.js", { kind: "module", path: p("src/lib/index.ts") }],
      ]),
    );
    const lib = program.modules.get(p("src/lib/index.ts"))!;
    expect(lib.displayPath).toBe("src/lib/index.ts");
    expect(lib.imports.get("kmiri/mirch")).toEqual({ kind: "builtin", name: "kmiri/mirch" });
    // One tsc run for the whole graph (types.ts is not even compiled: its imports are type-only).
    expect(tscStats.runs).toBe(1);
  });

  it("loads several entries into one program sharing modules", async () => {
    const { dir, cacheDir } = fixture({
      "tests/a.test.ts": `import { f } from "../lib.js";\nf();\n`,
      "tests/b.test.ts": `import { f } from "../lib.js";\nf();\n`,
      "lib.ts": `export function f(): void {}\n`,
    });
    const { entries, modules } = await loadPrograms(["tests/a.test.ts", "tests/b.test.ts"], { cwd: dir, cacheDir });
    expect(entries.map((m) => m.displayPath)).toEqual(["tests/a.test.ts", "tests/b.test.ts"]);
    expect(modules.size).toBe(3);
    expect(tscStats.runs).toBe(1);
  });

  it("handles import cycles and .js files importing .ts files", async () => {
    const { dir, cacheDir } = fixture({
      "main.js": `import { a } from "./a.js";\nexport const v = a(3);\n`,
      "a.ts": `import { b } from "./b.js";\nexport function a(n: number): number { return n > 0 ? b(n - 1) : 0; }\n`,
      "b.ts": `import { a } from "./a.js";\nexport function b(n: number): number { return a(n); }\n`,
    });
    const program = await loadProgram("main.js", { cwd: dir, cacheDir });
    expect([...program.modules.values()].map((m) => m.displayPath).sort()).toEqual(["a.ts", "b.ts", "main.js"]);
    expect(program.entry.imports.get("./a.js")).toEqual({ kind: "module", path: path.join(dir, "a.ts") });
    expect(tscStats.runs).toBe(1);
  });

  it("loads a .js entry without tsc", async () => {
    const { dir, cacheDir } = fixture({
      "main.js": `import { g } from "./helper.mjs";\n\nexport const v = g(1);\n`,
      "helper.mjs": `export function g(x) { return x + 1; }\n`,
    });
    const program = await loadProgram(path.join(dir, "main.js"), { cwd: dir, cacheDir });
    expect(tscStats.runs).toBe(0);
    const main = program.entry;
    expect(main.js).toBe(main.source);
    expect(main.imports.get("./helper.mjs")).toEqual({ kind: "module", path: path.join(dir, "helper.mjs") });
    expect(program.modules.size).toBe(2);
    const call = findCall(main.ast, "g");
    expect(main.toSource(call.loc!.start.line, call.loc!.start.column)).toEqual({ line: 3, column: 18 });
  });

  it("maps positions in the JS back to the .ts", async () => {
    const source = [
      `interface Point { x: number; y: number }`,
      ``,
      `function dist(p: Point, q: Point): number {`,
      ``,
      ``,
      `  const dx: number = p.x - q.x;`,
      `  const dy: number = (p.y as number) - (q.y as number);`,
      `  return Math.sqrt(dx * dx + dy * dy);`,
      `}`,
      ``,
      `type Unused<T> = { [K in keyof T]: T[K] };`,
      `export const d: number = /* here */ dist({ x: 0, y: 0 } as Point, <Point>{ x: 3, y: 4 });`,
      `enum Color { Red, Green }`,
      `export const c: Color = Color.Green;`,
    ].join("\n");
    const { dir, cacheDir } = fixture({ "geo.ts": source });
    const { entry } = await loadProgram("geo.ts", { cwd: dir, cacheDir });

    const dist = findCall(entry.ast, "dist");
    expect(entry.toSource(dist.loc!.start.line, dist.loc!.start.column)).toEqual(positionOf(source, "dist({"));
    // The call moved: the TS line has annotations and a cast before it, the JS line has none.
    expect(dist.loc!.start.column + 1).not.toBe(positionOf(source, "dist({").column);
    const sqrt = findCall(entry.ast, "Math.sqrt");
    expect(entry.toSource(sqrt.loc!.start.line, sqrt.loc!.start.column)).toEqual(positionOf(source, "Math.sqrt"));
    const dy = nodes(entry.ast).find((n) => n.type === "VariableDeclarator" && (n as any).id.name === "dy")!;
    expect(entry.toSource(dy.loc!.start.line, dy.loc!.start.column)).toEqual(positionOf(source, "dy: number"));

    // Agrees with source-map's own lookup wherever that one finds a mapping on the same line.
    const consumer = await new SourceMapConsumer(JSON.parse(await mapOf(cacheDir, source)));
    try {
      let compared = 0;
      for (const node of nodes(entry.ast)) {
        const { line, column } = node.loc!.start;
        const expected = consumer.originalPositionFor({ line, column, bias: SourceMapConsumer.GREATEST_LOWER_BOUND });
        if (expected.line == null || expected.column == null) continue;
        expect(entry.toSource(line, column)).toEqual({ line: expected.line, column: expected.column + 1 });
        compared++;
      }
      expect(compared).toBeGreaterThan(50);
    } finally {
      consumer.destroy();
    }
  });

  it("falls back to the nearest earlier mapping", async () => {
    // Generated line 1: mappings at columns 0 and 10; line 2: none; line 3: one at column 4.
    const map = JSON.stringify({ version: 3, sources: ["a.ts"], names: [], mappings: "AAAA,UAAE;;IACA", file: "a.js" });
    const toSource = createPositionMapper(await decodeSourceMap(map));
    expect(toSource(1, 0)).toEqual({ line: 1, column: 1 });
    expect(toSource(1, 9)).toEqual({ line: 1, column: 1 });
    expect(toSource(1, 10)).toEqual({ line: 1, column: 3 });
    expect(toSource(1, 99)).toEqual({ line: 1, column: 3 });
    expect(toSource(2, 5)).toEqual({ line: 1, column: 3 });
    expect(toSource(3, 2)).toEqual({ line: 1, column: 3 });
    expect(toSource(3, 4)).toEqual({ line: 2, column: 3 });
    expect(toSource(50, 0)).toEqual({ line: 2, column: 3 });
  });

  it("hits the cache on a second load and recompiles only a changed file", async () => {
    const files = {
      "main.ts": `import { a } from "./a.js";\nimport { b } from "./b.js";\nexport const v: number = a() + b();\n`,
      "a.ts": `export function a(): number { return 1; }\n`,
      "b.ts": `export function b(): number { return 2; }\n`,
    };
    const { dir, cacheDir } = fixture(files);
    const first = await loadProgram("main.ts", { cwd: dir, cacheDir });
    expect(tscStats).toMatchObject({ runs: 1, filesCompiled: 3, cacheHits: 0 });
    const cached = readdirSync(cacheDir).sort();
    expect(cached).toHaveLength(6);
    expect(cached.filter((f) => f.endsWith(".tmp"))).toEqual([]);

    resetTscStats();
    const second = await loadProgram("main.ts", { cwd: dir, cacheDir });
    expect(tscStats).toMatchObject({ runs: 0, filesCompiled: 0, cacheHits: 3 });
    expect(second.entry.js).toBe(first.entry.js);
    expect(second.entry.ast).not.toBe(first.entry.ast); // a fresh tree each load

    resetTscStats();
    write(dir, "b.ts", `export function b(): number { return 3; }\n`);
    const third = await loadProgram("main.ts", { cwd: dir, cacheDir });
    expect(tscStats).toMatchObject({ runs: 1, filesCompiled: 1, cacheHits: 2 });
    expect(third.modules.get(path.join(dir, "b.ts"))!.js).toContain("return 3");
  });

  it("survives concurrent loads sharing a cache directory", async () => {
    const { dir, cacheDir } = fixture({
      "main.ts": `import { a } from "./a.js";\nexport const v: number = a();\n`,
      "a.ts": `export function a(): number { return 1; }\n`,
    });
    const programs = await Promise.all([1, 2, 3, 4].map(() => loadProgram("main.ts", { cwd: dir, cacheDir })));
    for (const program of programs) expect(program.modules.size).toBe(2);
    expect(readdirSync(cacheDir).sort()).toHaveLength(4);
  });

  it("takes another round when the pre-pass misses an import", async () => {
    const { dir, cacheDir } = fixture({
      // A comment between `from` and the specifier hides the import from the regex pre-pass.
      "main.ts": `import { a } from /* hidden */ "./a.js";\nexport const v: number = a();\n`,
      "a.ts": `export function a(): number { return 1; }\n`,
    });
    expect(scanImportHints(`import { a } from /* hidden */ "./a.js";`)).toEqual([]);
    const program = await loadProgram("main.ts", { cwd: dir, cacheDir });
    expect(program.modules.size).toBe(2);
    expect(tscStats.runs).toBe(2);
  });

  it("reports a syntax error with its .ts location", async () => {
    const { dir, cacheDir } = fixture({
      "main.ts": `import { f } from "./bad.js";\nf();\n`,
      "bad.ts": `export function f(): void {\n  let x: number = 1\n  let y = (;\n}\n`,
    });
    const error = await loadError(loadProgram("main.ts", { cwd: dir, cacheDir }));
    expect(error.reason).toBe("syntax");
    expect(error.location).toEqual({ file: "bad.ts", line: 3, column: 12 });
    expect(error.message).toContain("bad.ts:3:12");
    // Files with errors are not cached: the error comes back on the next load.
    const again = await loadError(loadProgram("main.ts", { cwd: dir, cacheDir }));
    expect(again.location).toEqual(error.location);
  });

  it("reports a syntax error in a .js file", async () => {
    const { dir, cacheDir } = fixture({ "main.js": `const a = 1;\n\nconst b = a +;\n` });
    const error = await loadError(loadProgram("main.js", { cwd: dir, cacheDir }));
    expect(error.reason).toBe("syntax");
    expect(error.location).toEqual({ file: "main.js", line: 3, column: 14 });
  });

  it("reports an unknown import with the location of the import in the .ts", async () => {
    const { dir, cacheDir } = fixture({
      "examples/a.ts": `// header\ntype A = number;\n\n  import { helper } from "./missing";\nexport const v: A = helper();\n`,
      "examples/b.ts": `import { readFileSync } from "node:fs";\nreadFileSync("x");\n`,
    });
    const missing = await loadError(loadProgram("examples/a.ts", { cwd: dir, cacheDir }));
    expect(missing.reason).toBe("unknown-import");
    expect(missing.location).toEqual({ file: "examples/a.ts", line: 4, column: 3 });
    expect(missing.message).toContain(`cannot find module "./missing" imported from examples/a.ts:4:3`);
    expect(missing.message).toContain(`"kmiri/rt"`);

    const bare = await loadError(loadProgram("examples/b.ts", { cwd: dir, cacheDir }));
    expect(bare.reason).toBe("unknown-import");
    expect(bare.location).toEqual({ file: "examples/b.ts", line: 1, column: 1 });
    expect(bare.message).toContain(`"node:fs"`);
  });

  it("reports a missing entry file", async () => {
    const { dir, cacheDir } = fixture({});
    const error = await loadError(loadProgram("nope.ts", { cwd: dir, cacheDir }));
    expect(error.reason).toBe("missing-file");
    expect(error.message).toContain("nope.ts");
    expect(error.location).toBeUndefined();
  });

  it("rejects dynamic import()", async () => {
    const { dir, cacheDir } = fixture({
      "main.ts": `export async function f(): Promise<unknown> {\n  return await import("./a.js");\n}\n`,
      "a.ts": `export const a = 1;\n`,
    });
    const error = await loadError(loadProgram("main.ts", { cwd: dir, cacheDir }));
    expect(error.reason).toBe("unsupported");
    expect(error.location).toEqual({ file: "main.ts", line: 2, column: 16 });
  });

  it("rejects imports of non-program files", async () => {
    const { dir, cacheDir } = fixture({ "main.ts": `import data from "./data.json";\nconsole.log(data);\n`, "data.json": `{}` });
    const error = await loadError(loadProgram("main.ts", { cwd: dir, cacheDir }));
    expect(error.reason).toBe("unsupported");
    expect(error.location).toEqual({ file: "main.ts", line: 1, column: 1 });
  });
});

/** The cached source map of a `.ts` text. */
async function mapOf(cacheDir: string, source: string): Promise<string> {
  const cached = await readCached(cacheDir, compileKey(source));
  if (!cached) throw new Error("not cached");
  return cached.map;
}
