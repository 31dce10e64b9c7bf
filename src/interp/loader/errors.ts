/**
 * The one error type of the loader. Every way a program can fail to load (a missing file, a syntax
 * error, an import kmiri cannot provide, a type error, a failing `tsc`) becomes a {@link LoadError}
 * whose message is a single paragraph: what happened, where, and what to do about it.
 */

/**
 * Why a program could not be loaded. `type`: the type check before the run (`typecheck.ts`) found
 * type errors; they are in {@link LoadError.diagnostics}.
 */
export type LoadErrorReason = "missing-file" | "syntax" | "unknown-import" | "tsc" | "unsupported" | "type";

/**
 * A position in a program's source (the `.ts` file when there is one). `file` is the display path
 * (relative to the working directory, `/` separators); line and column are 1-based. The same shape
 * as `SourceLocation` in `diagnostics/report.ts`.
 */
export interface LoadErrorLocation {
  file: string;
  line: number;
  column: number;
}

/** One error TypeScript reported: where (the `.ts` position), its code (`TS2322`) and message. */
export interface LoadErrorDiagnostic extends LoadErrorLocation {
  code: string;
  message: string;
}

/**
 * Why a program could not be loaded. `location` is the `.ts` position when known (for a type
 * error, the first one's); `diagnostics` lists every type error of a `type` error, in order.
 */
export class LoadError extends Error {
  constructor(
    message: string,
    readonly reason: LoadErrorReason,
    readonly location?: LoadErrorLocation,
    readonly diagnostics?: readonly LoadErrorDiagnostic[],
  ) {
    super(message);
    this.name = "LoadError";
  }
}

/** `file:line:column`, as reports print a location. */
export function formatLocation(location: LoadErrorLocation): string {
  return `${location.file}:${location.line}:${location.column}`;
}
