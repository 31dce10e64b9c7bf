import { describe, expect, test } from "vitest";
import {
  KMIRI_INFORMATION_URI, PANIC_RULE_ID, SARIF_SCHEMA, UB_KIND_DESCRIPTIONS, sarifArtifactLocation, sarifRegion, sarifRule, toSarif,
  type SarifLog,
} from "../../src/driver/render/sarif.js";
import { UB_KINDS, type UBReport } from "../../src/interp/report.js";
import type { PanicInfo, RunResult, TestRunResult } from "../../src/driver/results.js";
import { packageVersion } from "../../src/driver/version.js";

const STATS = { steps: 1, threads: 2, switches: 0, allocations: 1, ms: 3 };
const FILE = "src/mm/frame.ts";

function uaf(): UBReport {
  return {
    kind: "use-after-free",
    title: "Undefined Behavior",
    message: "memory access failed: alloc12 has been freed, so this pointer is dangling",
    location: { file: FILE, line: 15, column: 15, endLine: 15, endColumn: 23 },
    label: "Undefined Behavior occurred here",
    thread: "cpu1",
    backtrace: [
      { fn: "read_counter", location: { file: FILE, line: 15, column: 15, endLine: 15, endColumn: 23 } },
      { fn: "main", location: { file: "src/main.ts", line: 4, column: 3 } },
    ],
    help: [
      { message: "this indicates a bug in the program: it performed an invalid operation, and caused Undefined Behavior" },
      { message: "alloc12 was allocated here:", location: { file: FILE, line: 6, column: 13, endLine: 6, endColumn: 23 } },
      { message: "alloc12 was deallocated here:", location: { file: FILE, line: 14, column: 5, endLine: 14, endColumn: 20 } },
    ],
    notes: ["replay with `--seed 7`"],
  };
}

function run(extra: Partial<RunResult> = {}): RunResult {
  return { seed: 7, ub: [uaf()], output: [], exitCode: 1, stats: STATS, ...extra };
}

const region = (startLine: number, startColumn: number, endLine: number, endColumn: number) => ({ startLine, startColumn, endLine, endColumn });
const artifact = (uri: string) => ({ uri, uriBaseId: "%SRCROOT%" });

describe("toSarif: the log", () => {
  test("one run, the SARIF 2.1.0 header and kmiri as the driver with one rule per kind that occurs", () => {
    const log = toSarif(run({ ub: [uaf(), { ...uaf(), kind: "data-race" }, uaf()] }), { toolVersion: "9.9.9" });
    expect(log.$schema).toBe(SARIF_SCHEMA);
    expect(log.$schema).toBe("https://json.schemastore.org/sarif-2.1.0.json");
    expect(log.version).toBe("2.1.0");
    expect(log.runs).toHaveLength(1);
    const driver = log.runs[0].tool.driver;
    expect(driver).toMatchObject({ name: "kmiri", version: "9.9.9", informationUri: KMIRI_INFORMATION_URI });
    expect(driver.rules.map((r) => r.id)).toEqual(["use-after-free", "data-race"]);
    expect(driver.rules[0]).toEqual({
      id: "use-after-free",
      name: "UseAfterFree",
      shortDescription: { text: UB_KIND_DESCRIPTIONS["use-after-free"] },
      defaultConfiguration: { level: "error" },
    });
    expect(log.runs[0].results.map((r) => [r.ruleId, r.ruleIndex])).toEqual([["use-after-free", 0], ["data-race", 1], ["use-after-free", 0]]);
    expect(log.runs[0].columnKind).toBe("utf16CodeUnits");
  });

  test("the tool version defaults to package.json's; a clean run has no rules and no results", () => {
    const log = toSarif(run({ ub: [], exitCode: 0 }));
    expect(log.runs[0].tool.driver.version).toBe(packageVersion());
    expect(log.runs[0].tool.driver.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(log.runs[0].tool.driver.rules).toEqual([]);
    expect(log.runs[0].results).toEqual([]);
    expect(log.runs[0].invocations).toEqual([{ executionSuccessful: true, exitCode: 0, properties: { seed: 7 } }]);
  });

  test("the invocation carries the exit status, the seed and the schedule", () => {
    expect(toSarif(run({ schedule: "0:1:1" })).runs[0].invocations[0]).toEqual({
      executionSuccessful: true, exitCode: 1, properties: { seed: 7, schedule: "0:1:1" },
    });
  });

  test("srcRoot becomes %SRCROOT% in originalUriBaseIds, as a directory URI", () => {
    expect(toSarif(run(), { srcRoot: "/home/me/kernel" }).runs[0].originalUriBaseIds).toEqual({ "%SRCROOT%": { uri: "file:///home/me/kernel/" } });
    expect(toSarif(run()).runs[0]).not.toHaveProperty("originalUriBaseIds");
  });

  test("every kind has a rule with a description", () => {
    for (const kind of UB_KINDS) {
      const rule = sarifRule(kind);
      expect(rule.id).toBe(kind);
      expect(rule.name).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(rule.shortDescription.text.length).toBeGreaterThan(10);
    }
    expect(sarifRule(PANIC_RULE_ID)).toMatchObject({ id: "kmiri-panic", name: "Panic", defaultConfiguration: { level: "error" } });
  });

  test("the JSON survives a round trip unchanged (no undefined fields, nothing but data)", () => {
    const log = toSarif(run({ panic: { thread: "main", message: "boom", backtrace: [] } }), { srcRoot: "/x" });
    expect(JSON.parse(JSON.stringify(log))).toEqual(log);
  });
});

describe("toSarif: a finding", () => {
  test("every report field lands where SARIF says", () => {
    const [result] = toSarif(run()).runs[0].results;
    expect(result).toEqual({
      ruleId: "use-after-free",
      ruleIndex: 0,
      level: "error",
      message: { text: "Undefined Behavior: memory access failed: alloc12 has been freed, so this pointer is dangling" },
      locations: [{
        physicalLocation: { artifactLocation: artifact(FILE), region: region(15, 15, 15, 23) },
        message: { text: "Undefined Behavior occurred here" },
      }],
      relatedLocations: [
        { id: 1, physicalLocation: { artifactLocation: artifact(FILE), region: region(6, 13, 6, 23) }, message: { text: "alloc12 was allocated here:" } },
        { id: 2, physicalLocation: { artifactLocation: artifact(FILE), region: region(14, 5, 14, 20) }, message: { text: "alloc12 was deallocated here:" } },
      ],
      stacks: [{
        message: { text: "stack backtrace of thread `cpu1`" },
        frames: [
          {
            location: {
              physicalLocation: { artifactLocation: artifact(FILE), region: region(15, 15, 15, 23) },
              message: { text: "read_counter" },
              logicalLocations: [{ name: "read_counter", kind: "function" }],
            },
            module: FILE,
          },
          {
            location: {
              physicalLocation: { artifactLocation: artifact("src/main.ts"), region: { startLine: 4, startColumn: 3 } },
              message: { text: "main" },
              logicalLocations: [{ name: "main", kind: "function" }],
            },
            module: "src/main.ts",
          },
        ],
      }],
      properties: {
        thread: "cpu1",
        notes: ["replay with `--seed 7`"],
        help: ["this indicates a bug in the program: it performed an invalid operation, and caused Undefined Behavior"],
      },
    });
  });

  test("leaks and deadlocks are errors too, with Miri's headline (the title is not repeated)", () => {
    const leak: UBReport = {
      kind: "leak", title: "memory leak", message: "memory leaked: alloc1 (Rust heap, size: 4, align: 4), allocated here:",
      location: { file: FILE, line: 4, column: 3 }, thread: "main", backtrace: [], help: [],
    };
    const deadlock: UBReport = {
      kind: "deadlock", title: "deadlock", message: "the evaluated program deadlocked",
      location: { file: FILE, line: 9, column: 5 }, thread: "cpu1", backtrace: [], help: [],
    };
    const results = toSarif(run({ ub: [leak, deadlock] })).runs[0].results;
    expect(results.map((r) => [r.ruleId, r.level, r.message.text])).toEqual([
      ["leak", "error", "memory leaked: alloc1 (Rust heap, size: 4, align: 4), allocated here:"],
      ["deadlock", "error", "the evaluated program deadlocked"],
    ]);
    // Default labels as the terminal draws them; no backtrace, no related locations: no such keys.
    expect(results[0]!.locations[0]).not.toHaveProperty("message");
    expect(results[1]!.locations[0]!.message).toEqual({ text: "thread got stuck here" });
    expect(results[0]).not.toHaveProperty("stacks");
    expect(results[0]).not.toHaveProperty("relatedLocations");
    expect(results[1]!.properties).toEqual({ thread: "cpu1", notes: [], help: [] });
  });

  test("a report without an end, and a frame of module code", () => {
    const r: UBReport = {
      ...uaf(), location: { file: FILE, line: 3, column: 1 }, backtrace: [{ fn: "<module>", location: { file: FILE, line: 3, column: 1 } }],
    };
    const [result] = toSarif(run({ ub: [r] })).runs[0].results;
    expect(result!.locations[0]!.physicalLocation.region).toEqual({ startLine: 3, startColumn: 1 });
    expect(result!.stacks![0]!.frames[0]!.location.logicalLocations).toEqual([{ name: "<module>", kind: "module" }]);
  });
});

describe("locations", () => {
  test("relative paths are percent-encoded URIs relative to %SRCROOT%; absolute ones file: URIs", () => {
    expect(sarifArtifactLocation("examples/use-after-free.ts")).toEqual(artifact("examples/use-after-free.ts"));
    expect(sarifArtifactLocation("my dir/a#b.ts")).toEqual(artifact("my%20dir/a%23b.ts"));
    expect(sarifArtifactLocation("../lib/x.ts")).toEqual(artifact("../lib/x.ts"));
    expect(sarifArtifactLocation("/abs/x y.ts")).toEqual({ uri: "file:///abs/x%20y.ts" });
  });

  test("regions: the end only when known and not before the start; a multi-line end keeps its column", () => {
    expect(sarifRegion({ file: FILE, line: 2, column: 3 })).toEqual({ startLine: 2, startColumn: 3 });
    expect(sarifRegion({ file: FILE, line: 2, column: 3, endColumn: 9 })).toEqual({ startLine: 2, startColumn: 3, endColumn: 9 });
    expect(sarifRegion({ file: FILE, line: 2, column: 3, endLine: 4, endColumn: 1 })).toEqual(region(2, 3, 4, 1));
    expect(sarifRegion({ file: FILE, line: 2, column: 8, endLine: 2, endColumn: 3 })).toEqual({ startLine: 2, startColumn: 8, endLine: 2 });
    expect(sarifRegion({ file: FILE, line: 5, column: 8, endLine: 2, endColumn: 3 })).toEqual({ startLine: 5, startColumn: 8 });
  });
});

describe("toSarif: panics", () => {
  const cpu1: PanicInfo = {
    thread: "cpu1", message: "bad frame",
    location: { file: FILE, line: 5, column: 3, endLine: 5, endColumn: 21 },
    backtrace: [{ fn: "handle_frame", location: { file: FILE, line: 5, column: 3 } }],
  };
  const main: PanicInfo = {
    thread: "main", message: "thread 'cpu1' panicked: bad frame",
    location: { file: FILE, line: 10, column: 3 }, backtrace: [],
  };

  test("a run: threads' panics are warnings, main's is an error, in the order they are printed", () => {
    const log = toSarif(run({ ub: [], threadPanics: [cpu1], panic: main }));
    const { rules } = log.runs[0].tool.driver;
    expect(rules.map((r) => r.id)).toEqual([PANIC_RULE_ID]);
    const results = log.runs[0].results;
    expect(results.map((r) => [r.ruleId, r.level, r.message.text])).toEqual([
      ["kmiri-panic", "warning", "thread 'cpu1' panicked: bad frame"],
      ["kmiri-panic", "error", "thread 'main' panicked: thread 'cpu1' panicked: bad frame"],
    ]);
    expect(results[0]).toMatchObject({
      locations: [{ physicalLocation: { artifactLocation: artifact(FILE), region: region(5, 3, 5, 21) }, message: { text: "thread 'cpu1' panicked here" } }],
      stacks: [{ frames: [{ location: { message: { text: "handle_frame" } }, module: FILE }] }],
      properties: { thread: "cpu1" },
    });
    expect(results[1]).not.toHaveProperty("stacks");
  });

  test("a test run: findings and failures of each test, tagged with the test; passing tests give nothing", () => {
    const finding = uaf();
    const result: TestRunResult = {
      seed: 0,
      tests: [
        { name: "ok", module: "t.test.ts", status: "pass", ms: 1, output: [] },
        { name: "bad_math", module: "t.test.ts", status: "fail", ms: 1, output: [], panic: { ...main, message: "assertion failed" } },
        { name: "no_panic", module: "t.test.ts", status: "fail", ms: 1, output: [], reason: "test did not panic as expected" },
        { name: "uaf", module: "t.test.ts", status: "ub", ms: 1, output: [], ub: [finding] },
      ],
      ub: [finding],
      coverage: { modules: [], total: { module: "total", tests: 4, lines: { covered: 0, total: 0 }, unsafe: { covered: 0, total: 0 }, nativeMs: 0, checkedMs: 0 } },
      stats: STATS,
      exitCode: 1,
    };
    const log = toSarif(result);
    expect(log.runs[0].tool.driver.rules.map((r) => r.id)).toEqual(["kmiri-panic", "use-after-free"]);
    const results = log.runs[0].results;
    expect(results.map((r) => [r.ruleId, r.level, r.message.text, r.properties.test])).toEqual([
      ["kmiri-panic", "error", "test t.test.ts::bad_math failed: thread 'main' panicked: assertion failed", "t.test.ts::bad_math"],
      ["kmiri-panic", "error", "test t.test.ts::no_panic failed: test did not panic as expected", "t.test.ts::no_panic"],
      ["use-after-free", "error", "Undefined Behavior: memory access failed: alloc12 has been freed, so this pointer is dangling", "t.test.ts::uaf"],
    ]);
    // Without a panic location the failure points at line 1 of the test file.
    expect(results[1]!.locations).toEqual([{ physicalLocation: { artifactLocation: artifact("t.test.ts"), region: { startLine: 1, startColumn: 1 } } }]);
    expect(log.runs[0].invocations[0]!.exitCode).toBe(1);
  });
});

/** Every physical location of a log: results' locations, related locations and stack frames. */
function physicalLocations(log: SarifLog) {
  return log.runs[0].results.flatMap((r) => [
    ...r.locations,
    ...(r.relatedLocations ?? []),
    ...(r.stacks ?? []).flatMap((s) => s.frames.map((f) => f.location)),
  ]).map((l) => l.physicalLocation);
}

describe("toSarif: what validators check (SARIF multitool SARIF1001, SARIF2012; code scanning's required region)", () => {
  /** SARIF2012's test of a friendly name: PascalCase words, each a capital then lower-case letters or digits. */
  const PASCAL = /^([A-Z][a-z0-9]+)+$/;

  test("every rule's name is PascalCase and differs from its id, even ignoring case", () => {
    for (const id of [...UB_KINDS, PANIC_RULE_ID] as const) {
      const rule = sarifRule(id);
      expect(rule.name, id).toMatch(PASCAL);
      expect(rule.name.toLowerCase(), id).not.toBe(rule.id.toLowerCase());
    }
    expect(sarifRule("leak").name).toBe("MemoryLeak");
    expect(new Set(UB_KINDS.map((k) => sarifRule(k).name)).size).toBe(UB_KINDS.length);
  });

  test("a kind kmiri does not know still gets a distinct PascalCase name", () => {
    for (const id of ["frobnicate", "two-words", "x"]) {
      const { name } = sarifRule(id as never);
      expect(name).toMatch(PASCAL);
      expect(name.toLowerCase()).not.toBe(id.toLowerCase());
    }
  });

  test("every result has a location with a region whose startLine is at least 1", () => {
    const noWhere: PanicInfo = { thread: "main", message: "boom", backtrace: [] };
    const deepPanic: PanicInfo = { thread: "cpu1", message: "deep", backtrace: [{ fn: "f", location: { file: FILE, line: 9, column: 2 } }] };
    const unknown: UBReport = { ...uaf(), kind: "leak", location: { file: "<memory>", line: 0, column: 0 }, backtrace: [], help: [] };
    const deadlock: UBReport = { ...uaf(), kind: "deadlock", backtrace: [{ fn: "main", location: { file: FILE, line: 0, column: 0 } }] };
    const logs: SarifLog[] = [
      toSarif(run({ ub: [unknown, deadlock], threadPanics: [deepPanic], panic: noWhere }), { program: "src/main.ts" }),
      toSarif(run({ ub: [{ ...uaf(), kind: "unsupported" }], panic: { ...noWhere, location: { file: FILE, line: 0, column: 0 } } }), { program: "src/main.ts" }),
      toSarif({
        seed: 0,
        tests: [
          { name: "no_panic", module: "t.test.ts", status: "fail", ms: 1, output: [], reason: "test did not panic as expected" },
          { name: "lost", module: "t.test.ts", status: "fail", ms: 1, output: [], panic: noWhere },
          { name: "leaky", module: "t.test.ts", status: "ub", ms: 1, output: [], ub: [unknown] },
        ],
        ub: [unknown],
        coverage: { modules: [], total: { module: "total", tests: 3, lines: { covered: 0, total: 0 }, unsafe: { covered: 0, total: 0 }, nativeMs: 0, checkedMs: 0 } },
        stats: STATS,
        exitCode: 1,
      }),
    ];
    for (const log of logs) {
      for (const r of log.runs[0].results) expect(r.locations.length, r.message.text).toBeGreaterThan(0);
      for (const p of physicalLocations(log)) {
        expect(p.region.startLine).toBeGreaterThanOrEqual(1);
        expect(p.region.startColumn ?? 1).toBeGreaterThanOrEqual(1);
      }
    }
    const results = logs[0]!.runs[0].results;
    // A thread's panic without a location: at its innermost frame; main's without one: the program, line 1.
    expect(results[0]!.locations[0]!.physicalLocation).toEqual({ artifactLocation: artifact(FILE), region: { startLine: 9, startColumn: 2 } });
    expect(results.at(-1)!.locations[0]!.physicalLocation).toEqual({ artifactLocation: artifact("src/main.ts"), region: { startLine: 1, startColumn: 1 } });
  });

  test("an unknown position (line 0) becomes line 1, column 1", () => {
    expect(sarifRegion({ file: "<memory>", line: 0, column: 0 })).toEqual({ startLine: 1, startColumn: 1 });
  });
});
