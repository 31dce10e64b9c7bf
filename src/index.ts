/**
 * kmiri as a library: run programs and tests on the checked Machine, or use its parts.
 *
 * - One call: {@link createMachine} gives a checked machine that runs a program (a file, or its
 *   source text) and its `ktest`s; {@link runFile} and {@link testPath} do the same for files.
 * - The memory model on its own: {@link Memory} with its seam (host, borrow and race hooks,
 *   address resolvers) — `load`/`store` with every check, no Machine needed (see
 *   examples/tiny-simulator.mjs).
 * - The analyses on their own: `kmiri/borrowtracker` (Stacked Borrows) and `kmiri/concurrency`
 *   (vector clocks, the data-race detector, the lock-order checker, the schedulers).
 *
 * @example
 * ```ts
 * import { createMachine } from "kmiri";
 * const result = await createMachine({ seed: 1 }).run("examples/use-after-free.ts");
 * for (const ub of result.ub) console.log(ub.kind, ub.message, ub.location);
 * ```
 */
export { createMachine } from "./driver/create-machine.js";
export type { CheckedMachine, ProgramText } from "./driver/create-machine.js";
export { runFile, findTestFiles, prepareFile, prepareTests, coverageByDir, NativeLinker } from "./driver/run.js";
export { testPath } from "./driver/test-path.js";
export { selectTestFiles, shardOf, shardSeedRange } from "./driver/test-selection.js";
export type { FileSelection, Shard } from "./driver/test-selection.js";
export { compileGlob, matchesGlob } from "./driver/glob.js";
export type { Glob } from "./driver/glob.js";
export type { PreparedProgram, PreparedTests, SeedTestRun } from "./driver/run.js";
export { runManySeeds, testManySeeds } from "./driver/many-seeds.js";
export type { ManySeedsOptions, ManySeedsProgress, ManySeedsResult, SeedRun } from "./driver/many-seeds.js";
export { checkCorpus, checkCorpusFile, corpusFiles, parseCorpusFile } from "./driver/corpus.js";
export type { CorpusCase, CorpusResult, Expectation } from "./driver/corpus.js";
export { renderReport, renderRunResult } from "./driver/render/render.js";
export { toSarif } from "./driver/render/sarif.js";
// The reports other tools read: the JSON contract, lcov, and the HTML report of a test run.
export { testRunResultToJson, runResultToJson } from "./driver/render/json.js";
export { toLcov } from "./driver/render/lcov.js";
export { renderHtmlReport, writeHtmlReport } from "./driver/render/html/html-report.js";
export type { HtmlReportOptions } from "./driver/render/html/html-report.js";
export type { RunOptions, TestOptions, TestProgress } from "./driver/run.js";
export { Machine } from "./interp/machine.js";
export { checkedRuntime } from "./shims/checked/runtime.js";
export { CHECKED_RUNTIME, isCheckedRuntime } from "./interp/shim-host.js";
export type { GuestRuntime, ShimHost, CheckOptions } from "./interp/shim-host.js";
export { GUEST_APIS } from "./shims/manifest.js";
export type { GuestApiManifest } from "./shims/manifest.js";
export { MachineRaces, StackInterner } from "./interp/races.js";
export type { RaceHost } from "./interp/races.js";
export { Thread } from "./interp/thread.js";
export { STALL_ROUNDS } from "./interp/actors.js";
export type { Actor, ActorKind, ActorStep } from "./interp/actors.js";
export type { ProgramConsole } from "./interp/program-console.js";
export type { MachineConfig } from "./interp/machine.js";
/**
 * Mirch's engine-free parts for simulators with their own CPU loop: the page-table walker and CR3
 * checks, the TLB, physical page states, the IOMMU, DMA ownership, the I/O space, interrupt lines,
 * the device-model interface and the devices that ship (`mirch.walk`, `new mirch.Tlb()`, ...).
 */
export * as mirch from "./mirch/index.js";
export { MirchMachine, parseRamSize, MAX_CPUS } from "./interp/mirch/mirch-machine.js";
export type { MirchOptions } from "./interp/mirch/mirch-machine.js";
export { compileProgram, CompileError } from "./interp/compile/index.js";
export type { CompiledProgram, ProgramModule } from "./interp/compile/index.js";
export { loadProgram, loadPrograms, LoadError } from "./interp/loader/index.js";
export type { SourceModule, SourceProgram, LoadOptions } from "./interp/loader/index.js";
// The memory model and its seam.
export { Memory, NO_RACES, standaloneHost, DEFAULT_MEMORY_LIMIT } from "./interp/memory/memory.js";
export type { MemoryOptions } from "./interp/memory/memory.js";
export { Allocation, WILDCARD, indirectMarker } from "./interp/memory/allocation.js";
export type { AllocKind, StoredPointer } from "./interp/memory/allocation.js";
export { MAIN_THREAD } from "./interp/memory/seam.js";
export type {
  Party,
  AccessKind,
  AddressResolver,
  BorrowHook,
  MemoryHost,
  PointerFactory,
  RaceHook,
  SeamAllocation,
} from "./interp/memory/seam.js";
export * as layouts from "./interp/memory/layouts.js";
export type { Layout } from "./interp/memory/layouts.js";
/** The Machine's PRNG (xoshiro128**), also `Xoshiro128` of `kmiri/concurrency`. */
export { Xoshiro128 as Prng } from "./concurrency/scheduler.js";
export { UB_KINDS, UBStop, PanicStop, MachineStop } from "./interp/report.js";
export type { UBKind, UBReport, SourceLocation, Frame, HelpLine, ReportOptions, RaceAccess, RaceDetail } from "./interp/report.js";
export type {
  RunResult,
  TestRunResult,
  TestResult,
  TestSeedFailure,
  PanicInfo,
  RunStats,
  CoverageReport,
  CoverageRow,
  UnsafeRegion,
  FunctionCoverage,
} from "./driver/results.js";
// Stacked Borrows: the Machine's tracker, and the library on its own (also `kmiri/borrowtracker`).
export { MachineBorrows, type BorrowModel, type MachineBorrowsOptions } from "./interp/borrows.js";
export {
  StackedBorrows,
  StackedBorrowsHooks,
  AllocationState,
  AllocHistory,
  Stack,
  isFinding,
  formatTag,
  WILDCARD as WILDCARD_TAG,
  type Finding,
  type FindingHelp,
  type TagEvent,
  type StackedBorrowsOptions,
  type StackedBorrowsStats,
  type RetagKind as StackedBorrowsRetagKind,
} from "./borrowtracker/index.js";
export type { BorrowTracker, BorTag, RetagRequest, TrackedAllocation } from "./borrowtracker/hooks.js";
