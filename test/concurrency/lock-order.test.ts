import { describe, expect, test } from "vitest";
import { LockOrderChecker, describeLockViolation, type LockViolation } from "../../src/concurrency/lock-order.js";

const names = { thread: (t: number) => (t === 0 ? "main" : `cpu${t}`) };
/** Lock instances (addresses) and sites. */
const L = { frame: 0x1000, page: 0x2000, heap: 0x3000, frame2: 0x1040 };
const S = { f1: 11, p1: 12, p2: 21, f2: 22, h: 31, x: 41 };

function classes(lo: LockOrderChecker) {
  return { F: lo.classFor("frame_table"), P: lo.classFor("page_table"), H: lo.classFor("heap") };
}

describe("lock order inversion (AB/BA)", () => {
  test("found although the two threads never overlapped", () => {
    const lo = new LockOrderChecker();
    const { F, P } = classes(lo);
    // cpu1: frame_table, then page_table; releases both.
    expect(lo.acquire(1, L.frame, F, S.f1)).toBeNull();
    expect(lo.acquire(1, L.page, P, S.p1)).toBeNull();
    expect(lo.release(1, L.page)).toBe(true);
    expect(lo.release(1, L.frame)).toBe(true);
    // cpu2, later: page_table, then frame_table.
    expect(lo.acquire(2, L.page, P, S.p2)).toBeNull();
    const v = lo.acquire(2, L.frame, F, S.f2) as Extract<LockViolation, { kind: "inversion" }>;
    expect(v.kind).toBe("inversion");
    expect(v).toMatchObject({ thread: 2, lock: L.frame, cls: F, site: S.f2, held: { lock: L.page, cls: P, site: S.p2 } });
    expect(v.cycle).toEqual([{ from: F, to: P, thread: 1, fromSite: S.f1, toSite: S.p1 }]);
    // The lock was taken: it is held now, and the cycle-closing edge was not added.
    expect(lo.held(2).map((h) => h.lock)).toEqual([L.page, L.frame]);
    expect(lo.edge(P, F)).toBeUndefined();
  });

  test("worded with both chains and lockdep's scenario", () => {
    const lo = new LockOrderChecker();
    const { F, P } = classes(lo);
    lo.acquire(1, L.frame, F, S.f1);
    lo.acquire(1, L.page, P, S.p1);
    lo.release(1, L.page);
    lo.release(1, L.frame);
    lo.acquire(2, L.page, P, S.p2);
    const v = lo.acquire(2, L.frame, F, S.f2)!;
    const d = describeLockViolation(v, lo, names);
    expect(d.kind).toBe("lock-order");
    expect(d.title).toBe("possible deadlock");
    expect(d.message).toBe(
      "lock order inversion: lock class `frame_table` is acquired while holding `page_table`, but elsewhere `page_table` is acquired while holding `frame_table`",
    );
    expect(d.label).toBe("`frame_table` is acquired here while `page_table` is held");
    expect(d.help).toEqual([
      { message: "`page_table` was acquired here, on this thread", site: S.p2 },
      { message: "on thread `cpu1`, `frame_table` was acquired here", site: S.f1 },
      { message: "and then `page_table` here, while `frame_table` was held", site: S.p1 },
      { message: "threads that take these locks in opposite orders can deadlock, even if this run did not; take them in one order everywhere" },
    ]);
    expect(d.notes[0]).toBe(
      [
        "possible unsafe locking scenario:",
        "",
        "  CPU0                            CPU1",
        "  ----                            ----",
        "  lock(page_table);",
        "                                  lock(frame_table);",
        "                                  lock(page_table);",
        "  lock(frame_table);",
        "",
        " *** DEADLOCK ***",
      ].join("\n"),
    );
  });

  test("one thread taking both orders at different times is enough", () => {
    const lo = new LockOrderChecker();
    const { F, P } = classes(lo);
    lo.acquire(0, L.frame, F, S.f1);
    lo.acquire(0, L.page, P, S.p1);
    lo.release(0, L.page);
    lo.release(0, L.frame);
    lo.acquire(0, L.page, P, S.p2);
    expect(lo.acquire(0, L.frame, F, S.f2)?.kind).toBe("inversion");
  });

  test("classes, not instances: another frame_table lock inverts too", () => {
    const lo = new LockOrderChecker();
    const { F, P } = classes(lo);
    lo.acquire(1, L.frame, F, S.f1);
    lo.acquire(1, L.page, P, S.p1);
    lo.release(1, L.page);
    lo.release(1, L.frame);
    lo.acquire(2, L.page, P, S.p2);
    expect(lo.acquire(2, L.frame2, F, S.f2)?.kind).toBe("inversion");
  });
});

describe("clean orders", () => {
  test("a consistent order on every thread is clean, however often", () => {
    const lo = new LockOrderChecker();
    const { F, P, H } = classes(lo);
    for (let round = 0; round < 3; round++) {
      for (const t of [1, 2, 3]) {
        expect(lo.acquire(t, L.frame, F, S.f1)).toBeNull();
        expect(lo.acquire(t, L.page, P, S.p1)).toBeNull();
        expect(lo.acquire(t, L.heap, H, S.h)).toBeNull();
        lo.release(t, L.heap);
        lo.release(t, L.page);
        lo.release(t, L.frame);
        // frame → heap directly is consistent with frame → page → heap.
        expect(lo.acquire(t, L.frame, F, S.f1)).toBeNull();
        expect(lo.acquire(t, L.heap, H, S.h)).toBeNull();
        lo.release(t, L.frame); // out of order release
        lo.release(t, L.heap);
      }
    }
    expect(lo.edges().map((e) => [e.from, e.to]).sort()).toEqual([[F, H], [F, P], [P, H]].sort());
  });

  test("locks taken one at a time never order anything", () => {
    const lo = new LockOrderChecker();
    const { F, P } = classes(lo);
    lo.acquire(1, L.frame, F, S.f1);
    lo.release(1, L.frame);
    lo.acquire(1, L.page, P, S.p1);
    lo.release(1, L.page);
    lo.acquire(1, L.frame, F, S.f1);
    lo.release(1, L.frame);
    expect(lo.edges()).toEqual([]);
  });

  test("releasing a lock not held is reported to the caller", () => {
    const lo = new LockOrderChecker();
    expect(lo.release(1, L.frame)).toBe(false);
  });
});

describe("longer cycles", () => {
  test("a three-lock cycle over three threads", () => {
    const lo = new LockOrderChecker();
    const { F, P, H } = classes(lo);
    lo.acquire(1, L.frame, F, S.f1);
    lo.acquire(1, L.page, P, S.p1); // F → P
    lo.release(1, L.page);
    lo.release(1, L.frame);
    lo.acquire(2, L.page, P, S.p2);
    lo.acquire(2, L.heap, H, S.h); // P → H
    lo.release(2, L.heap);
    lo.release(2, L.page);
    lo.acquire(3, L.heap, H, S.h);
    const v = lo.acquire(3, L.frame, F, S.x) as Extract<LockViolation, { kind: "inversion" }>; // H → F closes F → P → H → F
    expect(v.kind).toBe("inversion");
    expect(v.cycle.map((e) => [e.from, e.to, e.thread])).toEqual([
      [F, P, 1],
      [P, H, 2],
    ]);
    const d = describeLockViolation(v, lo, names);
    expect(d.message).toBe(
      "lock order inversion: lock class `frame_table` is acquired while holding `heap`, but elsewhere they are taken in the order `frame_table` → `page_table` → `heap`",
    );
    expect(d.help.filter((h) => h.site !== undefined).map((h) => h.site)).toEqual([S.h, S.f1, S.p1, S.p2, S.h]);
    expect(d.notes[0]).toBe("chain exists of: `heap` --> `frame_table` --> `page_table` --> `heap`");
    expect(d.notes[1]).toContain("lock(page_table);");
  });
});

describe("self-deadlock and recursion", () => {
  test("relocking a held lock is a self-deadlock (kind deadlock); the lock is not pushed twice", () => {
    const lo = new LockOrderChecker();
    const { F } = classes(lo);
    lo.acquire(1, L.frame, F, S.f1);
    const v = lo.acquire(1, L.frame, F, S.f2)!;
    expect(v).toMatchObject({ kind: "self-deadlock", thread: 1, lock: L.frame, site: S.f2, held: { site: S.f1 } });
    expect(lo.held(1)).toHaveLength(1);
    const d = describeLockViolation(v, lo, names);
    expect(d.kind).toBe("deadlock");
    expect(d.title).toBe("deadlock");
    expect(d.message).toBe("deadlock: thread `cpu1` is acquiring a lock of class `frame_table` that it already holds, so it would wait for itself forever");
    expect(d.help).toEqual([{ message: "the thread acquired it here, and has not released it since", site: S.f1 }]);
  });

  test("another thread holding the lock is not a self-deadlock", () => {
    const lo = new LockOrderChecker();
    const { F } = classes(lo);
    lo.acquire(1, L.frame, F, S.f1);
    expect(lo.acquire(2, L.frame, F, S.f2)).toBeNull();
  });

  test("two locks of one class nested: possible recursive locking, unless allowed", () => {
    const lo = new LockOrderChecker();
    const { F } = classes(lo);
    lo.acquire(1, L.frame, F, S.f1);
    const v = lo.acquire(1, L.frame2, F, S.f2)!;
    expect(v.kind).toBe("recursive");
    expect(describeLockViolation(v, lo, names).message).toBe(
      "possible recursive locking: thread `cpu1` is acquiring a lock of class `frame_table` while holding another lock of the same class",
    );
    const ok = new LockOrderChecker({ sameClassNesting: "allow" });
    const F2 = ok.classFor("frame_table");
    ok.acquire(1, L.frame, F2, S.f1);
    expect(ok.acquire(1, L.frame2, F2, S.f2)).toBeNull();
    expect(ok.edges()).toEqual([]);
  });

  test("one class per nesting level (lockdep's subclasses) keeps parent → child clean", () => {
    const lo = new LockOrderChecker();
    const lvl = [lo.classFor("pt_lock/0", "pt_lock"), lo.classFor("pt_lock/1", "pt_lock#1")];
    for (const t of [1, 2]) {
      expect(lo.acquire(t, 0x10, lvl[0], S.x)).toBeNull();
      expect(lo.acquire(t, 0x20 + t, lvl[1], S.x)).toBeNull();
      lo.release(t, 0x20 + t);
      lo.release(t, 0x10);
    }
  });
});

describe("ranks", () => {
  test("acquiring a lower rank while holding a higher one is reported, before any cycle exists", () => {
    const fresh = new LockOrderChecker();
    const F2 = fresh.declareRank("frame_table", 1);
    const P2 = fresh.declareRank("page_table", 2);
    expect(fresh.acquire(1, L.frame, F2, S.f1)).toBeNull(); // increasing rank: fine
    expect(fresh.acquire(1, L.page, P2, S.p1)).toBeNull();
    fresh.release(1, L.page);
    fresh.release(1, L.frame);
    const lone = new LockOrderChecker();
    lone.declareRank("frame_table", 1);
    lone.declareRank("page_table", 2);
    expect(lone.acquire(2, L.page, lone.classFor("page_table"), S.p2)).toBeNull();
    expect(lone.acquire(2, L.frame, lone.classFor("frame_table"), S.f2)?.kind).toBe("rank"); // no edge F → P was ever seen
    fresh.acquire(2, L.page, P2, S.p2);
    const v = fresh.acquire(2, L.frame, F2, S.f2)!;
    expect(v).toMatchObject({ kind: "rank", rank: 1, heldRank: 2 });
    const d = describeLockViolation(v, fresh, names);
    expect(d.message).toBe(
      "lock rank violation: lock class `frame_table` (rank 1) is acquired while holding `page_table` (rank 2); locks must be acquired in increasing rank",
    );
    expect(d.help[0]).toEqual({ message: "`page_table` was acquired here", site: S.p2 });
    // Equal ranks are allowed; unranked classes are only checked by the graph.
    const H = fresh.classFor("heap");
    expect(fresh.acquire(2, L.heap, H, S.h)).toBeNull();
  });
});

describe("trylocks", () => {
  test("a trylock adds no edge and is never checked, but later locks order after it", () => {
    const lo = new LockOrderChecker();
    const { F, P, H } = classes(lo);
    lo.acquire(1, L.page, P, S.p1);
    expect(lo.acquire(1, L.frame, F, S.f1, { try: true })).toBeNull(); // P held, try F: no edge P → F
    expect(lo.edge(P, F)).toBeUndefined();
    expect(lo.acquire(1, L.heap, H, S.h)).toBeNull();
    expect(lo.edge(F, H)).toBeDefined();
    expect(lo.edge(P, H)).toBeDefined();
    expect(lo.acquire(1, L.frame, F, S.f2, { try: true })).toBeNull(); // a trylock of a held lock just fails
  });
});
