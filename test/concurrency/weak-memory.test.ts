import { describe, expect, test } from "vitest";
import { RaceDetector, type AllocRaceState, type AtomicOrdering } from "../../src/concurrency/data-race.js";
import { STORE_BUFFER_LIMIT, WeakMemory, type AllocStoreBuffers } from "../../src/concurrency/weak-memory.js";
import { Xoshiro128, deriveSeed } from "../../src/concurrency/scheduler.js";

const SITE = 1;

/** A scripted stream: records how many candidates each choice had, answers from `answers` (default 0: the newest). */
class ScriptedRng {
  readonly counts: number[] = [];
  answers: number[] = [];
  below(n: number): number {
    this.counts.push(n);
    const a = this.answers.shift() ?? 0;
    if (a >= n) throw new Error(`scripted answer ${a} but only ${n} candidates`);
    return a;
  }
}

/** One atomic location of 8 bytes at offset 0 of a fresh allocation, driven through detector and weak memory as the engine does. */
function world() {
  const det = new RaceDetector();
  const rng = new ScriptedRng();
  const wm = new WeakMemory(det, rng);
  const x: AllocRaceState = det.allocate(16, 0, SITE, { static: true });
  const bufs: AllocStoreBuffers = wm.newAllocBuffers();
  const t1 = det.spawn(0);
  const t2 = det.spawn(0);
  const t3 = det.spawn(0);
  /** The value memory holds (the newest store), as the engine keeps it. */
  let memory: unknown = 0;
  const store = (t: number, value: unknown, ord: AtomicOrdering = "Relaxed", off = 0, size = 8) => {
    const time = det.clockOf(t).get(t);
    expect(det.atomicStore(x, off, size, ord, t, SITE)).toBeNull();
    wm.store(bufs, off, size, t, time, ord === "SeqCst", value, memory, det.atomicSync(x, off, size));
    memory = value;
  };
  const rmw = (t: number, f: (old: unknown) => unknown, ord: AtomicOrdering = "Relaxed") => {
    const time = det.clockOf(t).get(t);
    const old = memory;
    expect(det.atomicRmw(x, 0, 8, ord, t, SITE)).toBeNull();
    memory = f(old);
    wm.rmw(bufs, 0, 8, t, time, ord === "SeqCst", memory, old, det.atomicSync(x, 0, 8));
    return old;
  };
  const load = (t: number, ord: AtomicOrdering = "Relaxed", off = 0, size = 8): unknown => {
    const time = det.clockOf(t).get(t);
    const sc = ord === "SeqCst";
    const e = wm.load(bufs, off, size, t, sc);
    const r = e !== null && wm.outdated ? det.atomicLoadFrom(x, off, size, ord, t, SITE, e.sync) : det.atomicLoad(x, off, size, ord, t, SITE);
    expect(r).toBeNull();
    if (e === null) return memory;
    e.recordLoad(t, time, sc);
    return wm.outdated ? e.value : memory;
  };
  const fence = (t: number, ord: "Acquire" | "Release" | "AcqRel" | "SeqCst") => {
    det.fence(ord, t);
    if (ord === "SeqCst") wm.scFence(t);
  };
  return { det, rng, wm, x, bufs, t1, t2, t3, store, rmw, load, fence };
}

describe("WeakMemory: which stores a load may read", () => {
  test("no buffer before the first atomic store: the load reads memory", () => {
    const w = world();
    expect(w.wm.load(w.bufs, 0, 8, w.t1, false)).toBeNull();
    expect(w.wm.outdated).toBe(false);
  });

  test("an unsynchronised relaxed load may read the new store or the initial value", () => {
    const w = world();
    w.store(w.t1, 1);
    w.rng.answers = [1];
    expect(w.load(w.t2)).toBe(0); // the older, initial value
    expect(w.rng.counts).toEqual([2]);
    expect(w.wm.outdated).toBe(true);
  });

  test("three values are possible for a load racing with two stores (Miri's `relaxed` outcome set)", () => {
    for (const [answer, value] of [[0, 2], [1, 1], [2, 0]] as const) {
      const w = world();
      w.store(w.t1, 1);
      w.store(w.t1, 2);
      w.rng.answers = [answer];
      expect(w.load(w.t2)).toBe(value);
    }
  });

  test("CoWR: a store that happens before the load hides every older one", () => {
    const w = world();
    w.store(w.t1, 1, "Release");
    w.det.terminate(w.t1);
    w.det.join(w.t2, w.t1);
    expect(w.load(w.t2)).toBe(1);
    expect(w.rng.counts).toEqual([]); // no choice was made
    // The thread's own store too.
    w.store(w.t2, 2);
    expect(w.load(w.t2)).toBe(2);
  });

  test("CoRR: after reading a store, a thread never reads an older one", () => {
    const w = world();
    w.store(w.t1, 1);
    w.store(w.t1, 2);
    w.rng.answers = [1];
    expect(w.load(w.t2)).toBe(1);
    // Now 1 or 2, never the initial 0.
    w.rng.answers = [1];
    expect(w.load(w.t2)).toBe(1);
    expect(w.rng.counts).toEqual([3, 2]);
  });

  test("CoRR through synchronisation: a load that happens after another thread's load cannot read older", () => {
    const w = world();
    w.store(w.t1, 1);
    w.store(w.t1, 2);
    w.rng.answers = [1];
    expect(w.load(w.t2)).toBe(1);
    w.det.terminate(w.t2);
    w.det.join(w.t3, w.t2); // t2's load happens before t3's
    w.load(w.t3);
    expect(w.rng.counts).toEqual([3, 2]);
  });

  test("a load of an older store acquires that store's clock, not the newest one's", () => {
    const w = world();
    const data = w.det.allocate(8, 0, SITE, { static: true });
    // t1 writes data, then publishes with Release; t3 overwrites with a Relaxed store.
    expect(w.det.write(data, 0, 8, w.t1, SITE)).toBeNull();
    w.store(w.t1, 1, "Release");
    w.store(w.t3, 2, "Relaxed");
    // t2 reads the older Release store with Acquire: it synchronises with t1.
    w.rng.answers = [1];
    expect(w.load(w.t2, "Acquire")).toBe(1);
    expect(w.det.read(data, 0, 8, w.t2, SITE)).toBeNull();
  });

  test("reading the initial value acquires nothing", () => {
    const w = world();
    const data = w.det.allocate(8, 0, SITE, { static: true });
    expect(w.det.write(data, 0, 8, w.t1, SITE)).toBeNull();
    w.store(w.t1, 1, "Release");
    w.rng.answers = [1];
    expect(w.load(w.t2, "Acquire")).toBe(0);
    expect(w.det.read(data, 0, 8, w.t2, SITE)).not.toBeNull(); // a race: nothing was acquired
  });

  test("read-modify-writes read the newest store", () => {
    const w = world();
    w.store(w.t1, 1);
    w.store(w.t1, 2);
    expect(w.rmw(w.t2, (v) => (v as number) + 10)).toBe(2);
    expect(w.rng.counts).toEqual([]);
    // The RMW's load counts for CoRR: t2 can read only its own RMW now.
    expect(w.load(w.t2)).toBe(12);
  });

  test("a failed compare-exchange is a load of the newest store (CoRR after it)", () => {
    const w = world();
    w.store(w.t1, 1);
    const time = w.det.clockOf(w.t2).get(w.t2);
    expect(w.det.compareExchange(w.x, 0, 8, false, "Relaxed", "Relaxed", w.t2, SITE)).toBeNull();
    w.wm.loadLatest(w.bufs, 0, 8, w.t2, time, false);
    expect(w.load(w.t2)).toBe(1);
    expect(w.rng.counts).toEqual([]);
  });
});

describe("WeakMemory: SeqCst", () => {
  test("an SC load never reads an SC store that a later SC store of the same thread hides (POPL 2017, Figure 8)", () => {
    for (const answer of [0, 1]) {
      const w = world();
      w.store(w.t1, 1, "Relaxed");
      w.store(w.t2, 2, "SeqCst");
      w.store(w.t2, 3, "SeqCst");
      w.rng.answers = [answer];
      const v = w.load(w.t3, "SeqCst");
      expect([1, 3]).toContain(v);
      expect(w.rng.counts).toEqual([2]);
    }
  });

  test("store buffering is forbidden with SeqCst (Dekker), allowed with Release/Acquire", () => {
    // With Release/Acquire both loads may read the initial value.
    {
      const det = new RaceDetector();
      const rng = new ScriptedRng();
      const wm = new WeakMemory(det, rng);
      const s = det.allocate(16, 0, SITE, { static: true });
      const b = wm.newAllocBuffers();
      const t1 = det.spawn(0);
      const t2 = det.spawn(0);
      const st = (t: number, off: number, ord: AtomicOrdering) => {
        const time = det.clockOf(t).get(t);
        det.atomicStore(s, off, 1, ord, t, SITE);
        wm.store(b, off, 1, t, time, ord === "SeqCst", true, false, det.atomicSync(s, off, 1));
      };
      const ld = (t: number, off: number, ord: AtomicOrdering) => {
        const e = wm.load(b, off, 1, t, ord === "SeqCst")!;
        e.recordLoad(t, det.clockOf(t).get(t), ord === "SeqCst");
        return e.value;
      };
      st(t1, 0, "Release");
      st(t2, 1, "Release");
      rng.answers = [1, 1];
      expect([ld(t1, 1, "Acquire"), ld(t2, 0, "Acquire")]).toEqual([false, false]);
    }
    // With SeqCst, after both stores, each load sees only the other's store.
    {
      const det = new RaceDetector();
      const rng = new ScriptedRng();
      const wm = new WeakMemory(det, rng);
      const s = det.allocate(16, 0, SITE, { static: true });
      const b = wm.newAllocBuffers();
      const t1 = det.spawn(0);
      const t2 = det.spawn(0);
      const st = (t: number, off: number) => {
        const time = det.clockOf(t).get(t);
        det.atomicStore(s, off, 1, "SeqCst", t, SITE);
        wm.store(b, off, 1, t, time, true, true, false, det.atomicSync(s, off, 1));
      };
      st(t1, 0);
      st(t2, 1);
      expect(wm.load(b, 1, 1, t1, true)!.value).toBe(true);
      expect(wm.load(b, 0, 1, t2, true)!.value).toBe(true);
      expect(rng.counts).toEqual([]);
    }
  });

  test("an SC load cannot read a store older than one an earlier SC load saw", () => {
    const w = world();
    w.store(w.t1, 1);
    w.store(w.t1, 2);
    w.rng.answers = [0];
    expect(w.load(w.t2, "SeqCst")).toBe(2);
    // t3 has not synchronised with t2, but the SC order forbids going back.
    expect(w.load(w.t3, "SeqCst")).toBe(2);
    // A relaxed load of a thread that made no SC load still may.
    const t4 = w.det.spawn(0);
    w.rng.answers = [2];
    expect(w.load(t4, "Relaxed")).toBe(0);
  });

  test("an SC fence bounds later loads by the last SC stores before it", () => {
    const w = world();
    w.store(w.t1, 1, "SeqCst");
    w.store(w.t1, 2, "Relaxed");
    w.fence(w.t2, "SeqCst");
    // t2's SC fence does not synchronise with t1 (t1 made no fence), but t1's SC store of 1 was
    // the last SC store before it: t2 reads 1 or 2, not the initial 0.
    w.load(w.t2, "Relaxed");
    expect(w.rng.counts).toEqual([2]);
  });

  test("SC fences on both sides order the stores before the first before the loads after the second", () => {
    const w = world();
    w.store(w.t1, 1, "Relaxed");
    w.fence(w.t1, "SeqCst");
    w.fence(w.t2, "SeqCst");
    expect(w.load(w.t2, "Relaxed")).toBe(1);
    expect(w.rng.counts).toEqual([]);
  });
});

describe("WeakMemory: buffers", () => {
  test("a non-atomic write deletes the buffers it overlaps", () => {
    const w = world();
    w.store(w.t1, 1);
    w.wm.nonAtomicWrite(w.bufs, 4, 1);
    expect(w.bufs.buffers).toHaveLength(0);
    expect(w.wm.load(w.bufs, 0, 8, w.t2, false)).toBeNull();
  });

  test("a non-atomic write elsewhere leaves the buffer alone", () => {
    const w = world();
    w.store(w.t1, 1);
    w.wm.nonAtomicWrite(w.bufs, 8, 8);
    expect(w.bufs.buffers).toHaveLength(1);
  });

  test("a mixed-size store replaces the buffer; a mixed-size load reads memory", () => {
    const w = world();
    w.store(w.t1, 1, "Relaxed", 0, 8);
    expect(w.wm.load(w.bufs, 0, 4, w.t2, false)).toBeNull();
    w.det.terminate(w.t1);
    w.det.join(w.t2, w.t1); // ordered, so the mixed-size store is no race
    const time = w.det.clockOf(w.t2).get(w.t2);
    expect(w.det.atomicStore(w.x, 0, 4, "Relaxed", w.t2, SITE)).toBeNull();
    w.wm.store(w.bufs, 0, 4, w.t2, time, false, 5, 1, w.det.atomicSync(w.x, 0, 4));
    expect(w.bufs.buffers.map((b) => [b.offset, b.size, b.length])).toEqual([[0, 4, 2]]);
  });

  test(`a buffer keeps at most ${STORE_BUFFER_LIMIT} stores`, () => {
    const w = world();
    for (let i = 1; i <= STORE_BUFFER_LIMIT + 10; i++) w.store(w.t1, i);
    const b = w.bufs.buffers[0];
    expect(b.length).toBe(STORE_BUFFER_LIMIT);
    expect(b.stores()[0].value).toBe(11); // the initial value and the oldest stores are gone
    w.rng.answers = [STORE_BUFFER_LIMIT - 1];
    expect(w.load(w.t2)).toBe(11);
  });

  test("a new epoch (the detector woke up again) voids every buffer", () => {
    const w = world();
    w.store(w.t1, 1);
    w.wm.newEpoch();
    expect(w.wm.load(w.bufs, 0, 8, w.t2, false)).toBeNull();
    expect(w.bufs.buffers).toHaveLength(0);
  });

  test("an SC store marks the stores that happen before it SeqCst", () => {
    const w = world();
    w.store(w.t1, 1, "Relaxed");
    w.store(w.t1, 2, "SeqCst");
    expect(w.bufs.buffers[0].stores().map((e) => e.seqcst)).toEqual([true, true, true]);
  });

  test("the same seed gives the same choices", () => {
    const pick = (seed: number) => {
      const det = new RaceDetector();
      const wm = new WeakMemory(det, new Xoshiro128(deriveSeed(seed, "weak_memory")));
      const x = det.allocate(8, 0, SITE, { static: true });
      const b = wm.newAllocBuffers();
      const t1 = det.spawn(0);
      const t2 = det.spawn(0);
      for (let i = 1; i <= 5; i++) {
        const time = det.clockOf(t1).get(t1);
        det.atomicStore(x, 0, 8, "Relaxed", t1, SITE);
        wm.store(b, 0, 8, t1, time, false, i, 0, det.atomicSync(x, 0, 8));
      }
      return Array.from({ length: 5 }, () => wm.load(b, 0, 8, t2, false)!.value);
    };
    expect(pick(7)).toEqual(pick(7));
  });
});
