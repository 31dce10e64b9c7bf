/**
 * What the CLI needs of the library: {@link Engine} is the shape of `src/driver/run.ts`
 * (`runFile`, `testPath`). The CLI loads it lazily, so that `kmiri --help` starts without loading
 * the engine, and tests can hand the CLI a fake one.
 */
import type { RunResult, TestRunResult } from "../driver/results.js";
import type { RunOptions, TestOptions } from "../driver/run.js";
import type { ManySeedsOptions, ManySeedsResult } from "../driver/many-seeds.js";
import type { CorpusResult } from "../driver/corpus.js";
import { LoadError, type LoadErrorDiagnostic } from "../interp/loader/errors.js";
import type { SourceLocation } from "../interp/report.js";

/** Options of one run: the library's own (a type-only import: the engine still loads lazily). */
export type EngineRunOptions = RunOptions;

/** Options of a test run. */
export type EngineTestOptions = TestOptions;

/** The library entry points the CLI calls. */
export interface Engine {
  /** Runs a program's `main`; rejects with a `LoadError` when it cannot be loaded. */
  runFile(file: string, options?: EngineRunOptions): Promise<RunResult>;
  /** Runs the `ktest`s under a path (or several); rejects with a `LoadError` when a file cannot be loaded. */
  testPath(path: string | readonly string[], options?: EngineTestOptions): Promise<TestRunResult>;
  /** Checks an annotated UB corpus (`kmiri corpus DIR`); rejects with a `LoadError` on a malformed annotation. */
  checkCorpus(dir: string, options?: EngineRunOptions): Promise<CorpusResult>;
  /** Runs a program once per seed on worker threads (`kmiri run --many-seeds`); optional for fake engines. */
  runManySeeds?(file: string, options: ManySeedsOptions): Promise<ManySeedsResult>;
}

/**
 * Loads the real engine, `src/driver` (built to `dist/driver`).
 * @returns `runFile` (run.ts), `testPath` (test-path.ts), `checkCorpus` from `src/driver/corpus.ts` and
 * `runManySeeds` from `src/driver/many-seeds.ts`.
 */
export async function loadEngine(): Promise<Engine> {
  const { runFile } = await import("../driver/run.js");
  const { testPath } = await import("../driver/test-path.js");
  const { checkCorpus } = await import("../driver/corpus.js");
  const { runManySeeds } = await import("../driver/many-seeds.js");
  return { runFile, testPath, checkCorpus, runManySeeds };
}

/** A loading failure as the CLI reports it. */
export interface LoadFailure {
  message: string;
  reason?: string;
  location?: SourceLocation;
  /** A `type` failure's type errors. */
  diagnostics?: readonly LoadErrorDiagnostic[];
}

/**
 * Whether an exception is the loader's `LoadError` (the program cannot be loaded: exit status 2),
 * as opposed to a bug in kmiri.
 * @param error - what was thrown.
 * @returns the failure's message, reason and location, or undefined when it is not a load error.
 */
export function asLoadError(error: unknown): LoadFailure | undefined {
  if (error instanceof LoadError) {
    return { message: error.message, reason: error.reason, location: error.location, diagnostics: error.diagnostics };
  }
  // A LoadError from another copy of the module (e.g. src/ and dist/ both loaded) is one too.
  if (error instanceof Error && error.name === "LoadError") {
    const e = error as Error & { reason?: unknown; location?: SourceLocation; diagnostics?: readonly LoadErrorDiagnostic[] };
    return { message: e.message, reason: typeof e.reason === "string" ? e.reason : undefined, location: e.location, diagnostics: e.diagnostics };
  }
  return undefined;
}
