/**
 * What the shims (`kmiri/rt` on the Machine) may ask of the Machine that runs them. The Machine
 * implements it; shims reach the running one through {@link current}. Keeping this surface small
 * keeps the shims testable on their own.
 */
import type { HelpLine, SourceLocation, UBKind, Frame } from "./diagnostics/report.js";
import type { Memory } from "./memory/memory.js";

/** Options of a report beyond its kind and message. */
export interface ReportOptions {
  /** Help lines, e.g. `alloc12 was allocated here` with the allocation's location. */
  help?: HelpLine[];
  /** Label under the caret; default `Undefined Behavior occurred here`. */
  label?: string;
  /** Error class; default `Undefined Behavior`. */
  title?: string;
  /** Extra notes without location. */
  notes?: string[];
}

export interface ShimHost {
  /** The memory of this Machine. */
  readonly memory: Memory;
  /** The id of the program site executing now (the innermost call of the program). */
  currentSite(): number;
  /** The `.ts` location of a site id (as given by {@link currentSite}). */
  siteLocation(site: number): SourceLocation;
  /** True when the program site executing now is inside an `unsafe:` block or an `"unsafe"` function. */
  inUnsafe(): boolean;
  /** The backtrace of the running thread, innermost first. */
  backtrace(): Frame[];
  /** The name of the running thread (`main`, `cpu1`, …). */
  threadName(): string;
  /**
   * Stops the run with a finding at the current site (throws a {@link UBStop}; never returns).
   * The first finding stops the run, as in Miri.
   */
  report(kind: UBKind, message: string, options?: ReportOptions): never;
  /** Prints a line of program output. */
  print(line: string): void;
}

/** The Machine the shims are running under; set by the Machine whenever it runs program code. */
export let current: ShimHost = undefined as unknown as ShimHost;

/** Makes `host` the Machine the shims talk to (called by the Machine before it resumes a thread). */
export function setCurrent(host: ShimHost): void {
  current = host;
}
