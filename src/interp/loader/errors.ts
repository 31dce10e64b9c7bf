/**
 * The one error type of the loader. Every way a program can fail to load (a missing file, a syntax
 * error, an import kmiri cannot provide, a failing `tsc`) becomes a {@link LoadError} whose message
 * is a single paragraph: what happened, where, and what to do about it.
 */

/** Why a program could not be loaded. */
export type LoadErrorReason = "missing-file" | "syntax" | "unknown-import" | "tsc" | "unsupported";

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

/** Why a program could not be loaded. `location` is the `.ts` position when known. */
export class LoadError extends Error {
  constructor(
    message: string,
    readonly reason: LoadErrorReason,
    readonly location?: LoadErrorLocation,
  ) {
    super(message);
    this.name = "LoadError";
  }
}

/** `file:line:column`, as reports print a location. */
export function formatLocation(location: LoadErrorLocation): string {
  return `${location.file}:${location.line}:${location.column}`;
}
