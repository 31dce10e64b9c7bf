/**
 * The slower parts of the borrow tracker: `--track-tag` events in Miri's words, the garbage
 * collector (it shrinks stacks and history, and — property test — never changes a verdict or a
 * help line about a tag the program still holds), and the adapter to the runtime's hook
 * interface (src/borrowtracker/hooks.ts).
 */
import { describe, expect, it } from "vitest";
import type { RetagRequest, TrackedAllocation } from "../../src/borrowtracker/hooks.js";
import { StackedBorrows, StackedBorrowsHooks, type Finding, type TagEvent } from "../../src/borrowtracker/index.js";
import { clean, findingOf, tagOf } from "./support.js";

describe("--track-tag", () => {
  it("reports the creation and every removal of a tracked tag, as Miri words them", () => {
    const events: TagEvent[] = [];
    const sb = new StackedBorrows({ trackTags: [1, 3], onTagEvent: (e) => events.push(e) });
    const root = sb.newAllocation(1, 8, "stack", 10);
    const u = tagOf(sb.retag(1, root, 0, 4, "unique", 11)); // <2>
    sb.trackTag(u);
    const s = tagOf(sb.retag(1, u, 0, 8 - 4, "shared", 12, { cells: [2, 4] })); // <3>
    clean(sb.access(1, u, 0, 4, "write", 13)); // pops <3>
    const v = tagOf(sb.retag(1, root, 0, 4, "unique", 14)); // pops <2>
    clean(sb.access(1, v, 0, 4, "read", 15));
    expect(events).toEqual([
      { tag: 1, event: "created", message: "created base tag <1>", site: 10 },
      { tag: 3, event: "created", message: `created tag <${s}> with SharedReadOnly/SharedReadWrite permission for frozen/non-frozen parts at alloc1[0x0..0x4] derived from <${u}>`, site: 12 },
      { tag: 3, event: "popped", message: `popped tracked tag for item [SharedReadOnly for <${s}>] due to Write access for <${u}>`, site: 13 },
      { tag: 3, event: "popped", message: `popped tracked tag for item [SharedReadWrite for <${s}>] due to Write access for <${u}>`, site: 13 },
      { tag: 2, event: "popped", message: `popped tracked tag for item [Unique for <${u}>] due to Unique retag from <${root}> (that retag created <${v}>)`, site: 14 },
    ]);
  });

  it("reports reads that disable, deallocations, and plain creations", () => {
    const events: string[] = [];
    const sb = new StackedBorrows();
    sb.setTagEventListener((e) => events.push(e.message));
    sb.trackTag(2);
    const root = sb.newAllocation(1, 4, "heap", 1);
    const u = tagOf(sb.retag(1, root, 0, 4, "unique", 2));
    clean(sb.access(1, root, 0, 4, "read", 3));
    clean(sb.deallocate(1, root, 4));
    expect(events).toEqual([
      `created tag <${u}> with Unique permission at alloc1[0x0..0x4] derived from <${root}>`,
      `popped tracked tag for item [Unique for <${u}>] due to Read access for <${root}>`,
      `popped tracked tag for item [Disabled for <${u}>] due to deallocation`,
    ]);
    sb.setTagEventListener(null);
  });
});

describe("garbage collection", () => {
  it("drops the items and history of dead tags, and merges runs that became equal", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(1, 64, "heap", 1);
    let cur = root;
    for (let i = 0; i < 1000; i++) cur = tagOf(sb.retag(1, cur, 0, 64, "unique", 2)); // x = &mut *x, a thousand times
    for (let i = 0; i < 16; i++) clean(sb.access(1, tagOf(sb.retag(1, cur, 4 * i, 4, "shared", 3)), 4 * i, 4, "read", 4));
    const before = sb.stats();
    expect(before.items).toBeGreaterThan(16 * 1000);
    expect(before.runs).toBe(16);
    sb.gc(new Set([root, cur]));
    const after = sb.stats();
    expect(after.runs).toBe(1);
    // The first Unique stays: it ends the root's SharedReadWrite block (Miri's rule).
    expect(after.items).toBe(3);
    expect(after.historyEvents).toBe(1); // the creation of cur
    expect(sb.describe(1)).toEqual([`0..64: [ SharedReadWrite<${root}> Unique<${root + 1}> Unique<${cur}> ]`]);
    clean(sb.access(1, cur, 0, 64, "write", 5));
  });

  it("keeps a dead Disabled that separates two SharedReadWrite blocks (disable_mut_does_not_merge_srw)", () => {
    const sb = new StackedBorrows();
    const mem = sb.newAllocation(1, 4, "stack", 1);
    const base = tagOf(sb.retag(1, tagOf(sb.retag(1, mem, 0, 4, "unique", 2)), 0, 4, "raw-mut", 2));
    const mutref = tagOf(sb.retag(1, base, 0, 4, "unique", 3));
    const raw = tagOf(sb.retag(1, mutref, 0, 4, "raw-mut", 4));
    clean(sb.access(1, base, 0, 4, "read", 5)); // disables mutref
    sb.gc(new Set([mem, base, raw])); // mutref is dead, but its Disabled item must stay
    clean(sb.access(1, base, 0, 4, "write", 6));
    expect(findingOf(sb.access(1, raw, 0, 4, "read", 7)).message).toContain("does not exist in the borrow stack");
  });

  it("keeps protected and exposed tags", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(1, 4, "heap", 1);
    const p = tagOf(sb.retag(1, root, 0, 4, "unique", 2, { protector: "strong", cause: "fn-entry" }));
    const e = tagOf(sb.retag(1, p, 0, 4, "raw-mut", 3));
    sb.expose(1, e);
    const d1 = tagOf(sb.retag(1, e, 0, 4, "shared", 4)); // dead, but ends e's block: kept
    tagOf(sb.retag(1, d1, 0, 4, "shared", 5)); // dead: removed
    sb.gc(new Set([root]));
    expect(sb.stackAt(1, 0)!.items.map((i) => i.tag)).toEqual([root, p, e, d1]);
    expect(findingOf(sb.access(1, root, 0, 4, "write", 5)).message).toContain(`[Unique for <${p}>] which is strongly protected`);
  });

  /** mulberry32. */
  function prng(seed: number): (n: number) => number {
    let a = seed >>> 0;
    return (n: number) => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
  }

  for (let seed = 1; seed <= 30; seed++) {
    it(`never changes a verdict about a live tag (random programs, seed ${seed})`, () => {
      // The same program runs on two trackers; one collects garbage at random points with the
      // set of tags the program still holds. Every result must be identical up to and including
      // the first finding (after undefined behaviour nothing is meaningful: a failed operation
      // may have changed some runs of its range and not others); then a new program starts.
      const rnd = prng(seed * 104729);
      const kinds = ["shared", "unique", "raw-shared", "raw-mut", "box"] as const;
      const sizes = [8, 16, 12];
      let findings = 0;
      let steps = 0;
      while (steps < 600) {
        const plain = new StackedBorrows();
        const collected = new StackedBorrows();
        const both = <T>(f: (sb: StackedBorrows) => T): T => {
          const a = f(plain);
          expect(f(collected)).toEqual(a);
          return a;
        };
        const held: number[][] = sizes.map((size, id) => [both((sb) => sb.newAllocation(id, size, ["stack", "heap", "static"][id]!, 0))]);
        const frames: number[][] = [];
        for (; steps < 600; steps++) {
          const id = rnd(3);
          const tags = held[id]!;
          const size = sizes[id]!;
          const start = rnd(size);
          const len = 1 + rnd(size - start);
          const tag = tags[rnd(tags.length)]!;
          const op = rnd(12);
          const site = steps;
          let result: number | Finding | null = null;
          if (op < 4) {
            const kind = kinds[rnd(kinds.length)]!;
            const fnEntry = (kind === "unique" || kind === "shared" || kind === "box") && rnd(4) === 0;
            const options = {
              protector: fnEntry ? (kind === "box" ? ("weak" as const) : ("strong" as const)) : ("none" as const),
              cause: fnEntry ? ("fn-entry" as const) : ("normal" as const),
              cells: rnd(3) === 0 ? [0, 1 + rnd(len)] : null,
            };
            result = both((sb) => sb.retag(id, tag, start, len, kind, site, options));
            if (typeof result === "number") {
              tags.push(result);
              if (fnEntry) (frames[frames.length - 1] ?? (frames[0] = [])).push(result);
            }
          } else if (op < 8) {
            const access = rnd(2) === 0 ? "read" : "write";
            result = both((sb) => sb.access(id, tag, start, len, access, site));
          } else if (op === 8 && tags.length > 1) {
            tags.splice(1 + rnd(tags.length - 1), 1); // the program drops a pointer (never the root)
          } else if (op === 9) {
            if (rnd(2) === 0) frames.push([]);
            else {
              const f = frames.pop();
              if (f !== undefined) both((sb) => sb.endCall(f));
            }
          } else if (op === 10) {
            collected.gc(new Set(held.flat()));
            expect(collected.stats().items).toBeLessThanOrEqual(plain.stats().items);
          } else if (op === 11 && rnd(8) === 0) {
            result = both((sb) => sb.deallocate(id, tag, site));
            if (result === null) held[id] = [both((sb) => sb.newAllocation(id, size, "heap", site))];
          }
          if (result !== null && typeof result !== "number") {
            findings++;
            steps++;
            break;
          }
        }
      }
      expect(findings).toBeGreaterThan(3); // the programs do hit violations
    });
  }
});

describe("the runtime hooks (hooks.ts) on Stacked Borrows", () => {
  class Reported extends Error {
    constructor(readonly finding: Finding, readonly site: number) {
      super(finding.message);
    }
  }
  const hooks = () =>
    new StackedBorrowsHooks((finding, site) => {
      throw new Reported(finding, site);
    });
  const alloc = (id: number, size: number, kind = "stack"): TrackedAllocation => ({ id, base: 0x1000 * id, size, kind });
  const request = (a: TrackedAllocation, parent: number, over: Partial<RetagRequest> = {}): RetagRequest => ({
    kind: "unique",
    mode: "default",
    mutable: true,
    alloc: a,
    parent,
    offset: 0,
    size: a.size,
    interior: null,
    site: 1,
    ...over,
  });

  it("maps retags, reports findings by throwing, and protects fn-entry retags until the call ends", () => {
    const h = hooks();
    const a = alloc(1, 4);
    const root = h.newAllocation(a, 1);
    const raw = h.retag(request(a, root, { kind: "raw", mutable: true }));
    const token = h.enterCall(5);
    const arg = h.retag(request(a, raw, { mode: "fn-entry", site: 6 }));
    expect(h.sb.protectorOf(arg)).toBe("strong");
    expect(() => h.access("read", a, raw, 0, 4, 7)).toThrow(
      `not granting access to tag <${raw}> because that would remove [Unique for <${arg}>] which is strongly protected`,
    );
    h.endCall(token);
    expect(h.sb.protectorOf(arg)).toBeUndefined();
    h.access("read", a, raw, 0, 4, 8); // now it may disable arg
    try {
      h.access("read", a, arg, 0, 4, 9);
      expect.unreachable();
    } catch (e) {
      expect((e as Reported).site).toBe(9);
      expect((e as Reported).finding.message).toBe(
        `attempting a read access using <${arg}> at alloc1[0x0], but that tag does not exist in the borrow stack for this location`,
      );
    }
  });

  it("passes interior ranges, treats UNTAGGED as a wildcard, and frees through deallocate", () => {
    const h = hooks();
    const a = alloc(2, 8, "heap");
    const root = h.newAllocation(a, 1);
    const s = h.retag(request(a, root, { kind: "shared", mutable: false, interior: [0, 4], site: 4 }));
    expect(h.sb.stackAt(2, 0)!.items.at(-1)!.permission).toBe("SharedReadWrite");
    expect(h.sb.stackAt(2, 4)!.items.at(-1)!.permission).toBe("SharedReadOnly");
    expect(() => h.deallocate(a, s, 5)).toThrow("only grants SharedReadOnly");
    expect(() => h.access("write", a, 0, 0, 4, 2)).toThrow("using <wildcard>");
    h.expose(a, root);
    h.access("write", a, 0, 0, 4, 3);
    const tp = h.retag(request(a, root, { mode: "two-phase" }));
    expect(h.sb.stackAt(2, 0)).toEqual({ unknownBottom: tp + 1, items: [] }); // SharedReadWrite from the unknown part
    h.deallocate(a, root, 6);
    expect(h.sb.stats().allocations).toBe(0);
  });
});
