/**
 * Stacked Borrows behind the runtime's hook interface ({@link BorrowTracker} of `hooks.ts`): the
 * object the Machine installs as its borrow tracker. It maps each hook to {@link StackedBorrows}
 * and hands every finding to the engine's `report` function, which stops the run (it throws).
 *
 * Function-entry protectors: {@link StackedBorrowsHooks.enterCall} opens a frame, every
 * `fn-entry` retag of a reference while it is open is protected (the policy of retag-policy.ts)
 * and recorded in it, and
 * {@link StackedBorrowsHooks.endCall} releases them. (kmiri's Machine uses its own adapter,
 * `src/interp/borrows.ts`, with per-call protector lists that threads can interleave.)
 */
import type { AccessKind, BorTag, BorrowTracker, RetagRequest, TrackedAllocation } from "./hooks.js";
import type { Finding, Site } from "./stacked-borrows/diagnostics.js";
import { isFnEntry, retagKind, retagOptions } from "./retag-policy.js";
import { StackedBorrows } from "./stacked-borrows/tracker.js";

/** Reports a finding made at `site` and stops the run: it must throw. */
export type FindingReporter = (finding: Finding, site: Site) => never;

/** Stacked Borrows as the Machine's {@link BorrowTracker}. */
export class StackedBorrowsHooks implements BorrowTracker {
  /** The tracker behind the hooks (for `gc`, `trackTag`, inspection). */
  readonly sb: StackedBorrows;
  private readonly report: FindingReporter;
  /** The tags protected by each open call, innermost last. */
  private readonly frames: BorTag[][] = [];

  /**
   * @param report - called with each finding; it throws (the engine's report of kind `stacked-borrows`)
   * @param sb - the tracker to use (a fresh one by default)
   */
  constructor(report: FindingReporter, sb: StackedBorrows = new StackedBorrows()) {
    this.report = report;
    this.sb = sb;
  }

  /** @inheritDoc */
  newAllocation(alloc: TrackedAllocation, site: number): BorTag {
    return this.sb.newAllocation(alloc.id, alloc.size, alloc.kind, site);
  }

  /** @inheritDoc */
  retag(r: RetagRequest): BorTag {
    const fnEntry = isFnEntry(r);
    const result = this.sb.retag(r.alloc.id, r.parent, r.offset, r.size, retagKind(r), r.site, retagOptions(r));
    if (typeof result !== "number") return this.report(result, r.site);
    if (fnEntry && r.size > 0) this.frames[this.frames.length - 1]?.push(result);
    return result;
  }

  /** @inheritDoc */
  access(kind: AccessKind, alloc: TrackedAllocation, tag: BorTag, offset: number, size: number, site: number): void {
    const f = this.sb.access(alloc.id, tag, offset, size, kind, site);
    if (f !== null) this.report(f, site);
  }

  /** @inheritDoc */
  deallocate(alloc: TrackedAllocation, tag: BorTag, site: number): void {
    const f = this.sb.deallocate(alloc.id, tag, site);
    if (f !== null) this.report(f, site);
  }

  /** @inheritDoc */
  expose(alloc: TrackedAllocation, tag: BorTag): void {
    this.sb.expose(alloc.id, tag);
  }

  /** @inheritDoc */
  enterCall(_site: number): number {
    this.frames.push([]);
    return this.frames.length - 1;
  }

  /** @inheritDoc */
  endCall(token: number): void {
    while (this.frames.length > token) {
      const tags = this.frames.pop()!;
      if (tags.length > 0) this.sb.endCall(tags);
    }
  }
}
