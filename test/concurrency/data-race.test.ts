import { describe, expect, test, vi } from "vitest";
import {
  RaceDetector,
  describeRace,
  raceCellOps,
  type AllocRaceState,
  type AtomicOrdering,
  type DataRace,
  type RaceAccessKind,
  type RaceCell,
} from "../../src/concurrency/data-race.js";
import { VectorClock } from "../../src/concurrency/vector-clock.js";
import { RangeMap } from "../../src/data-structures/range-map.js";

const names = { thread: (t: number) => (t === 0 ? "main" : `cpu${t}`) };
const MAIN = 0;

/** Site ids: arbitrary distinct numbers, as the engine's call-site ids. */
const S = { alloc: 100, w1: 101, w2: 102, r1: 103, r2: 104, flag1: 105, flag2: 106, dealloc: 107, a: 108, b: 109 };

/** A detector with `n` spawned threads (cpu1 … cpun), a data allocation and a flag allocation made by main before the spawns. */
function setup(n = 2, dataSize = 8): { d: RaceDetector; data: AllocRaceState; flag: AllocRaceState } {
  const d = new RaceDetector();
  const data = d.allocate(dataSize, MAIN, S.alloc, { id: 9 });
  const flag = d.allocate(8, MAIN, S.alloc, { id: 10 });
  for (let i = 1; i <= n; i++) expect(d.spawn(MAIN)).toBe(i);
  return { d, data, flag };
}

function message(r: DataRace | null): string {
  expect(r).not.toBeNull();
  return describeRace(r!, names).message;
}

describe("non-atomic races", () => {
  test("write-write", () => {
    const { d, data } = setup();
    expect(d.write(data, 4, 4, 1, S.w1)).toBeNull();
    const r = d.write(data, 4, 4, 2, S.w2);
    expect(r).toEqual({ kind1: "non-atomic write", thread1: 1, site1: S.w1, kind2: "non-atomic write", thread2: 2, site2: S.w2, offset: 4, size: 4, alloc: 9 });
    expect(message(r)).toBe("Data race detected between (1) non-atomic write on thread `cpu1` and (2) non-atomic write on thread `cpu2` at alloc9[0x4]");
  });

  test("write then read (Miri's example wording, with help lines)", () => {
    const { d, data } = setup();
    expect(d.write(data, 4, 4, 1, S.w1)).toBeNull();
    const r = d.read(data, 4, 4, 2, S.r2)!;
    const text = describeRace(r, names);
    expect(text.message).toBe("Data race detected between (1) non-atomic write on thread `cpu1` and (2) non-atomic read on thread `cpu2` at alloc9[0x4]");
    expect(text.title).toBe("Undefined Behavior");
    expect(text.label).toBe("(2) just happened here");
    expect(text.help).toEqual([
      { message: "and (1) occurred earlier here", site: S.w1 },
      { message: "this indicates a bug in the program: it performed an invalid operation, and caused Undefined Behavior" },
      { message: "see https://doc.rust-lang.org/nightly/reference/behavior-considered-undefined.html for further information" },
    ]);
  });

  test("read then write", () => {
    const { d, data } = setup();
    expect(d.read(data, 0, 4, 1, S.r1)).toBeNull();
    expect(message(d.write(data, 0, 4, 2, S.w2))).toBe(
      "Data race detected between (1) non-atomic read on thread `cpu1` and (2) non-atomic write on thread `cpu2` at alloc9[0x0]",
    );
  });

  test("concurrent reads are fine; a write after them races with one of them (read-shared state)", () => {
    const { d, data } = setup(3);
    expect(d.read(data, 0, 4, 1, S.r1)).toBeNull();
    expect(d.read(data, 0, 4, 2, S.r2)).toBeNull();
    expect(data.cellAt(0).rt).toBe(-2); // switched to a read vector
    const r = d.write(data, 0, 4, 3, S.w1)!;
    expect(r.kind1).toBe("non-atomic read");
    expect([1, 2]).toContain(r.thread1);
  });

  test("a read-shared table scanned element by element in a new epoch keeps one vector per state, and a write races with exactly the elements read", () => {
    const { d, data } = setup(3, 64);
    const locks = [new VectorClock(), new VectorClock()];
    // cpu1 and cpu2 read the whole table: read-shared everywhere.
    for (const t of [1, 2]) for (let k = 0; k < 64; k += 4) expect(d.read(data, k, 4, t, S.r1)).toBeNull();
    // cpu3 sees both reads through locks: its writes to the table would be fine now.
    for (const t of [1, 2]) d.lockRelease(locks[t - 1], t);
    for (const l of locks) d.lockAcquire(l, 3);
    // cpu1, in a new epoch, scans the first half again: the runs' boundary moves instead of
    // splitting off a run with a copy of the read vector per element.
    d.fence("SeqCst", 1);
    for (let k = 0; k < 32; k += 4) expect(d.read(data, k, 4, 1, S.r2)).toBeNull();
    // (A few runs, equal neighbours merged by the next compaction; not one per element.)
    expect(data.cells.length).toBeLessThanOrEqual(4);
    // cpu3 writes an element of the second half (both reads happen before it) and one of the first
    // half (cpu1's new read does not): only the latter races, with cpu1's read.
    expect(d.write(data, 40, 4, 3, S.w1)).toBeNull();
    const r = d.write(data, 28, 4, 3, S.w1)!;
    expect(r.kind1).toBe("non-atomic read");
    expect(r.thread1).toBe(1);
    expect(r.offset).toBe(28);
  });

  test("a read ordered after an earlier read replaces it (read exclusive)", () => {
    const { d, data } = setup(2);
    const lock = new VectorClock();
    d.lockAcquire(lock, 1);
    expect(d.read(data, 0, 4, 1, S.r1)).toBeNull();
    d.lockRelease(lock, 1);
    d.lockAcquire(lock, 2);
    expect(d.read(data, 0, 4, 2, S.r2)).toBeNull();
    expect(data.cellAt(0).rt).toBe(2); // still an epoch
    // cpu2 writes: ordered after both reads.
    expect(d.write(data, 0, 4, 2, S.w2)).toBeNull();
  });

  test("no race between neighbouring bytes (per-byte precision); the racing offset is the first racing byte", () => {
    const { d, data } = setup();
    expect(d.write(data, 0, 4, 1, S.w1)).toBeNull();
    expect(d.write(data, 4, 4, 2, S.w2)).toBeNull();
    const r = d.write(data, 2, 4, 2, S.w2)!;
    expect(r.offset).toBe(2);
    expect(r.thread1).toBe(1);
    expect(message(r)).toMatch(/at alloc9\[0x2\]$/);
  });

  test("a race leaves the location's state as it was", () => {
    const { d, data } = setup();
    expect(d.write(data, 0, 4, 1, S.w1)).toBeNull();
    expect(d.read(data, 0, 4, 2, S.r2)).not.toBeNull();
    const c = data.cellAt(0);
    expect([c.wt, c.ws, c.rt]).toEqual([1, S.w1, -1]);
  });

  test("the same thread never races with itself, whatever the interleaving", () => {
    const { d, data } = setup(1);
    for (let i = 0; i < 10; i++) {
      expect(d.write(data, 0, 8, 1, S.w1)).toBeNull();
      expect(d.read(data, 0, 4, 1, S.r1)).toBeNull();
      expect(d.read(data, 4, 4, 1, S.r1)).toBeNull();
      expect(d.write(data, 2, 2, 1, S.w1)).toBeNull();
    }
  });

  test("retags are accesses, with Miri's retag help", () => {
    const { d, data } = setup();
    expect(d.retagWrite(data, 0, 4, 1, S.w1)).toBeNull();
    const r = d.write(data, 0, 4, 2, S.w2)!;
    const text = describeRace(r, names);
    expect(text.message).toBe("Data race detected between (1) retag write on thread `cpu1` and (2) non-atomic write on thread `cpu2` at alloc9[0x0]");
    expect(text.help.map((h) => h.message)).toEqual([
      "and (1) occurred earlier here",
      "retags occur on all (re)borrows and as well as when references are copied or moved",
      "retags permit optimizations that insert speculative reads or writes",
      "therefore from the perspective of data races, a retag has the same implications as a read or write",
      "this indicates a bug in the program: it performed an invalid operation, and caused Undefined Behavior",
      "see https://doc.rust-lang.org/nightly/reference/behavior-considered-undefined.html for further information",
    ]);
    const { d: d2, data: x } = setup();
    expect(d2.retagRead(x, 0, 4, 1, S.r1)).toBeNull();
    expect(d2.retagRead(x, 0, 4, 1, S.r1)).toBeNull();
    expect(message(d2.write(x, 0, 4, 2, S.w2))).toBe(
      "Data race detected between (1) retag read on thread `cpu1` and (2) non-atomic write on thread `cpu2` at alloc9[0x0]",
    );
  });
});

describe("spawn and join edges", () => {
  test("what the parent did before spawn happens before the child", () => {
    const d = new RaceDetector();
    const x = d.allocate(4, MAIN, S.alloc);
    expect(d.write(x, 0, 4, MAIN, S.w1)).toBeNull();
    const c = d.spawn(MAIN);
    expect(d.read(x, 0, 4, c, S.r2)).toBeNull();
    expect(d.write(x, 0, 4, c, S.w2)).toBeNull(); // main's write happens before it too
  });

  test("a write by the parent after spawn races with the child", () => {
    const d = new RaceDetector();
    const x = d.allocate(4, MAIN, S.alloc);
    const c = d.spawn(MAIN);
    expect(d.write(x, 0, 4, MAIN, S.w1)).toBeNull();
    expect(message(d.read(x, 0, 4, c, S.r2))).toBe(
      "Data race detected between (1) non-atomic write on thread `main` and (2) non-atomic read on thread `cpu1` at alloc?[0x0]",
    );
  });

  test("what the child did happens before the joiner's next access", () => {
    const d = new RaceDetector();
    const x = d.allocate(4, MAIN, S.alloc);
    const c = d.spawn(MAIN);
    expect(d.write(x, 0, 4, c, S.w2)).toBeNull();
    d.terminate(c);
    d.join(MAIN, c);
    expect(d.read(x, 0, 4, MAIN, S.r1)).toBeNull();
    expect(d.write(x, 0, 4, MAIN, S.w1)).toBeNull();
  });

  test("without the join, the parent races with the child", () => {
    const d = new RaceDetector();
    const x = d.allocate(4, MAIN, S.alloc);
    const c = d.spawn(MAIN);
    expect(d.write(x, 0, 4, c, S.w2)).toBeNull();
    d.terminate(c);
    expect(d.read(x, 0, 4, MAIN, S.r1)).not.toBeNull();
  });

  test("the detector is active only while threads may race", () => {
    const d = new RaceDetector();
    expect(d.active).toBe(false);
    const a = d.spawn(MAIN);
    const b = d.spawn(MAIN);
    expect(d.active).toBe(true);
    d.terminate(a);
    d.join(MAIN, a);
    expect(d.active).toBe(true);
    d.terminate(b);
    d.join(MAIN, b);
    expect(d.active).toBe(false);
    d.spawn(MAIN);
    expect(d.active).toBe(true);
  });

  test("joining a running thread is a usage error", () => {
    const d = new RaceDetector();
    const c = d.spawn(MAIN);
    expect(() => d.join(MAIN, c)).toThrow(/not terminated/);
    expect(() => d.spawn(MAIN, c)).toThrow(/already exists/);
  });

  test("the engine's thread ids can be given explicitly", () => {
    const d = new RaceDetector();
    expect(d.spawn(MAIN, 5)).toBe(5);
    expect(d.threadCount).toBe(6);
    expect(d.clockOf(5).get(MAIN)).toBe(0);
    expect(d.clockOf(5).get(5)).toBe(1);
    expect(d.clockOf(MAIN).get(MAIN)).toBe(1);
  });

  test("many threads: clocks grow and stay correct", () => {
    const d = new RaceDetector();
    const x = d.allocate(4, MAIN, S.alloc);
    const kids: number[] = [];
    for (let i = 0; i < 40; i++) kids.push(d.spawn(MAIN));
    for (const k of kids) expect(d.read(x, 0, 4, k, S.r1)).toBeNull();
    for (const k of kids) {
      d.terminate(k);
      d.join(MAIN, k);
    }
    expect(d.write(x, 0, 4, MAIN, S.w1)).toBeNull();
    expect(d.active).toBe(false);
  });
});

/** A small seeded PRNG (mulberry32): the orders below are random but the same on every run. */
function prng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

function shuffled(xs: number[], rand: (n: number) => number): number[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const k = rand(i + 1);
    [a[i], a[k]] = [a[k], a[i]];
  }
  return a;
}

/** Counts the final-clock comparisons (`VectorClock.le`) `f` makes. */
function countLe(f: () => void): number {
  const spy = vi.spyOn(VectorClock.prototype, "le");
  try {
    f();
    return spy.mock.calls.length;
  } finally {
    spy.mockRestore();
  }
}

/**
 * The detector's thread lifecycle as the old `join` computed it, clock by clock: quiet when every
 * other created thread has ended and its final clock is `≤` the joiner's. The exactness reference
 * for the cursor-based `join`.
 */
class LifecycleReference {
  clocks: number[][] = [[]];
  finals: (number[] | null)[] = [null];
  created: boolean[] = [true];
  active = false;

  private at(t: number): void {
    while (this.clocks.length <= t) {
      this.clocks.push([]);
      this.finals.push(null);
      this.created.push(false);
    }
  }
  private static get(c: number[], i: number): number {
    return c[i] ?? 0;
  }
  private inc(t: number): void {
    this.clocks[t][t] = LifecycleReference.get(this.clocks[t], t) + 1;
  }
  private static joinInto(a: number[], b: number[]): void {
    for (let i = 0; i < b.length; i++) a[i] = Math.max(LifecycleReference.get(a, i), LifecycleReference.get(b, i));
  }
  spawn(p: number, c: number): void {
    this.at(Math.max(p, c));
    this.created[c] = true;
    this.clocks[c] = [...this.clocks[p]];
    this.inc(p);
    this.inc(c);
    this.active = true;
  }
  terminate(t: number): void {
    this.at(t);
    this.finals[t] = [...this.clocks[t]];
    this.inc(t);
  }
  join(j: number, t: number): void {
    this.at(Math.max(j, t));
    LifecycleReference.joinInto(this.clocks[j], this.finals[t]!);
    const c = this.clocks[j];
    let quiet = true;
    for (let i = 0; i < this.clocks.length && quiet; i++) {
      if (i === j || !this.created[i]) continue;
      const f = this.finals[i];
      if (!f || f.some((x, k) => x > LifecycleReference.get(c, k))) quiet = false;
    }
    if (quiet) this.active = false;
  }
  release(lock: number[], t: number): void {
    this.at(t);
    lock.length = 0;
    lock.push(...this.clocks[t]);
    this.inc(t);
  }
  acquire(lock: number[], t: number): void {
    this.at(t);
    LifecycleReference.joinInto(this.clocks[t], lock);
  }
  /** The clock as `VectorClock.toArray` shows it (no trailing zeros). */
  clockOf(t: number): number[] {
    const c = Array.from(this.clocks[t], (x) => x ?? 0);
    while (c.length > 0 && c[c.length - 1] === 0) c.pop();
    return c;
  }
}

describe("thread lifecycle bookkeeping (join's cursor)", () => {
  const N = 5000;

  test(`${N} threads ended and joined in random orders: quiet exactly after the last join, O(N) clock comparisons in all`, () => {
    const rand = prng(1);
    const d = new RaceDetector();
    const kids: number[] = [];
    for (let i = 0; i < N; i++) kids.push(d.spawn(MAIN));
    expect(d.active).toBe(true);
    // Terminations and joins interleaved at random: a join only of an ended thread.
    const toEnd = shuffled(kids, rand);
    const ended: number[] = [];
    let joined = 0;
    const comparisons = countLe(() => {
      while (joined < N) {
        if (toEnd.length > 0 && (ended.length === 0 || rand(2) === 0)) {
          const t = toEnd.pop()!;
          d.terminate(t);
          ended.push(t);
        } else {
          const k = rand(ended.length);
          const t = ended[k];
          ended[k] = ended[ended.length - 1];
          ended.pop();
          d.join(MAIN, t);
          joined++;
          expect(d.active).toBe(joined < N);
        }
      }
    });
    expect(d.active).toBe(false);
    // Each thread's final clock is found ordered once, plus at most one failed comparison per join.
    expect(comparisons).toBeLessThanOrEqual(2 * N);
  });

  test.each(["spawn order", "reverse order", "random order"])(`${N} threads all ended first, then joined in %s: each final clock compared once`, (order) => {
    const d = new RaceDetector();
    const kids: number[] = [];
    for (let i = 0; i < N; i++) kids.push(d.spawn(MAIN));
    for (const k of kids) d.terminate(k);
    const joins = order === "spawn order" ? kids : order === "reverse order" ? [...kids].reverse() : shuffled(kids, prng(3));
    const comparisons = countLe(() => {
      joins.forEach((k, i) => {
        d.join(MAIN, k);
        expect(d.active).toBe(i < N - 1);
      });
    });
    // The rescanning join compared every joined thread again at each join: N²/2 in spawn order.
    expect(comparisons).toBeLessThanOrEqual(N + 1);
    // Joining again (allowed) keeps it quiet and compares nothing.
    expect(countLe(() => d.join(MAIN, kids[0]))).toBe(0);
    expect(d.active).toBe(false);
  });

  test("joins through intermediaries: main joins only group leaders, which joined their members", () => {
    const rand = prng(2);
    const GROUPS = 50;
    const MEMBERS = 40; // 50 leaders + 2000 members
    const d = new RaceDetector();
    const leaders: number[] = [];
    const members: number[][] = [];
    for (let g = 0; g < GROUPS; g++) leaders.push(d.spawn(MAIN));
    for (let g = 0; g < GROUPS; g++) {
      const ms: number[] = [];
      for (let k = 0; k < MEMBERS; k++) ms.push(d.spawn(leaders[g]));
      members.push(ms);
    }
    // Every member ends and is joined by its leader, in a random order; the last group's leader
    // forgets one member, which main must join itself.
    const forgotten = members[GROUPS - 1][MEMBERS / 2];
    for (let g = 0; g < GROUPS; g++) {
      for (const m of shuffled(members[g], rand)) {
        d.terminate(m);
        if (m !== forgotten) d.join(leaders[g], m);
        expect(d.active).toBe(true); // main and other leaders still run
      }
    }
    const comparisons = countLe(() => {
      const order = shuffled(leaders, rand);
      for (const l of order) d.terminate(l);
      for (let i = 0; i < GROUPS; i++) {
        d.join(MAIN, order[i]);
        expect(d.active).toBe(true); // the forgotten member is not ordered before main
      }
      d.join(MAIN, forgotten);
      expect(d.active).toBe(false);
    });
    expect(comparisons).toBeLessThanOrEqual(2 * (GROUPS * (MEMBERS + 1) + GROUPS + 1));
  });

  test("an index the cursor passed before it was created counts once it is created", () => {
    const d = new RaceDetector();
    // Indices 1 … 9 are reserved (not created) by the spawn of thread 10.
    expect(d.spawn(MAIN, 10)).toBe(10);
    d.terminate(10);
    d.join(MAIN, 10);
    expect(d.active).toBe(false); // main's cursor went past 1 … 9: not created
    expect(d.spawn(MAIN, 3)).toBe(3); // created behind the cursor
    expect(d.spawn(MAIN, 11)).toBe(11);
    d.terminate(3);
    d.terminate(11);
    d.join(MAIN, 11);
    expect(d.active).toBe(true); // 3 ended, but main has not joined it
    d.join(MAIN, 3);
    expect(d.active).toBe(false);
  });

  test("a thread that terminates again must be joined again", () => {
    const d = new RaceDetector();
    const a = d.spawn(MAIN);
    d.terminate(a);
    d.join(MAIN, a);
    expect(d.active).toBe(false);
    const b = d.spawn(MAIN);
    d.lockRelease(new VectorClock(), a); // a's clock moves past its final clock …
    d.terminate(a); // … and a later final clock replaces it
    d.terminate(b);
    d.join(MAIN, b);
    expect(d.active).toBe(true); // main has not seen a's second end
    d.join(MAIN, a);
    expect(d.active).toBe(false);
  });

  test("a thread used as a joiner before it is created starts over when spawned", () => {
    const d = new RaceDetector();
    const a = d.spawn(MAIN, 1);
    d.terminate(a);
    d.terminate(MAIN);
    d.join(5, a); // thread 5 does not exist yet; main ended but 5 has not joined it
    expect(d.active).toBe(true);
    d.join(5, MAIN);
    expect(d.active).toBe(false); // 5's cursor went to the end
    d.spawn(MAIN, 5); // 5's clock is replaced by main's, which never joined a
    const b = d.spawn(MAIN, 6);
    d.terminate(b);
    d.join(5, b);
    expect(d.active).toBe(true); // a is not ordered before 5 any more
    d.join(5, a);
    expect(d.active).toBe(false);
  });

  test("same `active` as the rescanning join, on random lifecycles with explicit indices, locks and repeated ends", () => {
    const THREADS = 24;
    for (let seed = 1; seed <= 300; seed++) {
      const rand = prng(seed);
      const d = new RaceDetector();
      const ref = new LifecycleReference();
      const locks = [0, 1, 2].map(() => ({ det: new VectorClock(), ref: [] as number[] }));
      const created = new Set([MAIN]);
      const ended = new Set<number>();
      for (let step = 0; step < 200; step++) {
        const op = rand(10);
        const any = () => rand(THREADS);
        const someCreated = () => [...created][rand(created.size)];
        if (op < 3 && created.size < THREADS) {
          let child = any();
          while (created.has(child)) child = (child + 1) % THREADS;
          const parent = someCreated();
          d.spawn(parent, child);
          ref.spawn(parent, child);
          created.add(child);
        } else if (op < 5) {
          // Usually a running thread; sometimes one that already ended, or one not created yet.
          const r = rand(8);
          const running = [...created].filter((t) => !ended.has(t));
          const t = r === 0 ? any() : r === 1 || running.length === 0 ? someCreated() : running[rand(running.length)];
          d.terminate(t);
          ref.terminate(t);
          ended.add(t);
        } else if (op < 8 && ended.size > 0) {
          const joinee = [...ended][rand(ended.size)];
          const joiner = rand(6) === 0 ? any() : rand(2) === 0 ? MAIN : someCreated();
          d.join(joiner, joinee);
          ref.join(joiner, joinee);
        } else if (op === 8) {
          const l = locks[rand(3)];
          const t = rand(4) === 0 ? any() : someCreated();
          d.lockRelease(l.det, t);
          ref.release(l.ref, t);
        } else {
          const l = locks[rand(3)];
          const t = rand(4) === 0 ? any() : someCreated();
          d.lockAcquire(l.det, t);
          ref.acquire(l.ref, t);
        }
        expect(d.active, `seed ${seed}, step ${step}`).toBe(ref.active);
      }
      for (let t = 0; t < ref.clocks.length; t++) expect(d.clockOf(t).toArray(), `seed ${seed}, clock of ${t}`).toEqual(ref.clockOf(t));
    }
  });
});

describe("allocation and deallocation are accesses", () => {
  test("deallocation racing a read", () => {
    const { d, data } = setup(1);
    expect(d.read(data, 0, 4, 1, S.r1)).toBeNull();
    const r = d.deallocate(data, MAIN, S.dealloc);
    expect(message(r)).toBe("Data race detected between (1) non-atomic read on thread `cpu1` and (2) deallocation on thread `main` at alloc9[0x0]");
    expect(r!.site1).toBe(S.r1);
  });

  test("deallocation after a join is clean", () => {
    const { d, data } = setup(1);
    expect(d.write(data, 0, 8, 1, S.w1)).toBeNull();
    d.terminate(1);
    d.join(MAIN, 1);
    expect(d.deallocate(data, MAIN, S.dealloc)).toBeNull();
  });

  test("an allocation published without synchronisation races with its use", () => {
    const { d, flag } = setup(2);
    const y = d.allocate(4, 1, S.alloc, { id: 12 });
    expect(d.atomicStore(flag, 0, 8, "Relaxed", 1, S.flag1)).toBeNull();
    expect(d.atomicLoad(flag, 0, 8, "Relaxed", 2, S.flag2)).toBeNull();
    expect(message(d.read(y, 0, 4, 2, S.r2))).toBe(
      "Data race detected between (1) creating a new allocation on thread `cpu1` and (2) non-atomic read on thread `cpu2` at alloc12[0x0]",
    );
  });

  test("static memory never races with its creation", () => {
    const { d } = setup(2);
    const s = d.allocate(4, 1, S.alloc, { static: true });
    expect(d.read(s, 0, 4, 2, S.r2)).toBeNull();
  });
});

describe("atomics and orderings", () => {
  /** cpu1 writes data then sets the flag; cpu2 reads the flag then the data. */
  function messagePassing(store: "Relaxed" | "Release" | "SeqCst", load: "Relaxed" | "Acquire" | "SeqCst"): DataRace | null {
    const { d, data, flag } = setup(2);
    expect(d.write(data, 0, 4, 1, S.w1)).toBeNull();
    expect(d.atomicStore(flag, 0, 8, store, 1, S.flag1)).toBeNull();
    expect(d.atomicLoad(flag, 0, 8, load, 2, S.flag2)).toBeNull();
    return d.read(data, 0, 4, 2, S.r2);
  }

  test("relaxed publication does not create happens-before", () => {
    expect(message(messagePassing("Relaxed", "Relaxed"))).toBe(
      "Data race detected between (1) non-atomic write on thread `cpu1` and (2) non-atomic read on thread `cpu2` at alloc9[0x0]",
    );
    expect(messagePassing("Release", "Relaxed")).not.toBeNull();
    expect(messagePassing("Relaxed", "Acquire")).not.toBeNull();
  });

  test("release/acquire message passing is clean (SeqCst too)", () => {
    expect(messagePassing("Release", "Acquire")).toBeNull();
    expect(messagePassing("SeqCst", "SeqCst")).toBeNull();
    expect(messagePassing("Release", "SeqCst")).toBeNull();
  });

  test("a release sequence continues through a relaxed fetch_add of another thread", () => {
    const { d, data, flag } = setup(3);
    expect(d.write(data, 0, 4, 1, S.w1)).toBeNull();
    expect(d.atomicStore(flag, 0, 8, "Release", 1, S.flag1)).toBeNull();
    expect(d.atomicRmw(flag, 0, 8, "Relaxed", 2, S.a)).toBeNull(); // fetch_add(1, Relaxed)
    expect(d.atomicLoad(flag, 0, 8, "Acquire", 3, S.flag2)).toBeNull(); // reads the RMW's value
    expect(d.read(data, 0, 4, 3, S.r2)).toBeNull();
  });

  test("a relaxed store of another thread breaks the release sequence (C++20)", () => {
    const { d, data, flag } = setup(3);
    expect(d.write(data, 0, 4, 1, S.w1)).toBeNull();
    expect(d.atomicStore(flag, 0, 8, "Release", 1, S.flag1)).toBeNull();
    expect(d.atomicStore(flag, 0, 8, "Relaxed", 2, S.a)).toBeNull();
    expect(d.atomicLoad(flag, 0, 8, "Acquire", 3, S.flag2)).toBeNull();
    expect(message(d.read(data, 0, 4, 3, S.r2))).toBe(
      "Data race detected between (1) non-atomic write on thread `cpu1` and (2) non-atomic read on thread `cpu3` at alloc9[0x0]",
    );
  });

  test("an acquire RMW synchronises with the release it reads from; a release RMW publishes", () => {
    const { d, data, flag } = setup(2);
    expect(d.write(data, 0, 4, 1, S.w1)).toBeNull();
    expect(d.atomicRmw(flag, 0, 8, "AcqRel", 1, S.flag1)).toBeNull(); // swap(1, AcqRel)
    expect(d.atomicRmw(flag, 0, 8, "Acquire", 2, S.flag2)).toBeNull();
    expect(d.write(data, 0, 4, 2, S.w2)).toBeNull();
  });

  test("compare_exchange: success is an RMW, failure a load with the failure ordering", () => {
    const { d, data, flag } = setup(2);
    expect(d.write(data, 0, 4, 1, S.w1)).toBeNull();
    expect(d.atomicStore(flag, 0, 8, "Release", 1, S.flag1)).toBeNull();
    expect(d.compareExchange(flag, 0, 8, false, "Relaxed", "Acquire", 2, S.flag2)).toBeNull();
    expect(d.read(data, 0, 4, 2, S.r2)).toBeNull();
    const s2 = setup(2);
    expect(s2.d.write(s2.data, 0, 4, 1, S.w1)).toBeNull();
    expect(s2.d.atomicStore(s2.flag, 0, 8, "Release", 1, S.flag1)).toBeNull();
    expect(s2.d.compareExchange(s2.flag, 0, 8, true, "AcqRel", "Relaxed", 2, S.flag2)).toBeNull();
    expect(s2.d.read(s2.data, 0, 4, 2, S.r2)).toBeNull();
    const s3 = setup(2);
    expect(s3.d.write(s3.data, 0, 4, 1, S.w1)).toBeNull();
    expect(s3.d.atomicStore(s3.flag, 0, 8, "Release", 1, S.flag1)).toBeNull();
    expect(s3.d.compareExchange(s3.flag, 0, 8, false, "AcqRel", "Relaxed", 2, S.flag2)).toBeNull();
    expect(s3.d.read(s3.data, 0, 4, 2, S.r2)).not.toBeNull();
  });

  test("an atomic store racing a non-atomic read", () => {
    const { d, data } = setup(2);
    expect(d.atomicStore(data, 0, 4, "SeqCst", 1, S.a)).toBeNull();
    expect(message(d.read(data, 0, 4, 2, S.r2))).toBe(
      "Data race detected between (1) atomic store on thread `cpu1` and (2) non-atomic read on thread `cpu2` at alloc9[0x0]",
    );
  });

  test("an atomic load racing a non-atomic write", () => {
    const { d, data } = setup(2);
    expect(d.atomicLoad(data, 0, 4, "SeqCst", 1, S.a)).toBeNull();
    expect(message(d.write(data, 0, 4, 2, S.w2))).toBe(
      "Data race detected between (1) atomic load on thread `cpu1` and (2) non-atomic write on thread `cpu2` at alloc9[0x0]",
    );
  });

  test("a non-atomic write racing an atomic load and an atomic RMW", () => {
    const { d, data } = setup(2);
    expect(d.write(data, 0, 4, 1, S.w1)).toBeNull();
    expect(message(d.atomicLoad(data, 0, 4, "Acquire", 2, S.a))).toBe(
      "Data race detected between (1) non-atomic write on thread `cpu1` and (2) atomic load on thread `cpu2` at alloc9[0x0]",
    );
    expect(message(d.atomicRmw(data, 0, 4, "SeqCst", 2, S.a))).toBe(
      "Data race detected between (1) non-atomic write on thread `cpu1` and (2) atomic read-modify-write on thread `cpu2` at alloc9[0x0]",
    );
  });

  test("concurrent atomics of one size never race", () => {
    const { d, flag } = setup(3);
    for (let i = 0; i < 5; i++) {
      for (const t of [1, 2, 3]) {
        expect(d.atomicRmw(flag, 0, 8, "Relaxed", t, S.a)).toBeNull();
        expect(d.atomicLoad(flag, 0, 8, "Relaxed", t, S.a)).toBeNull();
        expect(d.atomicStore(flag, 0, 8, "Relaxed", t, S.a)).toBeNull();
      }
    }
  });

  test("a non-atomic write ordered after every atomic access makes the location non-atomic again", () => {
    const { d, flag } = setup(1);
    expect(d.atomicStore(flag, 0, 8, "Relaxed", 1, S.a)).toBeNull();
    d.terminate(1);
    d.join(MAIN, 1);
    expect(d.write(flag, 0, 8, MAIN, S.w1)).toBeNull();
    expect(flag.cellAt(0).atomic).toBeNull();
  });

  test("invalid orderings are rejected with Rust's panic messages", () => {
    const { d, flag } = setup(1);
    expect(() => d.atomicLoad(flag, 0, 8, "Release", 1, S.a)).toThrow("there is no such thing as a release load");
    expect(() => d.atomicLoad(flag, 0, 8, "AcqRel", 1, S.a)).toThrow("there is no such thing as an acquire-release load");
    expect(() => d.atomicStore(flag, 0, 8, "Acquire", 1, S.a)).toThrow("there is no such thing as an acquire store");
    expect(() => d.compareExchange(flag, 0, 8, false, "SeqCst", "Release", 1, S.a)).toThrow("there is no such thing as a release failure ordering");
    expect(() => d.fence("Relaxed" as "Acquire", 1)).toThrow("there is no such thing as a relaxed fence");
  });
});

describe("fences", () => {
  /** cpu1: data write; [fence f1]; flag.store(Relaxed). cpu2: flag.load(Relaxed); [fence f2]; data read. */
  function fenced(f1: "Release" | "AcqRel" | "SeqCst" | null, f2: "Acquire" | "AcqRel" | "SeqCst" | null): DataRace | null {
    const { d, data, flag } = setup(2);
    expect(d.write(data, 0, 4, 1, S.w1)).toBeNull();
    if (f1) d.fence(f1, 1);
    expect(d.atomicStore(flag, 0, 8, "Relaxed", 1, S.flag1)).toBeNull();
    expect(d.atomicLoad(flag, 0, 8, "Relaxed", 2, S.flag2)).toBeNull();
    if (f2) d.fence(f2, 2);
    return d.read(data, 0, 4, 2, S.r2);
  }

  test("release fence + relaxed store, relaxed load + acquire fence: clean", () => {
    expect(fenced("Release", "Acquire")).toBeNull();
    expect(fenced("AcqRel", "AcqRel")).toBeNull();
    expect(fenced("SeqCst", "SeqCst")).toBeNull();
  });

  test("either fence missing: a race", () => {
    expect(fenced(null, "Acquire")).not.toBeNull();
    expect(fenced("Release", null)).not.toBeNull();
    expect(fenced(null, null)).not.toBeNull();
  });

  test("a release fence combines with an acquire load, a release store with an acquire fence", () => {
    const a = setup(2);
    expect(a.d.write(a.data, 0, 4, 1, S.w1)).toBeNull();
    a.d.fence("Release", 1);
    expect(a.d.atomicStore(a.flag, 0, 8, "Relaxed", 1, S.flag1)).toBeNull();
    expect(a.d.atomicLoad(a.flag, 0, 8, "Acquire", 2, S.flag2)).toBeNull();
    expect(a.d.read(a.data, 0, 4, 2, S.r2)).toBeNull();
    const b = setup(2);
    expect(b.d.write(b.data, 0, 4, 1, S.w1)).toBeNull();
    expect(b.d.atomicStore(b.flag, 0, 8, "Release", 1, S.flag1)).toBeNull();
    expect(b.d.atomicLoad(b.flag, 0, 8, "Relaxed", 2, S.flag2)).toBeNull();
    b.d.fence("Acquire", 2);
    expect(b.d.read(b.data, 0, 4, 2, S.r2)).toBeNull();
  });

  test("an acquire fence before the load does not help (Miri's fence_after_load)", () => {
    const { d, data, flag } = setup(1);
    expect(d.write(data, 0, 4, 1, S.w1)).toBeNull();
    expect(d.atomicStore(flag, 0, 8, "SeqCst", 1, S.flag1)).toBeNull();
    d.fence("SeqCst", MAIN); // too early: before the load
    expect(d.atomicLoad(flag, 0, 8, "Relaxed", MAIN, S.flag2)).toBeNull();
    expect(message(d.write(data, 0, 4, MAIN, S.w2))).toBe(
      "Data race detected between (1) non-atomic write on thread `cpu1` and (2) non-atomic write on thread `main` at alloc9[0x0]",
    );
  });

  test("SeqCst fences are totally ordered (store buffering with fences synchronises)", () => {
    const { d, data } = setup(2);
    expect(d.write(data, 0, 4, 1, S.w1)).toBeNull();
    d.fence("SeqCst", 1);
    d.fence("SeqCst", 2); // after cpu1's fence in the global order
    expect(d.read(data, 0, 4, 2, S.r2)).toBeNull();
  });
});

describe("mixed-size atomics", () => {
  test("a 2-byte and a 1-byte store race (Miri's wording and help)", () => {
    const { d } = setup(2);
    const a = d.allocate(2, MAIN, S.alloc, { id: 3, static: true });
    expect(d.atomicStore(a, 0, 2, "SeqCst", 1, S.a)).toBeNull();
    const r = d.atomicStore(a, 0, 1, "SeqCst", 2, S.b)!;
    expect(r.mixedSize).toBe(true);
    expect(r.size1).toBe(2);
    const text = describeRace(r, names);
    expect(text.message).toBe("Race condition detected between (1) 2-byte atomic store on thread `cpu1` and (2) 1-byte atomic store on thread `cpu2` at alloc3[0x0]");
    expect(text.help.map((h) => h.message)).toEqual([
      "and (1) occurred earlier here",
      "overlapping unsynchronized atomic accesses must use the same access size",
      "see https://doc.rust-lang.org/nightly/std/sync/atomic/index.html#memory-model-for-atomic-accesses for more information about the Rust memory model",
      "this indicates a bug in the program: it performed an invalid operation, and caused Undefined Behavior",
      "see https://doc.rust-lang.org/nightly/reference/behavior-considered-undefined.html for further information",
    ]);
  });

  test("the second byte races too", () => {
    const { d } = setup(2);
    const a = d.allocate(2, MAIN, S.alloc, { id: 3, static: true });
    expect(d.atomicStore(a, 0, 2, "SeqCst", 1, S.a)).toBeNull();
    expect(message(d.atomicStore(a, 1, 1, "SeqCst", 2, S.b))).toBe(
      "Race condition detected between (1) 2-byte atomic store on thread `cpu1` and (2) 1-byte atomic store on thread `cpu2` at alloc3[0x1]",
    );
  });

  test("loads of different sizes do not race; a store after them does", () => {
    const { d } = setup(3);
    const a = d.allocate(2, MAIN, S.alloc, { id: 3, static: true });
    expect(d.atomicLoad(a, 0, 2, "SeqCst", 1, S.a)).toBeNull();
    expect(d.atomicLoad(a, 0, 1, "SeqCst", 2, S.b)).toBeNull();
    expect(message(d.atomicStore(a, 0, 2, "SeqCst", 3, S.b))).toBe(
      "Race condition detected between (1) multiple differently-sized atomic loads, including one load on thread `cpu1` and (2) 2-byte atomic store on thread `cpu3` at alloc3[0x0]",
    );
  });

  test("a load of another size after an unordered store races", () => {
    const { d } = setup(2);
    const a = d.allocate(2, MAIN, S.alloc, { static: true });
    expect(d.atomicStore(a, 0, 2, "Relaxed", 1, S.a)).toBeNull();
    const r = d.atomicLoad(a, 0, 1, "Relaxed", 2, S.b)!;
    expect(r.mixedSize).toBe(true);
    expect(r.kind1).toBe("atomic store");
  });

  test("sizes may change once every earlier access is ordered", () => {
    const { d } = setup(1);
    const a = d.allocate(2, MAIN, S.alloc, { static: true });
    expect(d.atomicStore(a, 0, 2, "Release", 1, S.a)).toBeNull();
    d.terminate(1);
    d.join(MAIN, 1);
    expect(d.atomicStore(a, 0, 1, "Relaxed", MAIN, S.b)).toBeNull();
    expect(a.cellAt(0).atomic!.size).toBe(1);
  });
});

describe("locks", () => {
  test("a lock hand-off orders the critical sections", () => {
    const { d, data } = setup(2);
    const lock = new VectorClock();
    d.lockAcquire(lock, 1);
    expect(d.write(data, 0, 4, 1, S.w1)).toBeNull();
    d.lockRelease(lock, 1);
    d.lockAcquire(lock, 2);
    expect(d.read(data, 0, 4, 2, S.r2)).toBeNull();
    expect(d.write(data, 0, 4, 2, S.w2)).toBeNull();
    d.lockRelease(lock, 2);
  });

  test("skipping the lock on one side is a race", () => {
    const { d, data } = setup(2);
    const lock = new VectorClock();
    d.lockAcquire(lock, 1);
    expect(d.write(data, 0, 4, 1, S.w1)).toBeNull();
    d.lockRelease(lock, 1);
    expect(d.read(data, 0, 4, 2, S.r2)).not.toBeNull();
  });

  test("readers releasing a read-write lock all happen before the next writer", () => {
    const { d, data } = setup(3);
    const lock = new VectorClock();
    expect(d.read(data, 0, 4, 1, S.r1)).toBeNull();
    d.lockReleaseShared(lock, 1);
    expect(d.read(data, 0, 4, 2, S.r2)).toBeNull();
    d.lockReleaseShared(lock, 2);
    d.lockAcquire(lock, 3);
    expect(d.write(data, 0, 4, 3, S.w1)).toBeNull();
  });
});

describe("run bookkeeping", () => {
  test("repeated whole accesses keep one run; element-wise accesses split, and compaction merges equal runs", () => {
    const d = new RaceDetector();
    const buf = d.allocate(4096, MAIN, S.alloc);
    d.spawn(MAIN);
    for (let i = 0; i < 3; i++) expect(d.write(buf, 0, 4096, 1, S.w1)).toBeNull();
    expect(buf.cells.length).toBe(1);
    d.fence("Release", 1); // a new epoch
    for (let off = 0; off < 4096; off += 4) expect(d.write(buf, off, 4, 1, S.w1)).toBeNull();
    expect(buf.cells.length).toBeLessThan(64);
    buf.compact();
    expect(buf.cells.length).toBe(1);
  });

  test("a scan moving run boundaries keeps each byte's own epoch (writes, both directions)", () => {
    for (const backwards of [false, true]) {
      const { d, data } = setup(2, 16);
      const lock = new VectorClock();
      const first = backwards ? 12 : 0;
      const second = backwards ? 8 : 4;
      expect(d.write(data, first, 4, 1, S.w1)).toBeNull(); // epoch e1
      d.lockRelease(lock, 1); // publishes e1; cpu1 moves to e2
      expect(d.write(data, second, 4, 1, S.w1)).toBeNull(); // e2, next to the e1 run
      d.lockAcquire(lock, 2); // cpu2 knows e1, not e2
      expect(d.read(data, first, 4, 2, S.r2)).toBeNull();
      const r = d.read(data, second, 4, 2, S.r2);
      expect(r?.kind1).toBe("non-atomic write");
      expect(r?.offset).toBe(second);
    }
  });

  test("a scan moving run boundaries keeps each byte's own epoch (reads, both directions)", () => {
    for (const backwards of [false, true]) {
      const { d, data } = setup(2, 16);
      const lock = new VectorClock();
      const first = backwards ? 12 : 0;
      const second = backwards ? 8 : 4;
      expect(d.read(data, first, 4, 1, S.r1)).toBeNull(); // e1
      d.lockRelease(lock, 1);
      expect(d.read(data, second, 4, 1, S.r1)).toBeNull(); // e2
      d.lockAcquire(lock, 2);
      expect(d.write(data, first, 4, 2, S.w2)).toBeNull();
      const r = d.write(data, second, 4, 2, S.w2);
      expect(r?.kind1).toBe("non-atomic read");
      expect(r?.offset).toBe(second);
    }
  });

  test("sequential scans in a new epoch move boundaries instead of splitting", () => {
    const d = new RaceDetector();
    const buf = d.allocate(4096, MAIN, S.alloc);
    d.spawn(MAIN);
    d.write(buf, 0, 4096, 1, S.w1);
    const lock = new VectorClock();
    for (let pass = 0; pass < 40; pass++) {
      d.lockRelease(lock, 1);
      for (let off = 0; off < 4096; off += 8) {
        expect(d.write(buf, off, 8, 1, S.w1)).toBeNull();
        expect(d.read(buf, off, 8, 1, S.r1)).toBeNull();
      }
      expect(buf.cells.length).toBeLessThanOrEqual(20); // bounded by compaction, not one run per element
    }
  });

  test("the run list stays sorted and covers the allocation", () => {
    const d = new RaceDetector();
    const buf = d.allocate(64, MAIN, S.alloc);
    for (let i = 0; i < 4; i++) d.spawn(MAIN);
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    for (let i = 0; i < 500; i++) {
      const t = 1 + rand(4);
      const off = rand(60);
      const size = 1 + rand(Math.min(8, 64 - off));
      // Each thread works in its own 16-byte quarter so nothing races.
      const base = (t - 1) * 16;
      const o = base + (off % 12);
      if (rand(2)) d.read(buf, o, Math.min(size, base + 16 - o), t, S.r1);
      else d.write(buf, o, Math.min(size, base + 16 - o), t, S.w1);
      const runs = buf.runs();
      expect(runs[0].start).toBe(0);
      expect(runs[runs.length - 1].end).toBe(64);
      for (let j = 1; j < runs.length; j++) expect(runs[j].start).toBe(runs[j - 1].end);
    }
  });

  test("cells clone deeply and compare without sites", () => {
    const { d, data } = setup(2);
    d.read(data, 0, 8, 1, S.r1);
    d.read(data, 0, 8, 2, S.r2);
    d.atomicLoad(data, 0, 8, "Relaxed", 1, S.a);
    const c = data.cellAt(0);
    const k = c.clone();
    expect(k.equals(c)).toBe(true);
    k.ws = 12345;
    expect(k.equals(c)).toBe(true);
    k.wc++;
    expect(k.equals(c)).toBe(false);
  });
});

describe("cell-level API (for an engine-owned range map)", () => {
  test("accessCell on a cell behaves like the allocation API", () => {
    const d = new RaceDetector();
    const data = d.newCell(MAIN, S.alloc);
    const flag = d.newCell(MAIN, S.alloc);
    d.spawn(MAIN);
    d.spawn(MAIN);
    expect(d.accessCell(data, "non-atomic write", "Relaxed", 0, 4, 1, S.w1)).toBeNull();
    expect(d.accessCell(flag, "atomic store", "Release", 0, 4, 1, S.a)).toBeNull();
    d.atomicDone(1);
    expect(d.accessCell(flag, "atomic load", "Acquire", 0, 4, 2, S.b)).toBeNull();
    d.atomicDone(2);
    expect(d.accessCell(data, "non-atomic read", "Relaxed", 0, 4, 2, S.r2)).toBeNull();
    // An atomic access to a location whose last non-atomic write is unordered races.
    const other = d.newCell(1, S.alloc);
    expect(d.accessCell(other, "non-atomic write", "Relaxed", 0, 4, 1, S.w1)).toBeNull();
    expect(d.accessCell(other, "atomic load", "Acquire", 0, 4, 2, S.b)!.kind1).toBe("non-atomic write");
    const c2 = d.newCell(1, S.alloc);
    const r = d.accessCell(c2, "non-atomic read", "Relaxed", 8, 4, 2, S.r2)!;
    expect(r.kind1).toBe("creating a new allocation");
    expect(r.offset).toBe(8);
  });
});

describe("race cells in the shared range map", () => {
  /** One access over a RangeMap of cells, as an engine that owns the map would do it. */
  function access(d: RaceDetector, m: RangeMap<RaceCell>, kind: RaceAccessKind, ord: AtomicOrdering, off: number, size: number, t: number, site: number): DataRace | null {
    let race: DataRace | null = null;
    m.forEachMut(off, off + size, (c, start) => (race = d.accessCell(c, kind, ord, start, size, t, site)) !== null);
    if (race === null && kind.startsWith("atomic")) d.atomicDone(t);
    return race;
  }

  test("races, per-byte precision and merging work the same", () => {
    const d = new RaceDetector();
    const m = new RangeMap(16, d.newCell(MAIN, S.alloc), raceCellOps);
    d.spawn(MAIN);
    d.spawn(MAIN);
    expect(access(d, m, "non-atomic write", "Relaxed", 0, 4, 1, S.w1)).toBeNull();
    expect(access(d, m, "non-atomic write", "Relaxed", 4, 4, 2, S.w2)).toBeNull();
    expect(m.runCount).toBe(3);
    const r = access(d, m, "non-atomic read", "Relaxed", 2, 4, 2, S.r2)!;
    expect(r).toMatchObject({ kind1: "non-atomic write", thread1: 1, site1: S.w1, offset: 2 });
    expect(access(d, m, "atomic store", "Release", 8, 4, 1, S.a)).toBeNull();
    expect(access(d, m, "atomic store", "Relaxed", 8, 2, 2, S.b)).toMatchObject({ mixedSize: true, size1: 4 });
  });
});
