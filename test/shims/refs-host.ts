/**
 * A Machine stand-in for the reference, static and local tests: a memory, a settable site and
 * unsafe flag, a list of reports, locals registered per "function" (a test calls {@link
 * FakeHost.call} to run a body as a function that owns locals), and an optional recording borrow
 * tracker.
 */
import { UBStop, PanicStop, type SourceLocation, type UBKind } from "../../src/interp/report.js";
import { setCurrent } from "../../src/shims/checked/context.js";
import { FakeHost as MemoryFakeHost, type Recorded } from "../fixtures/memory/fake-host.js";
import type { AccessKind, BorTag, BorrowTracker, RetagRequest, TrackedAllocation } from "../../src/borrowtracker/hooks.js";

export type { Recorded } from "../fixtures/memory/fake-host.js";

/**
 * A Machine stand-in (see the module comment): the memory tests' fake host, plus locals owned by
 * "functions", the module-instantiation flag and an optional borrow tracker.
 */
export class FakeHost extends MemoryFakeHost {
  /** Set while "module top-level code" runs (the Machine's `instantiating`). */
  instantiating: object | null = null;
  private frames: ((site: number) => void)[][] = [];

  here(): SourceLocation {
    return this.siteLocation(this.site);
  }
  override registerLocal(free: (site: number) => void): boolean {
    const top = this.frames[this.frames.length - 1];
    if (top === undefined) return false;
    top.push(free);
    return true;
  }

  /** Runs `body` as a program function that owns locals; they die when it returns, at `fnSite`. */
  call<R>(fnSite: number, body: () => R): R {
    this.frames.push([]);
    try {
      return body();
    } finally {
      const locals = this.frames.pop()!;
      while (locals.length) locals.pop()!(fnSite);
    }
  }
}

/** Makes a fresh {@link FakeHost} the running Machine. */
export function freshHost(): FakeHost {
  const host = new FakeHost();
  setCurrent(host);
  return host;
}

/** Runs `f`, expects it to stop with one report of `kind` and `message` (or matching it); returns the report. */
export function expectUB(host: FakeHost, f: () => unknown, kind: UBKind, message: string | RegExp): Recorded {
  let thrown: unknown;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  if (!(thrown instanceof UBStop)) throw new Error(`expected a report of ${kind}, got ${String(thrown)}`);
  if (host.reports.length !== 1) throw new Error(`expected one report, got ${host.reports.length}`);
  const r = host.reports[0]!;
  if (r.kind !== kind || (typeof message === "string" ? r.message !== message : !message.test(r.message))) {
    throw new Error(`expected ${kind}: ${message}\n     got ${r.kind}: ${r.message}`);
  }
  host.reports.length = 0;
  return r;
}

/** Runs `f`, expects a panic; returns its message. */
export function expectPanic(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof PanicStop) return e.panicMessage;
    throw e;
  }
  throw new Error("expected a panic");
}

/** One call the recording tracker saw. */
export type TrackerEvent =
  | { hook: "newAllocation"; alloc: number; tag: BorTag }
  | { hook: "retag"; kind: RetagRequest["kind"]; mutable: boolean; parent: BorTag; offset: number; size: number; interior: readonly number[] | null; tag: BorTag }
  | { hook: "access"; kind: AccessKind; alloc: number; tag: BorTag; offset: number; size: number }
  | { hook: "deallocate"; alloc: number; tag: BorTag; site: number };

/** A borrow tracker that hands out tags 1, 2, 3, … and records every hook call. */
export class RecordingTracker implements BorrowTracker {
  readonly events: TrackerEvent[] = [];
  private next = 1;

  newAllocation(alloc: TrackedAllocation): BorTag {
    const tag = this.next++;
    this.events.push({ hook: "newAllocation", alloc: alloc.id, tag });
    // Tracked: the access path calls `access` for this allocation.
    (alloc as { borrows?: unknown }).borrows = tag;
    return tag;
  }
  retag(r: RetagRequest): BorTag {
    const tag = this.next++;
    this.events.push({ hook: "retag", kind: r.kind, mutable: r.mutable, parent: r.parent, offset: r.offset, size: r.size, interior: r.interior, tag });
    return tag;
  }
  access(kind: AccessKind, alloc: TrackedAllocation, tag: BorTag, offset: number, size: number): void {
    this.events.push({ hook: "access", kind, alloc: alloc.id, tag, offset, size });
  }
  deallocate(alloc: TrackedAllocation, tag: BorTag, site: number): void {
    this.events.push({ hook: "deallocate", alloc: alloc.id, tag, site });
  }
  expose(): void {}
  enterCall(): number {
    return 0;
  }
  endCall(): void {}
}
