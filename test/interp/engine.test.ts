/**
 * The engine end to end: programs under test/fixtures/engine run on the Machine (and natively),
 * and each test reads the result a user would see — output, findings with their locations,
 * panics, load errors.
 */
import { describe, expect, test } from "vitest";
import path from "node:path";
import { runFile } from "../../src/driver/run.js";
import { testPath } from "../../src/driver/test-path.js";
import { LoadError } from "../../src/interp/loader/index.js";
import type { RunResult } from "../../src/driver/results.js";

const dir = "test/fixtures/engine";
const fixture = (name: string) => path.join(dir, name);
const run = (name: string, options = {}) => runFile(fixture(name), { maxSteps: 2_000_000, ...options });

function only(r: RunResult) {
  expect(r.ub).toHaveLength(1);
  return r.ub[0];
}

async function loadError(name: string): Promise<LoadError> {
  const e = await run(name).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(LoadError);
  return e as LoadError;
}

describe("running programs", () => {
  test("hello prints through console.log and exits 0", async () => {
    const r = await runFile("examples/hello.ts");
    expect(r.output).toEqual(["hello from the Machine, the answer is 42"]);
    expect(r.exitCode).toBe(0);
    expect(r.ub).toEqual([]);
  });

  test("use-after-free is reported at the .ts line with allocation and deallocation sites", async () => {
    const r = await runFile("examples/use-after-free.ts");
    const u = only(r);
    expect(u.kind).toBe("use-after-free");
    expect(u.message).toMatch(/^memory access failed: alloc\d+ has been freed, so this pointer is dangling$/);
    expect(u.location).toMatchObject({ file: "examples/use-after-free.ts", line: 15, column: 15 });
    const helps = u.help.filter((h) => h.location).map((h) => [h.message.replace(/\d+/, "N"), h.location!.line]);
    expect(helps).toEqual([
      ["allocN was allocated here:", 6],
      ["allocN was deallocated here:", 14],
    ]);
    expect(u.thread).toBe("main");
    expect(u.backtrace.map((f) => f.fn)).toEqual(["main"]);
    expect(r.exitCode).toBe(1);
  });

  test("the examples a newcomer runs first report what their comments say", async () => {
    const race = await runFile("examples/data-race.ts");
    expect(race.ub.map((u) => [u.kind, u.location.line])).toEqual([["data-race", 18]]);
    const sb = await runFile("examples/stacked-borrows.ts");
    expect(sb.ub.map((u) => [u.kind, u.location.line])).toEqual([["stacked-borrows", 12]]);
    const unchecked = await runFile("examples/stacked-borrows.ts", { borrowModel: "none" });
    expect(unchecked.ub).toEqual([]);
    expect(unchecked.output).toEqual(["popped frame 1000", "frames left 3n"]);
  });

  test("the backtrace lists program frames only, innermost first, through built-in callbacks", async () => {
    const r = await run("callbacks.ts");
    expect(r.output).toEqual(["constructed 5", "seen 8,9", "thread saw 8"]);
    const u = only(r);
    expect(u.kind).toBe("use-after-free");
    expect(u.backtrace.map((f) => `${f.fn}:${f.location.line}`)).toEqual([
      "Counter::get:16",
      "main::{closure}:47",
      "main:47",
    ]);
  });

  test("a call of an argument is not a frame (f(g()) while g runs)", async () => {
    const u = only(await run("raw-outside-unsafe.ts"));
    expect(u.backtrace.map((f) => f.fn)).toEqual(["main"]);
  });

  test("a finding cannot be caught by the program, and stops it", async () => {
    const r = await run("caught.ts");
    expect(r.output).toEqual(["recovered: odd 1", "recovered: odd 3", "ok = 402"]);
    expect(only(r)).toMatchObject({ kind: "use-after-free", location: { line: 25 } });
  });
});

describe("unsafe regions", () => {
  test("a raw read outside `unsafe:` is reported", async () => {
    const u = only(await run("raw-outside-unsafe.ts"));
    expect(u.kind).toBe("unsafe-outside-unsafe");
    expect(u.message).toContain("`Ptr::read`");
    expect(u.location).toMatchObject({ line: 6, column: 15 });
  });

  test('calling an "unsafe" function outside an unsafe region is reported; inside it is fine', async () => {
    const r = await run("unsafe-fn.ts");
    expect(r.output).toEqual(["3"]);
    const u = only(r);
    expect(u.kind).toBe("unsafe-outside-unsafe");
    expect(u.message).toBe("call to unsafe function `read_raw` is unsafe and requires unsafe block");
    expect(u.location.line).toBe(15);
    expect(u.help.find((h) => h.location)?.location?.line).toBe(3);
  });
});

describe("threads and determinism", () => {
  test("the same seed gives byte-identical output", async () => {
    const a = await run("racy-print.ts", { seed: 7 });
    const b = await run("racy-print.ts", { seed: 7 });
    expect(a.output).toEqual(b.output);
    expect(a.output).toHaveLength(8);
  });

  test("racy threads print in different orders for some seeds", async () => {
    const orders = new Set<string>();
    for (let seed = 0; seed < 12; seed++) orders.add((await run("racy-print.ts", { seed })).output.join(" "));
    expect(orders.size).toBeGreaterThan(1);
    // Each thread's own lines stay in program order.
    for (const o of orders) {
      const lines = o.split(" ");
      expect(lines.filter((l) => l.startsWith("a"))).toEqual(["a0", "a1", "a2", "a3"]);
      expect(lines.filter((l) => l.startsWith("b"))).toEqual(["b0", "b1", "b2", "b3"]);
    }
  });

  test("Math.random is drawn from the seed", async () => {
    const a = await run("random.ts", { seed: 5 });
    const b = await run("random.ts", { seed: 5 });
    const c = await run("random.ts", { seed: 6 });
    expect(a.output).toEqual(b.output);
    expect(a.output).not.toEqual(c.output);
    expect(a.output[0]).toMatch(/^0\.\d{6} \d+ 4$/);
  });

  test("with preemption off, a thread runs until it blocks", async () => {
    const r = await run("racy-print.ts", { preemptionRate: 0 });
    expect(r.output).toEqual(["a0", "a1", "a2", "a3", "b0", "b1", "b2", "b3"]);
  });

  test("join returns the thread's result (examples/threads.ts)", async () => {
    const r = await runFile("examples/threads.ts", { seed: 3 });
    expect(r.output.at(-1)).toBe("total: 18n");
    expect(r.exitCode).toBe(0);
  });

  test("every thread blocked is a deadlock, reported once per stuck thread", async () => {
    const r = await run("deadlock.ts");
    expect(r.ub.map((u) => [u.kind, u.thread, u.location.line])).toEqual([
      ["deadlock", "main", 11],
      ["deadlock", "cpu1", 8],
    ]);
    expect(r.ub[0].message).toBe("the evaluated program deadlocked");
  });
});

describe("bad input", () => {
  test("a syntax error is a load error with its location", async () => {
    const e = await loadError("syntax-error.ts");
    expect(e.reason).toBe("syntax");
    expect(e.location).toMatchObject({ file: `${dir}/syntax-error.ts`, line: 2 });
  });

  test("unsupported syntax says which", async () => {
    const e = await loadError("async.ts");
    expect(e.reason).toBe("unsupported");
    expect(e.message).toContain("async function");
    expect(e.location?.line).toBe(1);
  });

  test("an unknown import is a load error", async () => {
    const e = await loadError("unknown-import.ts");
    expect(e.reason).toBe("unknown-import");
    expect(e.message).toContain("node:fs");
  });

  test("a missing file is a load error", async () => {
    const e = await loadError("no-such-file.ts");
    expect(e.reason).toBe("missing-file");
  });

  test("an infinite loop stops with resource-exhaustion at the loop", async () => {
    const u = only(await run("infinite-loop.ts"));
    expect(u.kind).toBe("resource-exhaustion");
    expect(u.location).toMatchObject({ line: 3 });
    expect(u.backtrace[0].fn).toBe("main");
  });

  test("unbounded recursion stops with resource-exhaustion and a pruned backtrace", async () => {
    const u = only(await run("recursion.ts"));
    expect(u.kind).toBe("resource-exhaustion");
    expect(u.message).toMatch(/exhausted the stack, \d+ calls deep/);
    expect(u.location.line).toBe(2);
    expect(u.backtrace.length).toBeLessThanOrEqual(64);
    expect(u.backtrace.at(-1)!.fn).toBe("main");
  });

  test("allocating over the memory limit stops with resource-exhaustion", async () => {
    const u = only(await run("too-much-memory.ts", { memoryLimit: 1 << 20 }));
    expect(u.kind).toBe("resource-exhaustion");
    expect(u.location.line).toBe(5);
  });

  test("a JavaScript collection that only grows stops with resource-exhaustion, not a host crash", async () => {
    const u = only(await run("host-heap.ts", { maxSteps: 1e9, hostHeapLimit: 256 * 2 ** 20 }));
    expect(u.kind).toBe("resource-exhaustion");
    expect(u.message).toMatch(/^the JavaScript heap holds \d+ MiB/);
    expect(u.location.line).toBe(4);
  });

  test("an exception the program throws is a panic at the throw", async () => {
    const r = await run("throws.ts");
    expect(r.ub).toEqual([]);
    expect(r.panic).toMatchObject({ thread: "main", message: "frame 3 is out of range", location: { line: 5, column: 5 } });
    expect(r.panic!.backtrace.map((f) => f.fn)).toEqual(["check", "main"]);
    expect(r.exitCode).toBe(1);
  });

  test("a TypeError raised by the program's own code panics at its line", async () => {
    const r = await run("type-error.ts");
    expect(r.panic?.message).toMatch(/^TypeError: Cannot read properties of undefined/);
    expect(r.panic?.location?.line).toBe(4);
  });

  test("an error inside kmiri's own code is labelled as kmiri's, at the program location", async () => {
    process.env.KMIRI_FAULT_INJECTION = "panic"; // the panic shim then fails inside kmiri
    let r: RunResult;
    try {
      r = await run("internal-error.ts");
    } finally {
      delete process.env.KMIRI_FAULT_INJECTION;
    }
    const u = only(r);
    expect(u.title).toBe("internal error in kmiri");
    expect(u.message).toMatch(/^TypeError: /);
    expect(u.location).toMatchObject({ line: 6, column: 15 });
    expect(u.help[0].message).toContain("bug in kmiri");
  });

  test("a program that keeps memory it never frees leaks", async () => {
    const r = await run("leak.ts");
    expect(r.output).toEqual(["7"]);
    const u = only(r);
    expect(u.kind).toBe("leak");
    expect(u.location.line).toBe(4);
    expect((await run("leak.ts", { ignoreLeaks: true })).ub).toEqual([]);
  });
});

describe("JavaScript programs", () => {
  test("a .js program runs, and optional calls keep their meaning", async () => {
    const r = await run("optional-chain.js");
    expect(r.output).toEqual(["undefined 5 undefined"]);
    expect(r.exitCode).toBe(0);
  });
});

describe("native mode", () => {
  test("clean programs print the same natively", async () => {
    for (const f of ["examples/hello.ts", "examples/threads.ts", fixture("callbacks.ts")]) {
      const checked = await runFile(f, { preemptionRate: 0 });
      const native = await runFile(f, { native: true });
      expect(native.output).toEqual(checked.output);
    }
  });

  test("a panic is reported natively with its location", async () => {
    const r = await run("throws.ts", { native: true });
    expect(r.panic?.message).toBe("frame 3 is out of range");
    expect(r.panic?.location?.line).toBe(5);
  });
});

describe("kmiri test", () => {
  test("runs each ktest on a fresh Machine and reports coverage", async () => {
    const r = await testPath("examples/ktests.ts");
    expect(r.tests.map((t) => [t.name, t.status])).toEqual([
      ["alloc_write_read", "pass"],
      ["zeroed_memory_reads_zero", "pass"],
      ["fill_in_bounds", "pass"],
      ["panics_as_expected", "pass"],
    ]);
    expect(r.exitCode).toBe(0);
    const row = r.coverage.modules.find((m) => m.module === "examples/ktests.ts")!;
    expect(row.tests).toBe(4);
    expect(row.lines.covered).toBe(row.lines.total);
    expect(row.unsafe).toEqual({ covered: 4, total: 4 });
  });

  test("each outcome of a test: pass, failed assertion, UB, leak, should_panic without or with the wrong panic", async () => {
    const r = await testPath("test/fixtures/ktests");
    const byName = Object.fromEntries(r.tests.map((t) => [t.name, t]));
    expect(r.tests.map((t) => `${t.module}::${t.name}`)).toEqual([
      "test/fixtures/ktests/mixed.ts::passes",
      "test/fixtures/ktests/mixed.ts::fails_an_assertion",
      "test/fixtures/ktests/mixed.ts::use_after_free",
      "test/fixtures/ktests/mixed.ts::leaks_a_box",
      "test/fixtures/ktests/mixed.ts::does_not_panic",
      "test/fixtures/ktests/mixed.ts::panics_with_the_wrong_message",
      "test/fixtures/ktests/other.ts::uses_a_helper",
    ]);
    expect(byName.passes.status).toBe("pass");
    expect(byName.fails_an_assertion).toMatchObject({ status: "fail", panic: { message: "assertion `left == right` failed: arithmetic\n  left: 4\n right: 5", location: { line: 8 } } });
    expect(byName.use_after_free.status).toBe("ub");
    expect(byName.use_after_free.ub![0]).toMatchObject({ kind: "use-after-free", location: { line: 15 } });
    expect(byName.leaks_a_box.status).toBe("ub");
    expect(byName.leaks_a_box.ub![0]).toMatchObject({ kind: "leak", location: { line: 20 } });
    expect(byName.leaks_a_box.output).toEqual(["kept 1"]);
    expect(byName.does_not_panic).toMatchObject({ status: "fail", reason: "test did not panic as expected" });
    expect(byName.panics_with_the_wrong_message.status).toBe("fail");
    expect(byName.panics_with_the_wrong_message.reason).toContain('expected substring: "frame"');
    expect(byName.uses_a_helper.status).toBe("pass");
    expect(r.ub.map((u) => u.kind)).toEqual(["use-after-free", "leak"]);
    expect(r.exitCode).toBe(1);
    // Coverage counts the helper module too: `unused` never ran.
    const helper = r.coverage.modules.find((m) => m.module === "test/fixtures/ktests/helper.ts")!;
    expect(helper.tests).toBe(0);
    expect(helper.lines.covered).toBeLessThan(helper.lines.total);
    const lines = r.coverage.lines!["test/fixtures/ktests/helper.ts"];
    expect(lines.find((l) => l.line === 2)?.hit).toBe(true);
    expect(lines.find((l) => l.line === 7)?.hit).toBe(false);
  });

  test("--filter selects tests", async () => {
    const r = await testPath("examples/ktests.ts", { filter: "zeroed" });
    expect(r.tests.map((t) => t.name)).toEqual(["zeroed_memory_reads_zero"]);
  });
});
