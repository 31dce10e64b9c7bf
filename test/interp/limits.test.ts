/**
 * Limits that hold (issue 10): the step limit counts exactly, the time limit, the thread limit,
 * the report-size caps (output, warnings, leaks), and the memory messages (one allocation's
 * limit, the memory limit, the host heap). Each limit hit is a `resource-exhaustion` report with
 * a location and exit status 1; the CLI flags are parsed with errors for bad values (exit 2).
 * Programs are real ones, run on the Machine (test/fixtures/limits/ or source text).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { getHeapStatistics } from "node:v8";
import { describe, expect, test } from "vitest";
import { createMachine } from "../../src/driver/create-machine.js";
import { runFile, type RunOptions } from "../../src/driver/run.js";
import { parseArgs, UsageError } from "../../src/cli/args.js";
import { helpText } from "../../src/cli/usage.js";
import { main } from "../../src/cli/main.js";
import { nodeIO } from "../../src/cli/io.js";
import type { RunResult } from "../../src/driver/results.js";
import type { UBReport } from "../../src/interp/report.js";

const DIR = "test/fixtures/limits";
const fixture = (name: string) => path.join(DIR, name);
const run = (name: string, options: RunOptions = {}) => runFile(fixture(name), options);

/** The only finding of a run, which must be `resource-exhaustion` with exit status 1. */
function exhaustion(r: RunResult): UBReport {
  expect(r.ub.map((u) => `${u.kind}: ${u.message}`)).toHaveLength(1);
  expect(r.ub[0].kind).toBe("resource-exhaustion");
  expect(r.ub[0].title).toBe("resource exhaustion");
  expect(r.exitCode).toBe(1);
  return r.ub[0];
}

/** Runs the CLI in this process on the real engine: exit status, stdout and stderr. */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io = { ...nodeIO(), stdout: (t: string) => void (out += t), stderr: (t: string) => void (err += t), env: { NO_COLOR: "1" } };
  const code = await main(args, io);
  return { code, out, err };
}

describe("the step limit (--max-steps) is exact", () => {
  test("--max-steps 10: exactly ten iterations run, the eleventh is stopped at the loop", async () => {
    const r = await run("endless-loop.ts", { maxSteps: 10 });
    expect(r.output).toEqual(Array.from({ length: 10 }, (_, i) => `iteration ${i}`));
    const u = exhaustion(r);
    expect(u.message).toBe("the program ran more than 10 loop iterations without finishing; is this loop infinite?");
    expect(u.location).toMatchObject({ file: fixture("endless-loop.ts"), line: 4 });
    expect(u.backtrace[0].fn).toBe("main");
    // The ten that ran and the one that was stopped as it started.
    expect(r.stats.steps).toBe(11);
  });

  test("iterations are counted across loops: 4 + 6 fit a limit of 10, not one of 9", async () => {
    const ten = await run("two-loops.ts", { maxSteps: 10 });
    expect(ten.ub).toEqual([]);
    expect(ten.exitCode).toBe(0);
    expect(ten.stats.steps).toBe(10);
    const nine = await run("two-loops.ts", { maxSteps: 9 });
    const u = exhaustion(nine);
    expect(u.location.line).toBe(5);
    expect(u.message).toContain("more than 9 loop iterations");
    expect(nine.output).toEqual(["a0", "a1", "a2", "a3", "b0", "b1", "b2", "b3", "b4"]);
  });

  test("a limit above one chunk of iterations (65,536) is exact too", async () => {
    let printed = 0;
    const r = await run("endless-loop.ts", { maxSteps: 100_003, onOutput: () => void printed++ });
    exhaustion(r);
    expect(printed).toBe(100_003);
    expect(r.output.at(-1)).toBe("iteration 100002");
    expect(r.stats.steps).toBe(100_004);
  });

  test("kmiri run --max-steps 10: ten lines on stdout, the report on stderr, exit status 1", async () => {
    const r = await cli("run", fixture("endless-loop.ts"), "--max-steps", "10");
    expect(r.code).toBe(1);
    expect(r.out).toBe(Array.from({ length: 10 }, (_, i) => `iteration ${i}\n`).join(""));
    expect(r.err).toContain("error: resource exhaustion: the program ran more than 10 loop iterations without finishing");
    expect(r.err).toContain(`--> ${fixture("endless-loop.ts")}:4:3`);
  });
});

describe("the time limit (--timeout, timeoutMs)", () => {
  test("a busy loop is stopped at the loop once the time is up", async () => {
    const t0 = performance.now();
    const r = await run("busy.ts", { timeoutMs: 300 });
    const ms = performance.now() - t0;
    const u = exhaustion(r);
    expect(u.message).toBe("the program ran for more than 0.3 s without finishing, its time limit; is it stuck in a loop?");
    expect(u.location).toMatchObject({ file: fixture("busy.ts"), line: 4 });
    expect(u.label).toBe("the program was stopped here");
    expect(u.help.map((h) => h.message).join("\n")).toContain("`--timeout`");
    expect(ms).toBeGreaterThanOrEqual(300);
    expect(ms).toBeLessThan(10_000);
  });

  test("code that yields but rarely loops is stopped at a scheduling point", async () => {
    const r = await run("yielding.ts", { timeoutMs: 200 });
    const u = exhaustion(r);
    expect(u.message).toContain("ran for more than 0.2 s");
    // At the `yield_now` inside `work`, not at the loop of `main`.
    expect(u.location.line).toBe(8);
    expect(u.backtrace.map((f) => f.fn)).toContain("work");
  }, 20_000);

  test("a program that ends in time is unaffected", async () => {
    const r = await run("two-loops.ts", { timeoutMs: 60_000 });
    expect(r.ub).toEqual([]);
    expect(r.output).toHaveLength(10);
  });

  test("kmiri run --timeout 0.25: exit status 1 and the report", async () => {
    const r = await cli("run", fixture("busy.ts"), "--timeout", "0.25");
    expect(r.code).toBe(1);
    expect(r.err).toContain("error: resource exhaustion: the program ran for more than 0.25 s without finishing");
    expect(r.err).toContain(`--> ${fixture("busy.ts")}:4:`);
  });
});

describe("the thread limit (--max-threads, maxThreads)", () => {
  test("spawning one thread more than the limit stops the run at the spawn; ended threads count", async () => {
    const r = await run("spawner.ts", { maxThreads: 3 });
    expect(r.output).toEqual(["thread 0 joined: 0", "thread 1 joined: 2", "thread 2 joined: 4"]);
    const u = exhaustion(r);
    expect(u.message).toBe("the program spawned 3 threads, the limit, and tried to spawn one more");
    expect(u.location).toMatchObject({ file: fixture("spawner.ts"), line: 8 });
    expect(u.help.map((h) => h.message).join("\n")).toContain("`--max-threads`");
    expect(u.notes).toContain("0 of the 3 spawned threads are still running");
  });

  test("the default limit is 1000 threads: the 1001st spawn is stopped, 1000 run", async () => {
    const source = readFileSync(fixture("spawner.ts"), "utf8");
    const kmiri = createMachine();
    const ok = await kmiri.run({ source: source.replace('"10"', '"1000"'), fileName: "spawner.ts" });
    expect(ok.ub).toEqual([]);
    expect(ok.output.at(-1)).toBe("all joined");
    expect(ok.stats.threads).toBe(1001);
    const over = await kmiri.run({ source: source.replace('"10"', '"1001"'), fileName: "spawner.ts" });
    expect(exhaustion(over).message).toContain("spawned 1000 threads, the limit");
  }, 30_000);

  test("kmiri run --max-threads 2: exit status 1 at the spawn", async () => {
    const r = await cli("run", fixture("spawner.ts"), "--max-threads", "2");
    expect(r.code).toBe(1);
    expect(r.out).toBe("thread 0 joined: 0\nthread 1 joined: 2\n");
    expect(r.err).toContain("error: resource exhaustion: the program spawned 2 threads, the limit, and tried to spawn one more");
    expect(r.err).toContain(`--> ${fixture("spawner.ts")}:8:`);
  });

  test("a library caller's bad maxThreads is an error", async () => {
    await expect(run("spawner.ts", { maxThreads: 70_000 })).rejects.toThrow(/maxThreads must be an integer from 0 to 65535/);
  });
});

describe("report-size caps", () => {
  test("25,000 lines of output: the first and last 5,000 are kept, with a line counting the rest; onOutput gets all", async () => {
    let streamed = 0;
    const r = await run("chatty.ts", { onOutput: () => void streamed++ });
    expect(r.ub).toEqual([]);
    expect(r.exitCode).toBe(0);
    expect(streamed).toBe(25_000);
    expect(r.output).toHaveLength(10_001);
    expect(r.output[0]).toBe("line 0");
    expect(r.output[4_999]).toBe("line 4999");
    expect(r.output[5_000]).toBe("[kmiri: 15000 lines of output not kept here; a run keeps its first 5000 and its last 5000]");
    expect(r.output[5_001]).toBe("line 20000");
    expect(r.output.at(-1)).toBe("line 24999");
  });

  test("a test's output is kept the same way", async () => {
    const source = `import { ktest } from "kmiri/rt";\nktest("chatty", () => {\n  for (let i = 0; i < 12_000; i++) console.log(\`line \${i}\`);\n});\n`;
    const r = await createMachine().test({ source, fileName: "chatty.ts" });
    const out = r.tests[0].output;
    expect(out).toHaveLength(10_001);
    expect(out[5_000]).toContain("2000 lines of output not kept");
    expect(out.at(-1)).toBe("line 11999");
  });

  test("1,500 warnings: the first 1,000 are kept, then one note counts the other 500", async () => {
    const r = await run("unbalanced-many.ts");
    expect(r.ub).toEqual([]);
    expect(r.output).toEqual(["still running"]);
    const w = r.warnings!;
    expect(w).toHaveLength(1_001);
    expect(w[999].message).toMatch(/^bad unlock balance/);
    expect(w[1_000]).toMatchObject({ title: "note", message: "500 more warnings and notes not kept: kmiri keeps the first 1000 of a run" });
    expect(w[1_000].location).toMatchObject({ file: fixture("unbalanced-many.ts"), line: 6 });
  });

  test("1,200 leaked allocations: 1,000 reports, the last counting the other 200", async () => {
    const r = await run("many-leaks.ts");
    expect(r.exitCode).toBe(1);
    expect(r.ub).toHaveLength(1_000);
    expect(r.ub.every((u) => u.kind === "leak" && u.location.line === 5)).toBe(true);
    expect(r.ub[999].notes).toContain("200 more leaked allocations (1600 bytes) not reported: kmiri reports the first 1000");
    expect(r.ub[998].notes!.some((n) => n.includes("not reported"))).toBe(false);
  });
});

describe("memory limits say what they are", () => {
  test("one allocation over 2 GiB - 1 bytes: kmiri's own limit, not the memory limit", async () => {
    const r = await run("huge-alloc.ts", { memoryLimit: 2_000_000_000_000 });
    const u = exhaustion(r);
    expect(u.message).toBe("tried to allocate 3000000000 bytes, but a single allocation is limited to 2147483647 bytes (2 GiB - 1)");
    expect(u.location).toMatchObject({ file: fixture("huge-alloc.ts"), line: 7 });
    const help = u.help.map((h) => h.message).join("\n");
    expect(help).toContain("typed array");
    expect(help).toContain("it is not the memory limit (2000000000000 bytes");
  });

  test("over the memory limit: the memory limit's message, naming --memory-limit", async () => {
    const r = await run("over-limit.ts", { memoryLimit: 1.5 * 2 ** 20 });
    const u = exhaustion(r);
    expect(u.message).toBe("tried to allocate 1048576 bytes, but only 524288 of the memory limit of 1572864 bytes are free");
    expect(u.location.line).toBe(8);
    const help = u.help.map((h) => h.message).join("\n");
    expect(help).toContain("1048576 bytes are live in 1 allocation;");
    expect(help).toContain("`--memory-limit BYTES`");
    expect(help).not.toContain("single allocation");
  });

  test("a host heap full of kmiri memory (millions of nodes) is told so, not to use kmiri memory", async () => {
    const hostHeapLimit = getHeapStatistics().used_heap_size + 160 * 2 ** 20;
    const r = await run("node-list.ts", { hostHeapLimit, maxSteps: Number.MAX_SAFE_INTEGER, ignoreLeaks: true });
    const u = exhaustion(r);
    expect(u.message).toMatch(
      /^the JavaScript heap holds \d+ MiB \(the host's limit is \d+ MiB\), most of it kmiri's record of the program's memory: kmiri memory holds \d+ live allocations \(\d+ MiB of the memory limit of 1024 MiB\)$/,
    );
    expect(u.location.line).toBe(12);
    const help = u.help.map((h) => h.message).join("\n");
    expect(help).not.toContain("kernel data belongs in kmiri memory");
    expect(help).toContain("--max-old-space-size");
  }, 60_000);

  test("a host heap full of the program's own JavaScript arrays is still told to use kmiri memory", async () => {
    const hostHeapLimit = getHeapStatistics().used_heap_size + 160 * 2 ** 20;
    const r = await runFile("test/fixtures/engine/host-heap.ts", { hostHeapLimit, maxSteps: Number.MAX_SAFE_INTEGER });
    const u = exhaustion(r);
    expect(u.message).toMatch(/^the JavaScript heap holds \d+ MiB \(the host's limit is \d+ MiB\); is a collection of the program growing without bound\?$/);
    expect(u.help[0].message).toContain("kernel data belongs in kmiri memory");
    expect(u.notes).toContain("kmiri memory holds 0 live allocations (0 MiB of the memory limit of 1024 MiB): not what fills the heap");
  }, 60_000);
});

describe("the flags", () => {
  test("--timeout SECONDS and --max-threads N are parsed", () => {
    const c = parseArgs(["run", "a.ts", "--timeout", "1.5", "--max-threads=64"]);
    expect(c).toMatchObject({ command: "run", flags: { timeoutMs: 1500, maxThreads: 64 } });
    expect(parseArgs(["test", "t", "--timeout=30"])).toMatchObject({ flags: { timeoutMs: 30_000 } });
  });

  test.each([
    [["--timeout", "0"], "invalid value `0` for `--timeout`: expected a number of seconds greater than 0"],
    [["--timeout", "soon"], "invalid value `soon` for `--timeout`"],
    [["--timeout", "-1"], "invalid value `-1` for `--timeout`"],
    [["--max-threads", "-1"], "invalid value `-1` for `--max-threads`: expected an integer from 0 to 65535"],
    [["--max-threads", "70000"], "invalid value `70000` for `--max-threads`: expected an integer from 0 to 65535"],
    [["--max-threads", "1.5"], "invalid value `1.5` for `--max-threads`"],
  ])("%j is a usage error", (args, message) => {
    expect(() => parseArgs(["run", "a.ts", ...args])).toThrow(UsageError);
    expect(() => parseArgs(["run", "a.ts", ...args])).toThrow(message);
  });

  test("a bad value exits with status 2", async () => {
    const r = await cli("run", fixture("two-loops.ts"), "--max-threads", "lots");
    expect(r.code).toBe(2);
    expect(r.err).toContain("invalid value `lots` for `--max-threads`");
  });

  test("kmiri --help documents them", () => {
    const help = helpText("0.0.0");
    expect(help).toMatch(/--timeout SECONDS\s+stop with a resource-exhaustion error/);
    expect(help).toMatch(/--max-threads N\s+stop with a resource-exhaustion error when the program spawns/);
    expect(help).toContain("default 1000");
    expect(help).toContain("2 GiB - 1 bytes");
  });
});

describe("normal programs are unaffected", () => {
  test("the examples run as before, with exact step counts", async () => {
    const hello = await runFile("examples/hello.ts");
    expect(hello.ub).toEqual([]);
    expect(hello.exitCode).toBe(0);
    const two = await run("two-loops.ts");
    expect(two.ub).toEqual([]);
    expect(two.stats.steps).toBe(10);
    const threads = await runFile("examples/threads.ts", { seed: 1 });
    expect(threads.ub).toEqual([]);
    expect(threads.output.at(-1)).toBe("total: 18n");
    expect(threads.output).toHaveLength(10);
  });

  test("a few hundred threads and all their output: kept in full, no limit hit", async () => {
    const source = readFileSync(fixture("spawner.ts"), "utf8").replace('"10"', '"300"');
    const r = await createMachine({ seed: 3 }).run({ source, fileName: "spawner.ts" });
    expect(r.ub).toEqual([]);
    expect(r.output).toContain("thread 200 joined: 400");
    expect(r.output.at(-1)).toBe("all joined");
  });
});
