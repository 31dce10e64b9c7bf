/**
 * SARIF 2.1.0 output (`kmiri run FILE --sarif OUT`, `kmiri test PATH --sarif OUT`), for code
 * scanning tools (GitHub code scanning, the VS Code SARIF viewer, …). One log, one run:
 *
 * - **Tool.** `tool.driver` is `kmiri` with the package version, and one rule per kind of finding
 *   that occurs (rule id = the {@link UBKind}, e.g. `use-after-free`), in order of first occurrence.
 *   Each rule's `name` is a PascalCase friendly name ({@link UB_KIND_NAMES}, e.g. `UseAfterFree`,
 *   `MemoryLeak`) that differs from its id even ignoring case, as validators ask (SARIF1001,
 *   SARIF2012).
 * - **Findings.** One result per {@link UBReport}: `ruleId` = `kind`, `level` `error` (leaks and
 *   deadlocks too: each one fails the run), `message.text` = the headline Miri prints after
 *   `error: ` (`title: message`; for a leak and a deadlock the unprefixed form Miri prints, see
 *   {@link headline}, so the title is not repeated). `locations[0]` is the report's location,
 *   relative to `%SRCROOT%` (the working directory, which `originalUriBaseIds` gives when the caller
 *   passes {@link SarifOptions.srcRoot}), with the caret label as its message. Help lines with a
 *   location become `relatedLocations` (message = the help message, as given); the backtrace
 *   becomes `stacks[0]` (innermost frame first; each frame's function name is its
 *   `location.message` and its `logicalLocations[0].name`, its file the frame's `module`); the
 *   thread, the notes and the help lines without a location go to `properties`
 *   (`thread`, `notes`, `help`, and `test` for a finding of a test).
 * - **Regions.** Every physical location has a `region` with `startLine` (and `startColumn`) ≥ 1,
 *   as code scanning services require: an unknown position (line 0) becomes line 1, and a result
 *   with no position of its own is placed at line 1 of its file (see {@link panicResult}).
 * - **Panics.** A panic is not UB, but it fails the run or the test, so it is reported under a
 *   rule of its own, {@link PANIC_RULE_ID} (`kmiri-panic`): level `error` for the panic that ended
 *   `kmiri run` (`main`'s) and for each failed test (its panic, or, for a `should_panic` test that
 *   did not panic, the reason, located at line 1 of the test file); a panic without a location
 *   is placed at its innermost backtrace frame, else at line 1 of the test file or of
 *   {@link SarifOptions.program}; level `warning` for the panic of a
 *   spawned thread ({@link RunResult.threadPanics}), which by itself does not fail the run (when
 *   `main` joined the thread, `main`'s own panic is the error). The message is Rust's
 *   `thread 'T' panicked: message`, prefixed with `test <module>::<name> failed: ` for a test.
 * - **Invocation.** `invocations[0]` carries the exit status kmiri returns and, in `properties`,
 *   the seed (and the replay schedule) that reproduce the run.
 *
 * Columns are 1-based UTF-16 code units and `endColumn` is exclusive, as in {@link SourceLocation}.
 */
import { pathToFileURL } from "node:url";
import type { Frame, HelpLine, SourceLocation, UBKind, UBReport } from "../../interp/report.js";
import type { PanicInfo, RunResult, TestResult, TestRunResult } from "../results.js";
import { headline, primaryLabel } from "./render.js";
import { testName } from "./render-tests.js";
import { toJson } from "./json.js";
import { packageVersion } from "../version.js";

/** The `$schema` of every log kmiri writes. */
export const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";

/** The SARIF version kmiri writes. */
export const SARIF_VERSION = "2.1.0";

/** The rule of panics: failed tests, a panicking program, panicked threads. */
export const PANIC_RULE_ID = "kmiri-panic";

/** The `informationUri` of the tool, unless {@link SarifOptions.informationUri} says otherwise. */
export const KMIRI_INFORMATION_URI = "https://www.npmjs.com/package/kmiri";

/** The base id relative locations are resolved against: the working directory of the run. */
export const SRCROOT = "%SRCROOT%";

/** A one-sentence description of each kind of finding: the `shortDescription` of its rule. */
export const UB_KIND_DESCRIPTIONS: Readonly<Record<UBKind, string>> = {
  "use-after-free": "Memory was accessed after it was freed (a dangling pointer).",
  "out-of-bounds": "Memory was accessed outside the bounds of its allocation.",
  "null-pointer": "A null pointer was dereferenced.",
  "no-provenance": "Memory was accessed through a pointer without provenance (an integer cast to a pointer).",
  "misaligned": "Memory was accessed through a pointer that is not aligned for the type.",
  "uninit": "Uninitialized memory was read as a value.",
  "invalid-value": "A value that is invalid for its type was produced or read (a bad bool, char, enum or reference).",
  "double-free": "An allocation was freed twice.",
  "bad-dealloc": "Memory was freed with the wrong layout or allocator, or it was not a heap allocation.",
  "read-only": "Read-only memory was written.",
  "overlapping-copy": "A non-overlapping copy was given overlapping source and destination.",
  "stacked-borrows": "An access violated the Stacked Borrows aliasing rules.",
  "tree-borrows": "An access violated the Tree Borrows aliasing rules.",
  "data-race": "Two threads accessed the same memory concurrently, at least one writing, without synchronization.",
  "deadlock": "The program deadlocked: every thread is blocked.",
  "lock-order": "Locks were taken in inconsistent orders (a potential deadlock).",
  "leak": "Memory was still allocated when the program (or the test) ended.",
  "unsafe-outside-unsafe": "An unsafe operation was performed outside an unsafe region.",
  "page-table": "A page table is malformed or maps memory it must not.",
  "page-state": "A physical page was used in a way its state does not allow.",
  "stale-tlb": "A stale TLB entry was used after its mapping was removed without a flush.",
  "dma": "A DMA buffer was accessed outside its mapping or without synchronization.",
  "mmio": "Device memory (MMIO or port I/O) was accessed outside the acquired range or non-volatilely.",
  "resource-exhaustion": "The program exhausted a resource limit (steps, memory, stack).",
  "unsupported": "The program performed an operation kmiri does not support.",
};

/**
 * The friendly `name` of each kind's rule: a PascalCase identifier (validators check
 * `^([A-Z][a-z0-9]+)*$`) that differs from the kind even ignoring case (`leak` is `MemoryLeak`,
 * not `Leak`).
 */
export const UB_KIND_NAMES: Readonly<Record<UBKind, string>> = {
  "use-after-free": "UseAfterFree",
  "out-of-bounds": "OutOfBounds",
  "null-pointer": "NullPointer",
  "no-provenance": "NoProvenance",
  "misaligned": "MisalignedAccess",
  "uninit": "UninitializedRead",
  "invalid-value": "InvalidValue",
  "double-free": "DoubleFree",
  "bad-dealloc": "BadDealloc",
  "read-only": "ReadOnly",
  "overlapping-copy": "OverlappingCopy",
  "stacked-borrows": "StackedBorrows",
  "tree-borrows": "TreeBorrows",
  "data-race": "DataRace",
  "deadlock": "DeadlockedThreads",
  "lock-order": "LockOrder",
  "leak": "MemoryLeak",
  "unsafe-outside-unsafe": "UnsafeOutsideUnsafe",
  "page-table": "PageTable",
  "page-state": "PageState",
  "stale-tlb": "StaleTlb",
  "dma": "DmaMisuse",
  "mmio": "MmioMisuse",
  "resource-exhaustion": "ResourceExhaustion",
  "unsupported": "UnsupportedOperation",
};

/** How to build the log. */
export interface SarifOptions {
  /** `tool.driver.version`; default: the version in kmiri's `package.json`. */
  toolVersion?: string;
  /** `tool.driver.informationUri`; default {@link KMIRI_INFORMATION_URI}. */
  informationUri?: string;
  /**
   * The absolute directory that relative locations are relative to (the working directory of the
   * run); given, it becomes `originalUriBaseIds["%SRCROOT%"]`. Without it a viewer resolves
   * `%SRCROOT%` itself (GitHub code scanning uses the repository root).
   */
  srcRoot?: string;
  /**
   * The program of `kmiri run` (a path relative to the working directory, `/`-separated): where a
   * panic with no location and no backtrace is placed (line 1). Without it such a result has no
   * `locations`.
   */
  program?: string;
}

/** A SARIF `message`. */
export interface SarifMessage {
  text: string;
}

/** A SARIF `artifactLocation`: a relative URI with its base id, or an absolute `file:` URI. */
export interface SarifArtifactLocation {
  uri: string;
  uriBaseId?: string;
}

/** A SARIF `region`: 1-based lines and columns, `endColumn` exclusive. */
export interface SarifRegion {
  startLine: number;
  startColumn?: number;
  endLine?: number;
  endColumn?: number;
}

/** A SARIF `logicalLocation` (here: the function of a stack frame). */
export interface SarifLogicalLocation {
  name: string;
  kind?: "function" | "module";
}

/** A SARIF `location`. */
export interface SarifLocation {
  /** Set on related locations, so a message can link to them. */
  id?: number;
  /** Always with a region (`startLine` ≥ 1). */
  physicalLocation: { artifactLocation: SarifArtifactLocation; region: SarifRegion };
  logicalLocations?: SarifLogicalLocation[];
  message?: SarifMessage;
}

/** A SARIF `stackFrame`. */
export interface SarifStackFrame {
  location: SarifLocation;
  /** The file the function is in (kmiri's modules are files). */
  module?: string;
}

/** A SARIF `stack`: a backtrace, innermost frame first. */
export interface SarifStack {
  message?: SarifMessage;
  frames: SarifStackFrame[];
}

/** SARIF levels kmiri uses. */
export type SarifLevel = "error" | "warning";

/** A SARIF `result`: one finding, or one panic. */
export interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: SarifLevel;
  message: SarifMessage;
  locations: SarifLocation[];
  relatedLocations?: SarifLocation[];
  stacks?: SarifStack[];
  /** `thread`, `notes`, `help` (help lines without a location), `test` (for a test's result). */
  properties: {
    thread: string;
    notes: string[];
    help: string[];
    test?: string;
  };
}

/** A SARIF `reportingDescriptor`: one rule per kind of finding. */
export interface SarifRule {
  id: string;
  name: string;
  shortDescription: SarifMessage;
  defaultConfiguration: { level: SarifLevel };
}

/** A SARIF `invocation`: how the run ended. */
export interface SarifInvocation {
  executionSuccessful: boolean;
  exitCode: number;
  properties: { seed: number; schedule?: string };
}

/** A SARIF `run`. */
export interface SarifRun {
  tool: { driver: { name: "kmiri"; version: string; informationUri: string; rules: SarifRule[] } };
  originalUriBaseIds?: Record<string, { uri: string }>;
  columnKind: "utf16CodeUnits";
  invocations: SarifInvocation[];
  results: SarifResult[];
}

/** A SARIF log: what `--sarif FILE` writes (`JSON.stringify` it). */
export interface SarifLog {
  $schema: typeof SARIF_SCHEMA;
  version: typeof SARIF_VERSION;
  runs: [SarifRun];
}

/**
 * The rule of a kind of finding (or of {@link PANIC_RULE_ID}).
 * @param id - a {@link UBKind} or `kmiri-panic`.
 * @returns the rule: id, a PascalCase name (`UseAfterFree`), its description, level `error`.
 */
export function sarifRule(id: UBKind | typeof PANIC_RULE_ID): SarifRule {
  const description =
    id === PANIC_RULE_ID
      ? "A thread panicked: a failed test, a failed assertion, or an uncaught exception (not undefined behaviour)."
      : (UB_KIND_DESCRIPTIONS[id] ?? `kmiri reported \`${id}\`.`);
  const name = id === PANIC_RULE_ID ? "Panic" : (UB_KIND_NAMES[id] ?? friendlyName(id));
  return { id, name, shortDescription: { text: description }, defaultConfiguration: { level: "error" } };
}

/**
 * A PascalCase name for a kind kmiri does not know: `foo-bar` is `FooBar`, `foo` `FooFinding`;
 * `OtherFinding` when the words make no such name (`x`).
 */
function friendlyName(id: string): string {
  const words = id.split(/[^A-Za-z0-9]+/).filter((w) => w !== "");
  let name = words.map((w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()).join("");
  if (name.toLowerCase() === id.toLowerCase()) name += "Finding";
  return /^([A-Z][a-z0-9]+)+$/.test(name) ? name : "OtherFinding";
}

/**
 * The artifact location of a source file: a relative path (with `/` separators) becomes a
 * percent-encoded URI relative to `%SRCROOT%`; an absolute path becomes a `file:` URI.
 * @param file - a `SourceLocation.file`.
 */
export function sarifArtifactLocation(file: string): SarifArtifactLocation {
  if (file.startsWith("/") || /^[A-Za-z]:[\\/]/.test(file)) return { uri: pathToFileURL(file).href };
  return { uri: file.split("/").map((segment) => encodeURIComponent(segment)).join("/"), uriBaseId: SRCROOT };
}

/**
 * The region of a source location; the end is left out when unknown (or before the start). An
 * unknown line or column (0, as in a location that names no program site) becomes 1: SARIF's are
 * 1-based, and a region must have a `startLine`.
 * @param loc - the location.
 */
export function sarifRegion(loc: SourceLocation): SarifRegion {
  const line = Math.max(1, loc.line || 1);
  const column = Math.max(1, loc.column || 1);
  const region: SarifRegion = { startLine: line, startColumn: column };
  const endLine = loc.endLine ?? line;
  if (loc.endLine !== undefined && loc.endLine >= line) region.endLine = loc.endLine;
  if (loc.endColumn !== undefined && (endLine > line || loc.endColumn >= column)) region.endColumn = loc.endColumn;
  return region;
}

/**
 * A SARIF location of a source position.
 * @param loc - the position.
 * @param message - the location's message, if any.
 */
export function sarifLocation(loc: SourceLocation, message?: string): SarifLocation {
  const location: SarifLocation = {
    physicalLocation: { artifactLocation: sarifArtifactLocation(loc.file), region: sarifRegion(loc) },
  };
  if (message) location.message = { text: message };
  return location;
}

/** One backtrace frame as a SARIF stack frame. */
function stackFrame(frame: Frame): SarifStackFrame {
  const location = sarifLocation(frame.location, frame.fn);
  location.logicalLocations = [{ name: frame.fn, kind: frame.fn === "<module>" ? "module" : "function" }];
  return { location, module: frame.location.file };
}

/** The backtrace of a thread as `stacks`, or nothing for an empty backtrace. */
function stacks(thread: string, backtrace: Frame[] | undefined): SarifStack[] | undefined {
  if (!backtrace || backtrace.length === 0) return undefined;
  return [{ message: { text: `stack backtrace of thread \`${thread}\`` }, frames: backtrace.map(stackFrame) }];
}

/** Help lines with a location, as related locations numbered from 1. */
function relatedLocations(help: HelpLine[]): SarifLocation[] | undefined {
  const related = help
    .filter((h): h is HelpLine & { location: SourceLocation } => h.location !== undefined)
    .map((h, i) => ({ id: i + 1, ...sarifLocation(h.location, h.message) }));
  return related.length > 0 ? related : undefined;
}

/** Collects the rules in order of first use. */
class Rules {
  readonly list: SarifRule[] = [];
  private readonly index = new Map<string, number>();

  /** The index of a rule in `tool.driver.rules`, adding it on first use. */
  indexOf(id: UBKind | typeof PANIC_RULE_ID): number {
    let i = this.index.get(id);
    if (i === undefined) {
      i = this.list.push(sarifRule(id)) - 1;
      this.index.set(id, i);
    }
    return i;
  }
}

/** The result of one finding. */
function reportResult(report: UBReport, rules: Rules, test?: string): SarifResult {
  const help = report.help ?? [];
  const related = relatedLocations(help);
  const stack = stacks(report.thread, report.backtrace);
  return {
    ruleId: report.kind,
    ruleIndex: rules.indexOf(report.kind),
    level: "error",
    message: { text: headline(report) },
    locations: [sarifLocation(report.location, primaryLabel(report))],
    ...(related ? { relatedLocations: related } : {}),
    ...(stack ? { stacks: stack } : {}),
    properties: {
      thread: report.thread,
      notes: [...(report.notes ?? [])],
      help: help.filter((h) => h.location === undefined).map((h) => h.message),
      ...(test !== undefined ? { test } : {}),
    },
  };
}

/**
 * The result of a panic (or of a test that failed without one). It is located where the thread
 * panicked, else at its innermost backtrace frame, else at line 1 of `fallbackFile` (the test
 * file, or the program); with none of these it has no location.
 */
function panicResult(
  rules: Rules,
  level: SarifLevel,
  text: string,
  panic: PanicInfo | undefined,
  fallbackFile?: string,
  test?: string,
): SarifResult {
  let locations: SarifLocation[] = [];
  const where = panic?.location ?? panic?.backtrace[0]?.location;
  if (where) locations = [sarifLocation(where, `thread '${panic!.thread}' panicked here`)];
  else if (fallbackFile) locations = [sarifLocation({ file: fallbackFile, line: 1, column: 1 })];
  const stack = panic ? stacks(panic.thread, panic.backtrace) : undefined;
  return {
    ruleId: PANIC_RULE_ID,
    ruleIndex: rules.indexOf(PANIC_RULE_ID),
    level,
    message: { text },
    locations,
    ...(stack ? { stacks: stack } : {}),
    properties: { thread: panic?.thread ?? "main", notes: [], help: [], ...(test !== undefined ? { test } : {}) },
  };
}

/** Rust's first words of a panic. */
function panicText(panic: PanicInfo): string {
  return `thread '${panic.thread}' panicked: ${panic.message}`;
}

/** The results of a failed test: its findings, then its panic (or why it failed). */
function testResults(t: TestResult, rules: Rules): SarifResult[] {
  const name = testName(t);
  const results = (t.ub ?? []).map((r) => reportResult(r, rules, name));
  if (t.status !== "fail") return results;
  const why = t.panic ? panicText(t.panic) : (t.reason ?? "the test failed");
  const text = t.panic && t.reason ? `${why} (${t.reason.split("\n")[0]})` : why;
  results.push(panicResult(rules, "error", `test ${name} failed: ${text}`, t.panic, t.module || undefined, name));
  return results;
}

/**
 * The SARIF log of a run or a test run (see the module comment for the mapping).
 * @param result - what `runFile` or `testPath` returned.
 * @param options - tool version, information URI, and the directory `%SRCROOT%` stands for.
 * @returns the log; `JSON.stringify` it.
 * @example
 * writeFileSync("kmiri.sarif", JSON.stringify(toSarif(await runFile("main.ts"), { srcRoot: process.cwd() }), null, 2));
 */
export function toSarif(result: RunResult | TestRunResult, options: SarifOptions = {}): SarifLog {
  const rules = new Rules();
  const results: SarifResult[] = [];
  if ("tests" in result) {
    const seen = new Set<UBReport>();
    for (const t of result.tests) {
      for (const r of t.ub ?? []) seen.add(r);
      results.push(...testResults(t, rules));
    }
    // Findings outside any test (e.g. of a file's top level), should the engine report some.
    for (const r of result.ub) if (!seen.has(r)) results.push(reportResult(r, rules));
  } else {
    const program = options.program;
    for (const p of result.threadPanics ?? []) results.push(panicResult(rules, "warning", panicText(p), p, program));
    for (const r of result.ub) results.push(reportResult(r, rules));
    if (result.panic) results.push(panicResult(rules, "error", panicText(result.panic), result.panic, program));
  }

  const json = toJson(result);
  const invocation: SarifInvocation = { executionSuccessful: true, exitCode: json.exitCode, properties: { seed: result.seed } };
  if (json.schedule !== undefined) invocation.properties.schedule = json.schedule;
  const root = options.srcRoot === undefined ? undefined : pathToFileURL(options.srcRoot).href;
  const run: SarifRun = {
    tool: {
      driver: {
        name: "kmiri",
        version: options.toolVersion ?? packageVersion(),
        informationUri: options.informationUri ?? KMIRI_INFORMATION_URI,
        rules: rules.list,
      },
    },
    ...(root !== undefined ? { originalUriBaseIds: { [SRCROOT]: { uri: root.endsWith("/") ? root : `${root}/` } } } : {}),
    columnKind: "utf16CodeUnits",
    invocations: [invocation],
    results,
  };
  return { $schema: SARIF_SCHEMA, version: SARIF_VERSION, runs: [run] };
}
