import { describe, expect, test } from "vitest";
import {
  headline, primaryLabel, renderAborting, renderLoadError, renderPanic, renderReport, renderRunResult,
} from "../../src/driver/render/render.js";
import {
  renderCoverageTable, renderTestFailures, renderTestLines, renderTestSummary, testName,
} from "../../src/driver/render/render-tests.js";
import { shouldColor } from "../../src/driver/render/render-style.js";
import { errorToJson, runResultToJson, testRunResultToJson, toJson } from "../../src/driver/render/json.js";
import { toLcov } from "../../src/driver/render/lcov.js";
import type { UBReport } from "../../src/interp/report.js";
import type { CoverageRow, RunResult, TestResult, TestRunResult } from "../../src/driver/results.js";

const FILE = "examples/use-after-free.ts";
const SOURCE = [
  `import { alloc, dealloc, u32 } from "kmiri/rt";`,
  ``,
  `export function main() {`,
  `  unsafe: {`,
  `  const p = alloc(u32);`,
  `    dealloc(p, u32);`,
  `    // the pointer is dangling now`,
  ``,
  `    const v = p.read();`,
  `\tp.write(1);`,
  `  }`,
  `}`,
].join("\n");
const readSource = (file: string) => (file === FILE ? SOURCE : undefined);

const GENERIC_HELP = [
  { message: "this indicates a bug in the program: it performed an invalid operation, and caused Undefined Behavior" },
  { message: "see https://doc.rust-lang.org/nightly/reference/behavior-considered-undefined.html for further information" },
];

function useAfterFree(): UBReport {
  return {
    kind: "use-after-free",
    title: "Undefined Behavior",
    message: "memory access failed: alloc12 has been freed, so this pointer is dangling",
    location: { file: FILE, line: 9, column: 15, endLine: 9, endColumn: 23 },
    thread: "main",
    backtrace: [{ fn: "main", location: { file: FILE, line: 9, column: 15 } }],
    help: [
      ...GENERIC_HELP,
      { message: "alloc12 was allocated here:", location: { file: FILE, line: 5, column: 13, endLine: 5, endColumn: 23 } },
    ],
  };
}

const EXPECTED_UAF = `error: Undefined Behavior: memory access failed: alloc12 has been freed, so this pointer is dangling
  --> examples/use-after-free.ts:9:15
   |
 9 |     const v = p.read();
   |               ^^^^^^^^ Undefined Behavior occurred here
   |
   = help: this indicates a bug in the program: it performed an invalid operation, and caused Undefined Behavior
   = help: see https://doc.rust-lang.org/nightly/reference/behavior-considered-undefined.html for further information
help: alloc12 was allocated here:
  --> examples/use-after-free.ts:5:13
   |
 5 |   const p = alloc(u32);
   |             ^^^^^^^^^^
   = note: this is on thread \`main\`
   = note: stack backtrace:
           0: main
               at examples/use-after-free.ts:9:15`;

describe("renderReport", () => {
  test("renders Miri's shape: headline, snippet, help with location, thread, backtrace", () => {
    expect(renderReport(useAfterFree(), { readSource })).toBe(EXPECTED_UAF);
  });

  test("a run ends with the aborting line after a blank line", () => {
    expect(renderRunResult({ ub: [useAfterFree()] }, { readSource })).toBe(
      `${EXPECTED_UAF}\n\nerror: aborting due to 1 previous error`,
    );
    expect(renderAborting(3)).toBe("error: aborting due to 3 previous errors");
    expect(renderRunResult({ ub: [] })).toBe("");
  });

  test("the caret spans column..endColumn, at least one ^, to the end of line for multi-line spans", () => {
    const caretLine = (loc: UBReport["location"]) =>
      renderReport({ ...useAfterFree(), location: loc, help: [], label: "" }, { readSource }).split("\n")[4];
    expect(caretLine({ file: FILE, line: 9, column: 15, endLine: 9, endColumn: 16 })).toBe("   |               ^");
    expect(caretLine({ file: FILE, line: 9, column: 15 })).toBe("   |               ^");
    expect(caretLine({ file: FILE, line: 9, column: 15, endLine: 9, endColumn: 15 })).toBe("   |               ^");
    expect(caretLine({ file: FILE, line: 9, column: 11, endLine: 10, endColumn: 3 })).toBe("   |           ^^^^^^^^^^^^^");
    // A tab counts as four columns, in the line and under it.
    const tab = renderReport({ ...useAfterFree(), location: { file: FILE, line: 10, column: 2, endColumn: 9 }, help: [] }, { readSource });
    expect(tab.split("\n").slice(3, 5)).toEqual(["10 |     p.write(1);", "   |     ^^^^^^^ Undefined Behavior occurred here"]);
  });

  test("the gutter widens for line numbers of three digits", () => {
    const long = Array.from({ length: 120 }, (_, i) => `line ${i + 1}`).join("\n");
    const text = renderReport(
      { ...useAfterFree(), location: { file: "big.ts", line: 100, column: 1, endColumn: 5 }, help: [], backtrace: [] },
      { readSource: () => long },
    );
    expect(text.split("\n").slice(1, 5)).toEqual(["   --> big.ts:100:1", "    |", "100 | line 100", "    | ^^^^ Undefined Behavior occurred here"]);
  });

  test("without the source the snippet is left out and the --> line stays", () => {
    const r = { ...useAfterFree(), location: { file: "gone.ts", line: 9, column: 15 } };
    const text = renderReport(r, { readSource });
    expect(text.split("\n").slice(0, 5)).toEqual([
      "error: Undefined Behavior: memory access failed: alloc12 has been freed, so this pointer is dangling",
      "  --> gone.ts:9:15",
      `   = help: ${GENERIC_HELP[0]!.message}`,
      `   = help: ${GENERIC_HELP[1]!.message}`,
      "help: alloc12 was allocated here:",
    ]);
    // No reader at all: no snippet anywhere.
    expect(renderReport(useAfterFree())).not.toContain(" | ");
  });

  test("notes, multi-line help, non-main threads and long backtraces", () => {
    const frames = Array.from({ length: 11 }, (_, i) => ({ fn: `f${i}`, location: { file: FILE, line: 1, column: 1 } }));
    const text = renderReport({
      ...useAfterFree(),
      thread: "cpu1",
      help: [{ message: "first line\nsecond line" }],
      notes: ["replay with `--seed 7`"],
      backtrace: frames,
    }, { readSource });
    expect(text).toContain("   = help: first line\n           second line\n");
    expect(text).toContain("   = note: replay with `--seed 7`\n   = note: this is on thread `cpu1`\n");
    expect(text).toContain("            0: f0\n                at examples/use-after-free.ts:1:1\n");
    expect(text).toContain("           10: f10\n                at examples/use-after-free.ts:1:1");
    // A note that already names the thread is not repeated.
    const once = renderReport({ ...useAfterFree(), notes: ["this is on thread `main`"] });
    expect(once.match(/this is on thread/g)).toHaveLength(1);
  });

  test("headline and label rules for deadlocks, leaks and other classes", () => {
    expect(headline({ title: "deadlock", message: "the evaluated program deadlocked" })).toBe("the evaluated program deadlocked");
    expect(headline({ title: "memory leak", message: "alloc7 (heap, size: 4, align: 4), allocated here:" }))
      .toBe("memory leaked: alloc7 (heap, size: 4, align: 4), allocated here:");
    expect(headline({ title: "memory leak", message: "memory leaked: alloc7" })).toBe("memory leaked: alloc7");
    expect(headline({ title: "unsupported operation", message: "x" })).toBe("unsupported operation: x");
    expect(primaryLabel({ title: "deadlock" })).toBe("thread got stuck here");
    expect(primaryLabel({ title: "memory leak" })).toBe("");
    expect(primaryLabel({ title: "Undefined Behavior", label: "(2) just happened here" })).toBe("(2) just happened here");
    const deadlock = renderReport({ ...useAfterFree(), kind: "deadlock", title: "deadlock", message: "the evaluated program deadlocked", help: [] }, { readSource });
    expect(deadlock.split("\n")[0]).toBe("error: the evaluated program deadlocked");
    expect(deadlock.split("\n")[4]).toBe("   |               ^^^^^^^^ thread got stuck here");
  });

  test("colour adds ANSI codes only when asked", () => {
    expect(renderReport(useAfterFree(), { readSource, color: true })).toContain("\x1b[");
    expect(renderReport(useAfterFree(), { readSource, color: false })).not.toContain("\x1b[");
    expect(renderReport(useAfterFree(), { readSource, color: true }).replace(/\x1b\[\d+m/g, "")).toBe(EXPECTED_UAF);
  });
});

describe("shouldColor", () => {
  test("a terminal, NO_COLOR unset, TERM not dumb", () => {
    expect(shouldColor(true, {})).toBe(true);
    expect(shouldColor(false, {})).toBe(false);
    expect(shouldColor(true, { NO_COLOR: "1" })).toBe(false);
    expect(shouldColor(true, { TERM: "dumb" })).toBe(false);
  });
});

describe("renderPanic and renderLoadError", () => {
  test("a panic reads like Rust's, with the backtrace", () => {
    const text = renderPanic({
      thread: "main",
      message: "assertion `left == right` failed\n  left: 1\n right: 2",
      location: { file: "examples/x.ts", line: 3, column: 5 },
      backtrace: [
        { fn: "check", location: { file: "examples/x.ts", line: 3, column: 5 } },
        { fn: "main", location: { file: "examples/x.ts", line: 8, column: 3 } },
      ],
    });
    expect(text).toBe(`thread 'main' panicked at examples/x.ts:3:5:
assertion \`left == right\` failed
  left: 1
 right: 2
stack backtrace:
   0: check
             at examples/x.ts:3:5
   1: main
             at examples/x.ts:8:3`);
    expect(renderPanic({ thread: "cpu1", message: "boom", backtrace: [] })).toBe("thread 'cpu1' panicked:\nboom");
  });

  test("a run that panicked prints the panic and no aborting line", () => {
    const panic = { thread: "main", message: "boom", location: { file: "x.ts", line: 1, column: 1 }, backtrace: [] };
    expect(renderRunResult({ ub: [], panic })).toBe("thread 'main' panicked at x.ts:1:1:\nboom");
  });

  test("a load error is one paragraph with its location and snippet", () => {
    expect(renderLoadError({ message: "expected `;`", location: { file: FILE, line: 3, column: 8 } }, { readSource })).toBe(
      `error: expected \`;\`
  --> examples/use-after-free.ts:3:8
   |
 3 | export function main() {
   |        ^`,
    );
    expect(renderLoadError({ message: "cannot find `nope.ts`" })).toBe("error: cannot find `nope.ts`");
    // An empty source line leaves no trailing space after the bar.
    expect(renderLoadError({ message: "x", location: { file: FILE, line: 2, column: 1 } }, { readSource }).split("\n")[3]).toBe(" 2 |");
  });
});

function row(module: string, tests: number, lines: [number, number], unsafe: [number, number], nativeMs: number, checkedMs: number): CoverageRow {
  return { module, tests, lines: { covered: lines[0], total: lines[1] }, unsafe: { covered: unsafe[0], total: unsafe[1] }, nativeMs, checkedMs };
}

const COVERAGE = {
  modules: [
    row("dma", 12, [385, 443], [8, 8], 250, 1220),
    row("page_table", 34, [931, 1032], [46, 46], 1230, 34830),
    row("heap", 6, [318, 319], [5, 6], 0, 310),
  ],
  total: row("total", 52, [1634, 1794], [59, 60], 1480, 36360),
  lines: { "src/b.ts": [{ line: 4, hit: false }, { line: 2, hit: true }], "src/a.ts": [{ line: 1, hit: true }] },
};

function testResult(name: string, status: TestResult["status"], extra: Partial<TestResult> = {}): TestResult {
  return { name, module: "src/mm/frame.test.ts", status, ms: 1, output: [], ...extra };
}

const TESTS: TestResult[] = [
  testResult("alloc", "pass"),
  testResult("double_free", "ub", { ub: [useAfterFree()] }),
  testResult("grow", "fail", { panic: { thread: "main", message: "boom", location: { file: "src/mm/frame.test.ts", line: 4, column: 3 }, backtrace: [] } }),
  testResult("must_panic", "fail", { reason: "test did not panic as expected" }),
];

const STATS = { steps: 10, threads: 1, switches: 0, allocations: 2, ms: 423 };

describe("test summary and coverage table", () => {
  test("one line per test, cargo style", () => {
    expect(testName(TESTS[0]!)).toBe("src/mm/frame.test.ts::alloc");
    expect(renderTestLines(TESTS)).toBe(`running 4 tests
test src/mm/frame.test.ts::alloc ... ok
test src/mm/frame.test.ts::double_free ... UB
test src/mm/frame.test.ts::grow ... FAILED
test src/mm/frame.test.ts::must_panic ... FAILED`);
  });

  test("the summary lists the failures and counts passed, failed and ub", () => {
    expect(renderTestSummary({ tests: TESTS, stats: STATS })).toBe(`failures:
    src/mm/frame.test.ts::double_free
    src/mm/frame.test.ts::grow
    src/mm/frame.test.ts::must_panic

test result: FAILED. 1 passed; 2 failed; 1 ub; finished in 0.42s`);
    expect(renderTestSummary({ tests: [TESTS[0]!], stats: { ...STATS, ms: 5 } }))
      .toBe("test result: ok. 1 passed; 0 failed; 0 ub; finished in 0.01s");
  });

  test("the failures show the report, the panic, or the reason", () => {
    const text = renderTestFailures(TESTS, { readSource });
    expect(text).toContain(`---- src/mm/frame.test.ts::double_free ----\n${EXPECTED_UAF}\n\n---- src/mm/frame.test.ts::grow ----\nthread 'main' panicked at src/mm/frame.test.ts:4:3:\nboom`);
    expect(text).toContain("---- src/mm/frame.test.ts::must_panic ----\nnote: test did not panic as expected");
    expect(renderTestFailures([TESTS[0]!])).toBe("");
  });

  test("the coverage table has KernMiri's columns and a total row", () => {
    expect(renderCoverageTable(COVERAGE)).toBe(`module      tests  lines            unsafe        native  checked  ratio
----------  -----  ---------------  ------------  ------  -------  -----
dma            12    385/443 (87%)    8/8 (100%)   0.25s    1.22s   4.9x
page_table     34   931/1032 (90%)  46/46 (100%)   1.23s   34.83s  28.3x
heap            6    318/319 (99%)    5/6  (83%)       -    0.31s      -
----------  -----  ---------------  ------------  ------  -------  -----
total          52  1634/1794 (91%)  59/60  (98%)   1.48s   36.36s  24.6x`);
  });

  test("durations under a tenth of a second are in milliseconds", () => {
    const fast = row("fast", 1, [1, 1], [0, 0], 0.42, 42);
    expect(renderCoverageTable({ modules: [fast], total: fast }).split("\n")[2]).toBe("fast        1  1/1 (100%)  0/0 (-)   0.4ms     42ms  100.0x");
  });

  test("empty counts and unmeasured times show as -", () => {
    const zero = row("x", 0, [0, 0], [0, 0], 0, 0);
    expect(renderCoverageTable({ modules: [zero], total: { ...zero, module: "" } }).split("\n").slice(2)).toEqual([
      "x           0  0/0 (-)  0/0 (-)       -        -      -",
      "------  -----  -------  -------  ------  -------  -----",
      "total       0  0/0 (-)  0/0 (-)       -        -      -",
    ]);
  });
});

describe("JSON contract", () => {
  const CONTRACT_REPORT_FIELDS = ["kind", "title", "message", "location", "thread", "backtrace", "help"];

  test("a run: seed, ub, stats, output, panic, schedule, exitCode", () => {
    const result: RunResult = {
      seed: 7, ub: [useAfterFree()], output: ["hello"], exitCode: 1, stats: STATS, schedule: "0,1,1",
    };
    const json = JSON.parse(JSON.stringify(runResultToJson(result))) as Record<string, unknown>;
    expect(Object.keys(json).sort()).toEqual(["exitCode", "output", "schedule", "seed", "stats", "ub"]);
    expect(json.seed).toBe(7);
    expect(json.exitCode).toBe(1);
    const ub = (json.ub as Record<string, unknown>[])[0]!;
    for (const field of CONTRACT_REPORT_FIELDS) expect(ub).toHaveProperty(field);
    expect(ub.location).toEqual({ file: FILE, line: 9, column: 15, endLine: 9, endColumn: 23 });
    expect((ub.help as unknown[])[2]).toEqual({ message: "alloc12 was allocated here:", location: { file: FILE, line: 5, column: 13, endLine: 5, endColumn: 23 } });
    expect(json.stats).toEqual(STATS);
    expect(toJson(result)).toEqual(runResultToJson(result));
  });

  test("a clean run and a panicking run", () => {
    const clean = runResultToJson({ seed: 0, ub: [], output: [], exitCode: 0, stats: STATS });
    expect(clean).toEqual({ seed: 0, ub: [], output: [], exitCode: 0, stats: STATS });
    const panic = { thread: "main", message: "boom", backtrace: [] };
    expect(runResultToJson({ seed: 0, ub: [], output: [], exitCode: 1, stats: STATS, panic })).toMatchObject({ panic, exitCode: 1 });
  });

  test("a test run: tests with name, module, status, ms; coverage rows; total", () => {
    const result: TestRunResult = { seed: 3, tests: TESTS, ub: [useAfterFree()], coverage: COVERAGE, stats: STATS, exitCode: 1 };
    const json = JSON.parse(JSON.stringify(testRunResultToJson(result))) as Record<string, any>;
    expect(Object.keys(json).sort()).toEqual(["coverage", "exitCode", "seed", "stats", "tests", "ub"]);
    for (const t of json.tests) for (const f of ["name", "module", "status", "ms"]) expect(t).toHaveProperty(f);
    expect(json.tests.map((t: TestResult) => t.status)).toEqual(["pass", "ub", "fail", "fail"]);
    for (const r of [...json.coverage.modules, json.coverage.total]) {
      for (const f of ["module", "tests", "lines", "unsafe", "nativeMs", "checkedMs"]) expect(r).toHaveProperty(f);
      expect(Object.keys(r.lines).sort()).toEqual(["covered", "total"]);
    }
    expect(json.exitCode).toBe(1);
    expect(toJson(result)).toEqual(testRunResultToJson(result));
  });

  test("missing arrays of a report become empty; nothing-ran errors keep the contract fields", () => {
    const bare = { ...useAfterFree(), backtrace: undefined, help: undefined } as unknown as UBReport;
    expect(runResultToJson({ seed: 0, ub: [bare], output: [], exitCode: 1, stats: STATS }).ub[0]).toMatchObject({ backtrace: [], help: [] });
    const err = errorToJson({ kind: "load", message: "cannot find `x.ts`" }, 4);
    expect(err).toEqual({ seed: 4, ub: [], stats: { steps: 0, threads: 0, switches: 0, allocations: 0, ms: 0 }, exitCode: 2, error: { kind: "load", message: "cannot find `x.ts`" } });
  });
});

describe("lcov", () => {
  test("one record per module, lines sorted, hits 0/1 for lines without a count", () => {
    expect(toLcov(COVERAGE)).toBe("TN:\nSF:src/a.ts\nDA:1,1\nLF:1\nLH:1\nend_of_record\nTN:\nSF:src/b.ts\nDA:2,1\nDA:4,0\nLF:2\nLH:1\nend_of_record\n");
    expect(toLcov({ modules: [], total: COVERAGE.total })).toBeUndefined();
  });
});
