/**
 * What the shims (`kmiri/rt` on the Machine) may ask of the Machine that runs them. The Machine
 * implements it; shims reach the running one through {@link current}. Keeping this surface small
 * keeps the shims testable on their own.
 */
import type { HelpLine, SourceLocation, UBKind, Frame } from "./report.js";
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
  /**
   * A warning that does not stop the run (Miri's non-halting diagnostics, e.g. `integer-to-pointer
   * cast`), at the current site; with a `key`, only the first warning of that key is kept.
   */
  warn(message: string, options?: ReportOptions & { key?: string }): void;
  /** Options of the run that change what the shims accept. */
  readonly checks: CheckOptions;
  /**
   * Registers a stack slot (`local`) of the running function: it dies (and its allocation is
   * freed) when that function returns. Returns false outside a function that may own locals.
   */
  registerLocal(free: (site: number) => void): boolean;
}

/** Options that change what the checked runtime accepts. */
export interface CheckOptions {
  /** `--strict-provenance`: integer-to-pointer casts (`ptr_from_exposed`) are unsupported. */
  strictProvenance: boolean;
}

/** The Machine the shims are running under; set by the Machine whenever it runs program code. */
export let current: ShimHost = undefined as unknown as ShimHost;

/** Makes `host` the Machine the shims talk to (called by the Machine before it resumes a thread). */
export function setCurrent(host: ShimHost): void {
  current = host;
}
