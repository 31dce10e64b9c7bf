/**
 * The engine's side of the guest APIs (`kmiri/rt`, `kmiri/mirch` on the Machine):
 *
 * - {@link ShimHost}: what the checked shims may ask of the Machine that runs them. The Machine
 *   implements it; keeping the surface small keeps the shims testable on their own (the memory
 *   tests run them on a fake host).
 * - {@link GuestRuntime}: what a checked runtime hands the Machine — its modules by import name,
 *   how it is told which Machine runs ({@link GuestRuntime.activate}), what a pointer read from
 *   memory becomes, and the function-entry retag of reference arguments. The Machine accepts only
 *   a runtime branded {@link CHECKED_RUNTIME}: the native `kmiri/rt` namespace is not one, so a
 *   Machine cannot be wired to the unchecked runtime by mistake.
 *
 * @module
 */
import type { BorrowTracker } from "../borrowtracker/hooks.js";
import type { Frame, ReportOptions, SourceLocation, UBKind } from "./report.js";
import type { Allocation } from "./memory/allocation.js";
import type { Memory } from "./memory/memory.js";
import type { PointerFactory, PointerReader } from "./memory/seam.js";

/** What the checked shims may ask of the Machine that runs them. */
export interface ShimHost {
  /** The memory of this Machine. */
  readonly memory: Memory;
  /** The borrow tracker (Stacked Borrows), or `null` when borrows are not tracked. */
  readonly borrowTracker: BorrowTracker | null;
  /** The module being instantiated (top-level code runs then), or `null` while a thread runs. */
  readonly instantiating?: object | null;
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

/** The brand of a checked runtime (see {@link GuestRuntime}). */
export const CHECKED_RUNTIME: unique symbol = Symbol.for("kmiri.checked-runtime");

/**
 * A checked runtime: the guest API modules a program imports, built to run on the Machine. The
 * one kmiri ships is `checkedRuntime` (src/shims/checked/runtime.ts); `createMachine` wires it in.
 */
export interface GuestRuntime<H = unknown> {
  /** The brand: only a checked runtime carries it. */
  readonly [CHECKED_RUNTIME]: true;
  /** The namespace of each guest module, by import name (`kmiri/rt`, `kmiri/mirch`). */
  readonly modules: Readonly<Record<string, object>>;
  /** Makes `host` the Machine the runtime's shims talk to: called before program code runs on it. */
  activate(host: H): void;
  /** What a `ptr` read from memory becomes (the runtime's `Ptr`). */
  readonly pointer: PointerFactory<Allocation>;
  /** How memory reads a pointer written to it (the runtime's `Ptr`, whose provenance is private). */
  readonly readPointer: PointerReader<Allocation>;
  /**
   * The references and `Box`es a value passed to or returned from a program function is or holds:
   * -1 when none, else a mark for {@link GuestRuntime.retagFound}. May run program code (an
   * aggregate's getter). See src/shims/checked/fn-entry.ts.
   */
  readonly findReferences: (value: unknown) => number;
  /**
   * The class of the runtime's raw pointers: compiled code passes a pointer argument by without
   * calling the Machine (pointers are the commonest object argument, and hold no references).
   */
  readonly pointerClass: abstract new (...args: never[]) => object;
  /** Retags what `findReferences` found (`fnEntry`: protected function-entry retags): the value, or a new reference. */
  readonly retagFound: (value: unknown, fnEntry: boolean, mark: number) => unknown;
}

/** True for a checked runtime (branded {@link CHECKED_RUNTIME}). */
export function isCheckedRuntime(x: unknown): x is GuestRuntime {
  return typeof x === "object" && x !== null && (x as { [CHECKED_RUNTIME]?: unknown })[CHECKED_RUNTIME] === true;
}
