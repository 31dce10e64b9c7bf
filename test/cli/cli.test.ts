import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { execFile, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { main } from "../../src/cli/main.js";
import { engineOptions } from "../../src/cli/options.js";
import { parseArgs, UsageError } from "../../src/cli/args.js";
import type { CliIO } from "../../src/cli/io.js";
import type { Engine, EngineRunOptions, EngineTestOptions } from "../../src/cli/engine.js";
import { LoadError } from "../../src/interp/loader/errors.js";
import type { UBReport } from "../../src/interp/report.js";
import type { RunResult, TestRunResult } from "../../src/driver/results.js";

const STATS = { steps: 1, threads: 1, switches: 0, allocations: 0, ms: 12 };

const UB: UBReport = {
  kind: "use-after-free",
  title: "Undefined Behavior",
  message: "memory access failed: alloc3 has been freed, so this pointer is dangling",
  location: { file: "uaf.ts", line: 2, column: 3, endLine: 2, endColumn: 11 },
  thread: "main",
  backtrace: [{ fn: "main", location: { file: "uaf.ts", line: 2, column: 3 } }],
  help: [],
};

/** An engine whose behaviour is chosen by the file name; it records the options it got. */
function fakeEngine(calls: (EngineRunOptions | EngineTestOptions)[]): Engine {
  return {
    async runFile(file, options = {}) {
      calls.push(options);
      if (file === "missing.ts") throw new LoadError("cannot find `missing.ts`", "missing-file");
      if (file === "syntax.ts") throw new LoadError("expected `;`", "syntax", { file: "syntax.ts", line: 1, column: 5 });
      if (file === "crash.ts") throw new TypeError("x is undefined");
      options.onOutput?.("hello");
      const result: RunResult = { seed: options.seed ?? 0, ub: [], output: ["hello"], exitCode: 0, stats: STATS };
      if (file === "uaf.ts") return { ...result, ub: [UB], exitCode: 1 };
      if (file === "panic.ts") return { ...result, panic: { thread: "main", message: "boom", backtrace: [] }, exitCode: 1 };
      if (file === "threads.ts") {
        const cpu1 = { thread: "cpu1", message: "bad frame", location: { file: "threads.ts", line: 5, column: 3 }, backtrace: [] };
        const joined = { thread: "main", message: "thread 'cpu1' panicked: bad frame", location: { file: "threads.ts", line: 10, column: 3 }, backtrace: [] };
        return { ...result, threadPanics: [cpu1], panic: joined, exitCode: 1 };
      }
      if (file === "detached.ts") {
        return { ...result, threadPanics: [{ thread: "cpu2", message: "lost", backtrace: [] }] };
      }
      return result;
    },
    async checkCorpus(dir, options = {}) {
      calls.push(options);
      return { cases: [], passed: 0, failed: 0 };
    },
    async testPath(path, options = {}) {
      calls.push(options);
      const row = { module: "t.ts", tests: 2, lines: { covered: 3, total: 4 }, unsafe: { covered: 1, total: 1 }, nativeMs: 1, checkedMs: 9 };
      const result: TestRunResult = {
        seed: options.seed ?? 0,
        tests: [{ name: "a", module: "t.ts", status: "pass", ms: 1, output: [] }],
        ub: [],
        coverage: { modules: [row], total: { ...row, module: "total" }, lines: { "t.ts": [{ line: 1, hit: true }, { line: 2, hit: false }] } },
        stats: STATS,
        exitCode: 0,
      };
      if (path === "bad") {
        result.tests.push({ name: "b", module: "t.ts", status: "ub", ms: 1, output: [], ub: [UB] });
        result.ub = [UB];
        result.exitCode = 1;
      }
      return result;
    },
  };
}

interface Captured extends CliIO {
  out: string;
  err: string;
  written: Record<string, string>;
  calls: (EngineRunOptions | EngineTestOptions)[];
}

function fakeIO(env: Record<string, string> = {}): Captured {
  const calls: (EngineRunOptions | EngineTestOptions)[] = [];
  const io: Captured = {
    out: "",
    err: "",
    written: {},
    calls,
    stdout: (t) => void (io.out += t),
    stderr: (t) => void (io.err += t),
    stdoutIsTTY: false,
    stderrIsTTY: false,
    env,
    cwd: "/nowhere",
    engine: async () => fakeEngine(calls),
    readFile: (path) => (path === "uaf.ts" ? "function main() {\n  p.read();\n}\n" : undefined),
    writeFile: (path, text) => {
      if (path.startsWith("/readonly/")) throw new Error("EACCES: permission denied");
      io.written[path] = text;
    },
  };
  return io;
}

describe("argument parsing", () => {
  test("run and test with their options", () => {
    expect(parseArgs(["run", "a.ts", "--seed", "3", "--json", "--native", "--preemption-rate=0.5", "--max-steps", "100"])).toEqual({
      command: "run", file: "a.ts", flags: { json: true, native: true, seed: 3, preemptionRate: 0.5, maxSteps: 100 },
    });
    expect(parseArgs(["test", "src", "--filter", "frame", "--lcov", "out.lcov", "--sarif=out.sarif"])).toEqual({
      command: "test", path: "src", flags: { json: false, native: false, filter: "frame", lcov: "out.lcov", sarif: "out.sarif" },
    });
    expect(parseArgs(["run", "a.ts", "--sarif", "out.sarif"])).toEqual({
      command: "run", file: "a.ts", flags: { json: false, native: false, sarif: "out.sarif" },
    });
    expect(parseArgs(["run", "--", "--weird.ts"])).toMatchObject({ file: "--weird.ts" });
    expect(parseArgs(["--help"])).toEqual({ command: "help" });
    expect(parseArgs(["run", "x.ts", "-h"])).toEqual({ command: "help" });
    expect(parseArgs(["--version"])).toEqual({ command: "version" });
    expect(parseArgs(["run", "k.ts", "--cpus", "2", "--ram", "1G", "--hostile"])).toEqual({
      command: "run", file: "k.ts", flags: { json: false, native: false, cpus: 2, ram: 2 ** 30, hostile: true },
    });
    expect(engineOptions({ json: false, native: false, cpus: 2, ram: 512 * 2 ** 20, hostile: true }, { cwd: "/" }).mirch).toEqual({ cpus: 2, ramBytes: 512 * 2 ** 20, hostile: true });
  });

  test.each([
    [[], "no command given"],
    [["frobnicate"], "unknown command `frobnicate`"],
    [["run"], "`kmiri run` needs a FILE"],
    [["run", "a.ts", "b.ts"], "unexpected argument `b.ts`"],
    [["run", "a.ts", "--seed"], "option `--seed` needs a value"],
    [["run", "a.ts", "--seed", "-1"], "invalid value `-1` for `--seed`"],
    [["run", "a.ts", "--seed", "1.5"], "invalid value `1.5` for `--seed`"],
    [["run", "a.ts", "--preemption-rate", "2"], "expected a number from 0 to 1"],
    [["run", "a.ts", "--max-steps", "0"], "invalid value `0` for `--max-steps`"],
    [["run", "a.ts", "--filter", "x"], "option `--filter` is only for `kmiri test`"],
    [["run", "a.ts", "--lcov", "x"], "option `--lcov` is only for `kmiri test`"],
    [["run", "a.ts", "--sarif"], "option `--sarif` needs a value"],
    [["run", "a.ts", "--json=yes"], "option `--json` takes no value"],
    [["run", "a.ts", "--bogus"], "unknown option `--bogus`"],
    [["run", "a.ts", "-x"], "unknown option `-x`"],
    [["run", "a.ts", "--cpus", "0"], "invalid value `0` for `--cpus`"],
    [["run", "a.ts", "--ram", "lots"], "expected a size of RAM such as 256M"],
    [["run", "a.ts", "--ram", "1M"], "expected a size of RAM such as 256M"],
  ])("%j is a usage error", (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });
});

describe("kmiri (in-process, fake engine)", () => {
  test("a clean run: output on stdout, nothing on stderr, exit 0", async () => {
    const io = fakeIO();
    expect(await main(["run", "ok.ts", "--seed", "5"], io)).toBe(0);
    expect(io.out).toBe("hello\n");
    expect(io.err).toBe("");
    expect(io.calls[0]).toMatchObject({ seed: 5, cwd: "/nowhere" });
    expect(io.calls[0]).not.toHaveProperty("native");
  });

  test("UB: the report on stderr, exit 1", async () => {
    const io = fakeIO();
    expect(await main(["run", "uaf.ts"], io)).toBe(1);
    expect(io.out).toBe("hello\n");
    expect(io.err).toContain("error: Undefined Behavior: memory access failed: alloc3 has been freed");
    expect(io.err).toContain(" 2 |   p.read();\n   |   ^^^^^^^^ Undefined Behavior occurred here\n");
    expect(io.err.endsWith("error: aborting due to 1 previous error\n")).toBe(true);
  });

  test("a panic: exit 1", async () => {
    const io = fakeIO();
    expect(await main(["run", "panic.ts"], io)).toBe(1);
    expect(io.err).toBe("thread 'main' panicked:\nboom\n");
  });

  test("--json: stdout is exactly one JSON object, output inside it", async () => {
    const io = fakeIO();
    expect(await main(["run", "uaf.ts", "--json"], io)).toBe(1);
    const json = JSON.parse(io.out);
    expect(json).toMatchObject({ seed: 0, output: ["hello"], exitCode: 1, stats: STATS });
    expect(json.ub[0].kind).toBe("use-after-free");
    expect(io.calls[0]).not.toHaveProperty("onOutput");
    expect(io.err).toBe("");
  });

  test("load errors exit 2 with the location; with --json an error object", async () => {
    const io = fakeIO();
    expect(await main(["run", "syntax.ts"], io)).toBe(2);
    expect(io.err).toBe("error: expected `;`\n  --> syntax.ts:1:5\n");
    const j = fakeIO();
    expect(await main(["run", "missing.ts", "--json", "--seed", "9"], j)).toBe(2);
    expect(JSON.parse(j.out)).toMatchObject({ seed: 9, ub: [], exitCode: 2, error: { kind: "load", message: "cannot find `missing.ts`" } });
  });

  test("usage errors exit 2 with the usage", async () => {
    const io = fakeIO();
    expect(await main(["run"], io)).toBe(2);
    expect(io.err).toMatch(/^error: `kmiri run` needs a FILE\n\nUsage: kmiri run FILE/);
    expect(io.out).toBe("");
  });

  test("an internal error: a short message and a request to report it, no stack unless KMIRI_DEBUG=1", async () => {
    const io = fakeIO();
    expect(await main(["run", "crash.ts"], io)).toBe(2);
    expect(io.err).toMatch(/^error: internal error in kmiri: x is undefined\n/);
    expect(io.err).toContain("please report it");
    expect(io.err).not.toContain("    at ");
    const debug = fakeIO({ KMIRI_DEBUG: "1" });
    expect(await main(["run", "crash.ts"], debug)).toBe(2);
    expect(debug.err).toContain("TypeError: x is undefined\n    at ");
  });

  test("help and version", async () => {
    const io = fakeIO();
    expect(await main(["--help"], io)).toBe(0);
    expect(io.out).toContain("kmiri run FILE [options]");
    const v = fakeIO();
    expect(await main(["--version"], v)).toBe(0);
    expect(v.out).toMatch(/^kmiri \d+\.\d+\.\d+\n$/);
  });

  test("test: lines and summary on stdout, failures on stderr, coverage table, exit 1 on UB", async () => {
    const io = fakeIO();
    expect(await main(["test", "bad", "--filter", "t"], io)).toBe(1);
    expect(io.calls[0]).toMatchObject({ filter: "t" });
    expect(io.out).toContain("running 2 tests\ntest t.ts::a ... ok\ntest t.ts::b ... UB\n");
    expect(io.out).toContain("test result: FAILED. 1 passed; 0 failed; 1 ub; finished in 0.01s\n");
    expect(io.out).toContain("module  tests  lines");
    expect(io.err).toContain("---- t.ts::b ----\nerror: Undefined Behavior");
  });

  test("test: --lcov and --sarif write their files, clean exit 0", async () => {
    const io = fakeIO();
    expect(await main(["test", "good", "--lcov", "cov.lcov", "--sarif", "x.sarif"], io)).toBe(0);
    expect(io.written["cov.lcov"]).toBe("TN:\nSF:t.ts\nDA:1,1\nDA:2,0\nLF:2\nLH:1\nend_of_record\n");
    expect(io.err).toBe("");
    const sarif = JSON.parse(io.written["x.sarif"]!);
    expect(sarif).toMatchObject({ version: "2.1.0", runs: [{ tool: { driver: { name: "kmiri" } }, results: [] }] });
    expect(sarif.runs[0].originalUriBaseIds["%SRCROOT%"].uri).toBe("file:///nowhere/");
  });

  test("test --sarif with a finding: one result tagged with its test, exit 1", async () => {
    const io = fakeIO();
    expect(await main(["test", "bad", "--sarif", "x.sarif"], io)).toBe(1);
    const results = JSON.parse(io.written["x.sarif"]!).runs[0].results;
    expect(results).toMatchObject([{ ruleId: "use-after-free", level: "error", properties: { test: "t.ts::b", thread: "main" } }]);
  });

  test("run --sarif writes the log, also with --json; stdout and stderr as without it", async () => {
    const io = fakeIO();
    expect(await main(["run", "uaf.ts", "--sarif", "out.sarif"], io)).toBe(1);
    expect(io.err).toContain("error: aborting due to 1 previous error\n");
    const sarif = JSON.parse(io.written["out.sarif"]!);
    expect(sarif.runs[0].results[0]).toMatchObject({
      ruleId: "use-after-free",
      locations: [{ physicalLocation: { artifactLocation: { uri: "uaf.ts", uriBaseId: "%SRCROOT%" }, region: { startLine: 2, startColumn: 3 } } }],
    });
    const j = fakeIO();
    expect(await main(["run", "uaf.ts", "--json", "--sarif=out.sarif"], j)).toBe(1);
    expect(JSON.parse(j.out).ub[0].kind).toBe("use-after-free");
    expect(JSON.parse(j.written["out.sarif"]!).runs[0].results).toHaveLength(1);
    expect(j.err).toBe("");
  });

  test("an unwritable SARIF file: an error after the report, exit 2", async () => {
    const io = fakeIO();
    expect(await main(["run", "uaf.ts", "--sarif", "/readonly/out.sarif"], io)).toBe(2);
    expect(io.err).toMatch(/error: aborting due to 1 previous error\nerror: could not write the SARIF file `\/readonly\/out.sarif`: EACCES: permission denied\n$/);
    const t = fakeIO();
    expect(await main(["test", "good", "--sarif", "/readonly/out.sarif"], t)).toBe(2);
    expect(t.err).toContain("could not write the SARIF file");
  });

  test("threads' panics: printed before main's, as Rust prints them; in --json as threadPanics", async () => {
    const io = fakeIO();
    expect(await main(["run", "threads.ts"], io)).toBe(1);
    expect(io.err).toBe(
      "thread 'cpu1' panicked at threads.ts:5:3:\nbad frame\n\n" +
        "thread 'main' panicked at threads.ts:10:3:\nthread 'cpu1' panicked: bad frame\n",
    );
    const j = fakeIO();
    expect(await main(["run", "threads.ts", "--json"], j)).toBe(1);
    expect(JSON.parse(j.out).threadPanics).toEqual([{ thread: "cpu1", message: "bad frame", location: { file: "threads.ts", line: 5, column: 3 }, backtrace: [] }]);
    // No thread panicked: no `threadPanics` key.
    const clean = fakeIO();
    await main(["run", "ok.ts", "--json"], clean);
    expect(JSON.parse(clean.out)).not.toHaveProperty("threadPanics");
  });

  test("a thread that panicked without being joined: printed, but the run succeeds", async () => {
    const io = fakeIO();
    expect(await main(["run", "detached.ts"], io)).toBe(0);
    expect(io.err).toBe("thread 'cpu2' panicked:\nlost\n");
  });

  test("test --json: one object with tests and coverage", async () => {
    const io = fakeIO();
    expect(await main(["test", "good", "--json"], io)).toBe(0);
    const json = JSON.parse(io.out);
    expect(Object.keys(json).sort()).toEqual(["coverage", "exitCode", "seed", "stats", "tests", "ub"]);
  });
});

// End to end: the built CLI (`npm run build` first; `npm test` does) on real programs.

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin", "kmiri.js");
const BUILT = existsSync(join(ROOT, "dist", "cli", "main.js")) && existsSync(join(ROOT, "dist", "driver", "run.js"));

const PROGRAMS: Record<string, string> = {
  "clean.ts": `import { alloc, dealloc, u32 } from "kmiri/rt";
export function main() {
  unsafe: {
    const p = alloc(u32);
    p.write(7);
    console.log(\`value \${p.read()}\`);
    dealloc(p, u32);
  }
}
`,
  "uaf.ts": `import { alloc, dealloc, u32 } from "kmiri/rt";
export function main() {
  unsafe: {
    const p = alloc(u32);
    p.write(7);
    dealloc(p, u32);
    console.log(\`value \${p.read()}\`);
  }
}
`,
  "panics.ts": `import { panic } from "kmiri/rt";
export function main() {
  panic("it broke");
}
`,
  "syntax.ts": `export function main( {\n`,
  "pass.test.ts": `import { ktest, assert_eq } from "kmiri/rt";
ktest("adds", () => {
  assert_eq(1 + 1, 2);
});
`,
  "fail.test.ts": `import { ktest, assert_eq } from "kmiri/rt";
ktest("adds_wrong", () => {
  assert_eq(1 + 1, 3);
});
`,
};

describe("kmiri (built CLI, real engine)", () => {
  let dir = "";
  test("the package is built (`npm test` builds it first)", () => {
    expect(BUILT, "dist/ is missing: run `npm run build`").toBe(true);
  });
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "kmiri-cli-"));
    for (const [name, text] of Object.entries(PROGRAMS)) writeFileSync(join(dir, name), text);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const kmiri = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, timeout: 60_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  test("a clean program exits 0 and its output reaches stdout", () => {
    const r = kmiri("run", "clean.ts");
    expect(r.err).toBe("");
    expect(r.out).toBe("value 7\n");
    expect(r.code).toBe(0);
  });

  test("use after free exits 1 with Miri's report on stderr", () => {
    const r = kmiri("run", "uaf.ts");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: Undefined Behavior: /);
    expect(r.err).toContain("  --> uaf.ts:7:");
    expect(r.err).toContain("error: aborting due to 1 previous error");
    expect(r.out).toBe("");
  });

  test("a panic exits 1", () => {
    const r = kmiri("run", "panics.ts");
    expect(r.code).toBe(1);
    expect(r.err).toContain("thread 'main' panicked at panics.ts:3:");
    expect(r.err).toContain("it broke");
  });

  test("--json prints exactly one object", () => {
    const r = kmiri("run", "uaf.ts", "--json", "--seed", "4");
    expect(r.code).toBe(1);
    const json = JSON.parse(r.out);
    expect(json).toMatchObject({ seed: 4, exitCode: 1 });
    expect(json.ub[0]).toMatchObject({ kind: "use-after-free", location: { file: "uaf.ts", line: 7 } });
    for (const f of ["title", "message", "thread", "backtrace", "help"]) expect(json.ub[0]).toHaveProperty(f);
    expect(json).toHaveProperty("stats");
    const clean = JSON.parse(kmiri("run", "clean.ts", "--json").out);
    expect(clean).toMatchObject({ ub: [], output: ["value 7"], exitCode: 0 });
  });

  test("load errors and bad arguments exit 2", () => {
    const syntax = kmiri("run", "syntax.ts");
    expect(syntax.code).toBe(2);
    expect(syntax.err).toMatch(/^error: /);
    expect(syntax.err).not.toContain("internal error");
    expect(kmiri("run", "nope.ts").code).toBe(2);
    const bad = kmiri("run", "clean.ts", "--seed", "x");
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("Usage: kmiri run FILE");
  });

  /** The built CLI run from the repository root, on the repository's own examples and fixtures. */
  const kmiriAtRoot = (...args: string[]) => {
    // Generous: on a fresh clone the whole corpus is type-checked and compiled with a cold cache.
    const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, timeout: 300_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  test("test --many-seeds --workers 2 --coverage-by dir: a racy test fails for some seeds only, listed once", () => {
    const r = kmiriAtRoot("test", "test/fixtures/ktests-seeds", "--many-seeds", "0..20", "--workers", "2", "--coverage-by", "dir");
    expect(r.code).toBe(1);
    expect(r.out.match(/::racy \.\.\. FAILED/g)).toHaveLength(1);
    expect(r.out).toContain("test test/fixtures/ktests-seeds/racy.ts::clean ... ok");
    expect(r.out).toMatch(/^test\/fixtures\/ktests-seeds\s+2\s+/m);
    const seeds = [...r.err.matchAll(/^FAILING SEED: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(seeds.length).toBeGreaterThan(0);
    expect(seeds.length).toBeLessThan(20);
    const json = kmiriAtRoot("test", "test/fixtures/ktests-seeds", "--many-seeds", "0..20", "--workers", "1", "--json");
    expect(JSON.parse(json.out).tests.map((t: { failingSeeds: number[] }) => t.failingSeeds)).toEqual([seeds, []]);
  });

  test("run --sarif: examples/use-after-free.ts as a SARIF log", () => {
    const file = join(dir, "uaf.sarif");
    const r = kmiriAtRoot("run", "examples/use-after-free.ts", "--sarif", file);
    expect(r.code).toBe(1);
    expect(r.err).toContain("error: Undefined Behavior: ");
    const log = JSON.parse(readFileSync(file, "utf8"));
    expect(log).toMatchObject({ $schema: "https://json.schemastore.org/sarif-2.1.0.json", version: "2.1.0" });
    expect(log.runs).toHaveLength(1);
    const run = log.runs[0];
    expect(run.tool.driver.name).toBe("kmiri");
    expect(run.tool.driver.rules.map((rule: { id: string }) => rule.id)).toEqual(["use-after-free"]);
    expect(run.results).toHaveLength(1);
    const result = run.results[0];
    expect(result.ruleId).toBe("use-after-free");
    expect(result.level).toBe("error");
    expect(result.message.text).toMatch(/^Undefined Behavior: memory access failed: alloc\d+ has been freed/);
    const where = result.locations[0].physicalLocation;
    expect(where.artifactLocation).toEqual({ uri: "examples/use-after-free.ts", uriBaseId: "%SRCROOT%" });
    expect(where.region.startLine).toBe(15);
    expect(result.relatedLocations.map((l: { physicalLocation: { region: { startLine: number } } }) => l.physicalLocation.region.startLine)).toEqual([6, 14]);
    expect(result.relatedLocations[0].message.text).toMatch(/was allocated here/);
    expect(result.relatedLocations[1].message.text).toMatch(/was deallocated here/);
    expect(result.stacks[0].frames[0]).toMatchObject({ location: { message: { text: "main" } }, module: "examples/use-after-free.ts" });
    expect(result.properties.thread).toBe("main");
  });

  test("a thread's panic, then main's when it joins the thread: both on stderr in order, exit 1", () => {
    const r = kmiriAtRoot("run", "test/fixtures/cli/thread-panic.ts");
    expect(r.code).toBe(1);
    const cpu1 = r.err.indexOf("thread 'cpu1' panicked at test/fixtures/cli/thread-panic.ts:5:3:\nbad frame\n");
    const main = r.err.indexOf("thread 'main' panicked at test/fixtures/cli/thread-panic.ts:10:");
    expect(cpu1).toBe(0);
    expect(main).toBeGreaterThan(cpu1);
    const json = JSON.parse(kmiriAtRoot("run", "test/fixtures/cli/thread-panic.ts", "--json").out);
    expect(json.exitCode).toBe(1);
    expect(json.threadPanics).toMatchObject([{ thread: "cpu1", message: "bad frame", location: { file: "test/fixtures/cli/thread-panic.ts", line: 5 } }]);
    expect(json.panic).toMatchObject({ thread: "main", location: { line: 10 } });
  });

  /**
   * {@link kmiriAtRoot}, asynchronously: for a long run (the whole corpus, half a minute when the
   * machine is busy), during which a synchronous spawn would block the vitest worker's event loop
   * long enough for its RPC to the main process to time out.
   */
  const kmiriAtRootAsync = (...args: string[]) =>
    new Promise<{ code: number | null; out: string; err: string }>((done) => {
      execFile(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, timeout: 300_000, maxBuffer: 64 * 1024 * 1024 }, (e, out, err) =>
        done({ code: e === null ? 0 : typeof e.code === "number" ? e.code : null, out, err }),
      );
    });

  test("kmiri corpus: the project corpus matches; a mismatching corpus exits 1 naming each problem", async () => {
    const ok = await kmiriAtRootAsync("corpus", "test/corpus");
    expect(ok.out).toMatch(/corpus result: ok\. \d+ passed; 0 failed;/);
    expect(ok.code).toBe(0);
    const bad = kmiriAtRoot("corpus", "test/fixtures/corpus-meta");
    expect(bad.code).toBe(1);
    expect(bad.out).toContain("test/fixtures/corpus-meta/wrong-line.ts ... FAILED\n    unexpected use-after-free at test/fixtures/corpus-meta/wrong-line.ts:7:");
    expect(bad.out).toContain("    expected use-after-free at line 5, not reported");
    expect(bad.out).toMatch(/corpus result: FAILED\. 0 passed; 5 failed;/);
    const json = JSON.parse(kmiriAtRoot("corpus", "test/fixtures/corpus-meta", "--json").out);
    expect(json).toMatchObject({ exitCode: 1, corpus: { passed: 0, failed: 5 } });
  }, 300_000);

  test("an error inside kmiri is reported as kmiri's own, at the program location, exit 2", () => {
    process.env.KMIRI_FAULT_INJECTION = "panic"; // the panic shim then fails inside kmiri
    let r: ReturnType<typeof kmiriAtRoot>;
    try {
      r = kmiriAtRoot("run", "test/fixtures/engine/internal-error.ts");
    } finally {
      delete process.env.KMIRI_FAULT_INJECTION;
    }
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: internal error in kmiri: TypeError: /);
    expect(r.err).toContain("--> test/fixtures/engine/internal-error.ts:6:15");
    expect(r.err).not.toMatch(/^\s+at .*\.js:\d+/m);
  });

  test("--ignore-leaks and --memory-limit reach the engine", () => {
    expect(kmiriAtRoot("run", "test/fixtures/engine/leak.ts").code).toBe(1);
    expect(kmiriAtRoot("run", "test/fixtures/engine/leak.ts", "--ignore-leaks").code).toBe(0);
    const oom = kmiriAtRoot("run", "test/fixtures/engine/too-much-memory.ts", "--memory-limit", "4096");
    expect(oom.code).toBe(1);
    expect(oom.err).toContain("error: resource exhaustion: tried to allocate 8 bytes");
  });

  test("an integer-to-pointer cast warns once (exit 0); --strict-provenance rejects it (exit 1)", () => {
    const warn = kmiriAtRoot("run", "test/corpus/pass/memory/exposed-address.ts");
    expect(warn.code).toBe(0);
    expect(warn.err).toMatch(/^warning: integer-to-pointer cast\n  --> test\/corpus\/pass\/memory\/exposed-address.ts:6:13\n/);
    expect(warn.err.match(/^warning:/gm)).toHaveLength(1);
    const json = JSON.parse(kmiriAtRoot("run", "test/corpus/pass/memory/exposed-address.ts", "--json").out);
    expect(json.warnings).toMatchObject([{ title: "warning", message: "integer-to-pointer cast", location: { line: 6 } }]);
    const strict = kmiriAtRoot("run", "test/corpus/pass/memory/exposed-address.ts", "--strict-provenance");
    expect(strict.code).toBe(1);
    expect(strict.err).toMatch(/^error: unsupported operation: integer-to-pointer casts and `ptr_from_exposed` are not supported with `--strict-provenance`/);
  });

  test("examples/as-a-library.mjs uses kmiri as a library", () => {
    const r = spawnSync(process.execPath, ["examples/as-a-library.mjs"], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    expect(r.stdout).toMatch(/^use-after-free at examples\/use-after-free.ts:15:15 on thread main: memory access failed/);
    // The program given as source text: reported at its own file name.
    expect(r.stdout).toMatch(/^stacked-borrows at aliasing.ts:7:15 on thread main: attempting a read access using <\d+>/m);
    expect(r.status).toBe(1);
  });

  test("kmiri test: 0 when every test passes, 1 when one fails", () => {
    const pass = kmiri("test", "pass.test.ts");
    expect(pass.out).toContain("test result: ok. 1 passed; 0 failed; 0 ub;");
    expect(pass.code).toBe(0);
    const fail = kmiri("test", "fail.test.ts", "--json");
    expect(fail.code).toBe(1);
    const json = JSON.parse(fail.out);
    expect(json.tests).toMatchObject([{ name: "adds_wrong", status: "fail" }]);
    expect(json).toHaveProperty("coverage.total");
  });
});
