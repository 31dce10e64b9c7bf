/**
 * `console` as a program sees it on the Machine. Declared here rather than as a `Pick` of the
 * host's `Console`, so that the Machine's published declarations need neither Node's nor the
 * DOM's global types.
 *
 * @module
 */

/** The `console` methods a program may call; each prints one line of program output. */
export interface ProgramConsole {
  /** Prints its arguments, formatted as Node's `console.log` does, as one line of output. */
  log(...args: unknown[]): void;
  /** The same as {@link log}: the Machine has one output stream. */
  error(...args: unknown[]): void;
  /** The same as {@link log}. */
  warn(...args: unknown[]): void;
  /** The same as {@link log}. */
  info(...args: unknown[]): void;
}
