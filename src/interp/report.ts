/**
 * Diagnostics as data. A {@link UBReport} is what every check produces; renderers (terminal,
 * JSON, SARIF) turn it into text later. The shapes here are the JSON contract of DESIGN.md:
 * fields may be added, never removed or renamed.
 */

/** The `kind` of a report (and the word after `//~ ERROR:` in the corpus). */
export type UBKind =
  | "use-after-free"
  | "out-of-bounds"
  | "null-pointer"
  | "no-provenance"
  | "misaligned"
  | "uninit"
  | "invalid-value"
  | "double-free"
  | "bad-dealloc"
  | "read-only"
  | "overlapping-copy"
  | "stacked-borrows"
  | "tree-borrows"
  | "data-race"
  | "deadlock"
  | "lock-order"
  | "leak"
  | "unsafe-outside-unsafe"
  | "page-table"
  | "page-state"
  | "stale-tlb"
  | "dma"
  | "mmio"
  | "resource-exhaustion"
  | "unsupported";

/** Every kind, in the order of DESIGN.md. */
export const UB_KINDS: readonly UBKind[] = [
  "use-after-free", "out-of-bounds", "null-pointer", "no-provenance", "misaligned", "uninit",
  "invalid-value", "double-free", "bad-dealloc", "read-only", "overlapping-copy",
  "stacked-borrows", "tree-borrows", "data-race", "deadlock", "lock-order", "leak",
  "unsafe-outside-unsafe", "page-table", "page-state", "stale-tlb", "dma", "mmio",
  "resource-exhaustion", "unsupported",
];

/**
 * The two help lines Miri prints under every Undefined Behavior (its `report_result`); a report
 * that brings its own "this indicates …" line (Stacked Borrows) does without them.
 */
export const UB_HELP: readonly string[] = [
  "this indicates a bug in the program: it performed an invalid operation, and caused Undefined Behavior",
  "see https://doc.rust-lang.org/nightly/reference/behavior-considered-undefined.html for further information",
];

/** A position in a program's source (the `.ts` file after source maps). Lines and columns are 1-based. */
export interface SourceLocation {
  /** Path relative to the working directory, with `/` separators. */
  file: string;
  line: number;
  column: number;
  /** End of the span (exclusive column), when known; used to draw the caret. */
  endLine?: number;
  endColumn?: number;
}

/** One frame of a backtrace: the function and the position executing in it. Innermost first. */
export interface Frame {
  /** The function's name, `main`, or `<anonymous>` / `<module>`. */
  fn: string;
  location: SourceLocation;
}

/** A help line, optionally pointing at a position (e.g. "alloc12 was allocated here"). */
export interface HelpLine {
  message: string;
  location?: SourceLocation;
}

/** Miri's classes of error, which decide the title. */
export type ReportTitle =
  | "Undefined Behavior"
  | "unsupported operation"
  | "resource exhaustion"
  | "deadlock"
  | "memory leak"
  | "internal error in kmiri";

/** One finding. Rendered as Miri renders its errors. */
export interface UBReport {
  kind: UBKind;
  /** The error class: `Undefined Behavior`, `unsupported operation`, `resource exhaustion`, … */
  title: string;
  /** One line: what happened (`memory access failed: alloc12 has been freed, so this pointer is dangling`). */
  message: string;
  /** Where it happened. */
  location: SourceLocation;
  /** The label under the caret (`Undefined Behavior occurred here`). */
  label?: string;
  /** The thread it happened on (`main`, `cpu1`, …). */
  thread: string;
  /** The call stack of that thread, innermost first. */
  backtrace: Frame[];
  help: HelpLine[];
  /** Notes without a location (`this is on thread ...`, replay strings). */
  notes?: string[];
  /**
   * Only for a `data-race` report: both accesses as data, for renderers that show them side by
   * side (the HTML report). The notes still carry the earlier access's backtrace as text.
   */
  race?: RaceDetail;
}

/** One access of a data race. */
export interface RaceAccess {
  /** What the access was, in Miri's words (`non-atomic write`, `atomic load`, `deallocation`, …). */
  access: string;
  /** The thread that made it (`main`, `cpu1`, …). */
  thread: string;
  /** Its call stack, innermost first (the first frame is the access itself). */
  backtrace: Frame[];
}

/** The two accesses of a data race: Miri's (1) and (2). */
export interface RaceDetail {
  /** (1) The earlier access, recorded in the location's race state. */
  earlier: RaceAccess;
  /** (2) The access that just happened: what it was (its thread and backtrace are the report's own). */
  current: { access: string };
}

/** Why a program stopped early, carried by an exception through the program's own frames. */
export abstract class MachineStop extends Error {}

/** Undefined behaviour (or an unsupported operation, or exhaustion) was found: the run stops. */
export class UBStop extends MachineStop {
  constructor(readonly report: UBReport) {
    super(`${report.title}: ${report.message}`);
    this.name = "UBStop";
  }
}

/**
 * A Rust panic: `panic!`, a failed `assert!`, or an exception the program threw and did not catch.
 * It unwinds the thread; `join` re-raises it in the joining thread.
 */
export class PanicStop extends MachineStop {
  constructor(
    /** The panic message. */
    readonly panicMessage: string,
    /** Where it panicked. */
    readonly location: SourceLocation | undefined,
    /** The thread that panicked. */
    readonly thread: string,
    /** The call stack when it panicked. */
    readonly backtrace: Frame[] = [],
  ) {
    super(panicMessage);
    this.name = "PanicStop";
  }
}

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
  /** For a data race: both accesses ({@link UBReport.race}). */
  race?: RaceDetail;
}

/** A panic that ended a thread (or the run): Rust's `thread 'main' panicked at …`. */
export interface PanicInfo {
  /** The thread that panicked. */
  thread: string;
  /** The panic message. */
  message: string;
  /** Where it panicked. */
  location?: SourceLocation;
  /** The panicking thread's backtrace, innermost first. */
  backtrace: Frame[];
}
