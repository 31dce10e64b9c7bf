/**
 * kmiri as a library: run programs and tests on the checked Machine, or use its parts.
 *
 * @example
 * ```ts
 * import { runFile } from "kmiri";
 * const result = await runFile("examples/use-after-free.ts", { seed: 1 });
 * for (const ub of result.ub) console.log(ub.kind, ub.message, ub.location);
 * ```
 */
export { runFile, findTestFiles, prepareFile, prepareTests, coverageByDir, NativeLinker } from "./driver/run.js";
export { testPath } from "./driver/test-path.js";
export type { PreparedProgram, PreparedTests, SeedTestRun } from "./driver/run.js";
export { runManySeeds, testManySeeds } from "./driver/many-seeds.js";
export type { ManySeedsOptions, ManySeedsProgress, ManySeedsResult, SeedRun } from "./driver/many-seeds.js";
export { checkCorpus, checkCorpusFile, corpusFiles, parseCorpusFile } from "./driver/corpus.js";
export type { CorpusCase, CorpusResult, Expectation } from "./driver/corpus.js";
export { renderReport, renderRunResult } from "./driver/render/render.js";
export { toSarif } from "./driver/render/sarif.js";
export type { RunOptions, TestOptions } from "./driver/run.js";
export { Machine } from "./interp/machine.js";
export { Thread } from "./interp/thread.js";
export type { MachineConfig } from "./interp/machine.js";
export { compileProgram, CompileError } from "./interp/compile/index.js";
export type { CompiledProgram, ProgramModule } from "./interp/compile/index.js";
export { loadProgram, loadPrograms, LoadError } from "./interp/loader/index.js";
export type { SourceModule, SourceProgram, LoadOptions } from "./interp/loader/index.js";
export { Memory } from "./interp/memory/memory.js";
export { Allocation } from "./interp/memory/allocation.js";
export { Prng } from "./interp/prng.js";
export { UB_KINDS, UBStop, PanicStop, MachineStop } from "./interp/report.js";
export type { UBKind, UBReport, SourceLocation, Frame, HelpLine } from "./interp/report.js";
export type {
  RunResult,
  TestRunResult,
  TestResult,
  TestSeedFailure,
  PanicInfo,
  RunStats,
  CoverageReport,
  CoverageRow,
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
