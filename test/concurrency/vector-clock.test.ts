import { describe, expect, test } from "vitest";
import {
  VectorClock,
  join,
  le,
  happensBefore,
  concurrent,
  epoch,
  epochThread,
  epochTime,
  epochLe,
  epochOf,
  formatEpoch,
} from "../../src/concurrency/vector-clock.js";
import { Xoshiro128 } from "../../src/concurrency/scheduler.js";

/** A random clock: up to `n` threads, small times (so equal entries and ≤ pairs are common). */
function randomClock(rng: Xoshiro128, n = 6, max = 4): VectorClock {
  const len = rng.below(n + 1);
  const c = new VectorClock(1 + rng.below(3));
  for (let i = 0; i < len; i++) c.set(i, rng.below(max + 1));
  return c;
}

const RUNS = 2000;

describe("VectorClock basics", () => {
  test("get, set, increment, grow on demand", () => {
    const c = new VectorClock(1);
    expect(c.get(5)).toBe(0);
    c.set(5, 3);
    expect(c.get(5)).toBe(3);
    expect(c.increment(9)).toBe(1);
    expect(c.toArray()).toEqual([0, 0, 0, 0, 0, 3, 0, 0, 0, 1]);
    expect(c.toString()).toBe("[0, 0, 0, 0, 0, 3, 0, 0, 0, 1]");
    expect(c.times.length).toBeGreaterThanOrEqual(10);
  });

  test("trailing zeros do not matter", () => {
    const a = VectorClock.of([1, 2, 0, 0]);
    const b = VectorClock.of([1, 2]);
    expect(a.equals(b)).toBe(true);
    expect(a.le(b) && b.le(a)).toBe(true);
    expect(new VectorClock().isZero()).toBe(true);
  });

  test("join is the pointwise maximum, in place", () => {
    const a = VectorClock.of([1, 0, 2]);
    const b = VectorClock.of([0, 3]);
    expect(a.join(b).toArray()).toEqual([1, 3, 2]);
    expect(b.toArray()).toEqual([0, 3]);
    expect(join(VectorClock.of([5]), VectorClock.of([0, 0, 7])).toArray()).toEqual([5, 0, 7]);
  });

  test("copyFrom, clone, clear, firstGreater", () => {
    const a = VectorClock.of([4, 5, 6]);
    const b = VectorClock.of([1]).copyFrom(a);
    expect(b.equals(a)).toBe(true);
    a.set(0, 9);
    expect(b.get(0)).toBe(4);
    const c = VectorClock.of([1, 2, 3, 4, 5]).copyFrom(VectorClock.of([1]));
    expect(c.toArray()).toEqual([1]);
    expect(a.clone().equals(a)).toBe(true);
    expect(VectorClock.of([1, 9, 9]).firstGreater(VectorClock.of([1, 2, 9]))).toBe(1);
    expect(VectorClock.of([1, 2]).firstGreater(VectorClock.of([1, 2, 3]))).toBe(-1);
    expect(a.clear().isZero()).toBe(true);
  });

  test("times must be 32-bit unsigned integers", () => {
    expect(() => new VectorClock().set(0, -1)).toThrow(RangeError);
    expect(() => new VectorClock().set(0, 1.5)).toThrow(RangeError);
    expect(() => new VectorClock().set(0, 2 ** 32)).toThrow(RangeError);
  });

  test("happens-before and concurrency", () => {
    const a = VectorClock.of([1, 0]);
    const b = VectorClock.of([1, 1]);
    const c = VectorClock.of([0, 2]);
    expect(happensBefore(a, b)).toBe(true);
    expect(happensBefore(b, a)).toBe(false);
    expect(happensBefore(a, a)).toBe(false);
    expect(concurrent(a, c)).toBe(true);
    expect(concurrent(a, b)).toBe(false);
  });
});

describe("epochs (FastTrack)", () => {
  test("pack and unpack", () => {
    const e = epoch(3, 1234567);
    expect(epochThread(e)).toBe(3);
    expect(epochTime(e)).toBe(1234567);
    expect(formatEpoch(e)).toBe("3@1234567");
    expect(() => epoch(70000, 1)).toThrow(RangeError);
  });

  test("epoch ≤ clock is one entry compared", () => {
    const c = VectorClock.of([5, 2, 7]);
    expect(epochLe(epoch(1, 2), c)).toBe(true);
    expect(epochLe(epoch(1, 3), c)).toBe(false);
    expect(epochLe(epoch(9, 0), c)).toBe(true);
    expect(epochOf(c, 2)).toBe(epoch(2, 7));
  });

  test("epoch ≤ clock agrees with the singleton clock ≤ clock", () => {
    const rng = new Xoshiro128(11);
    for (let i = 0; i < RUNS; i++) {
      const c = randomClock(rng);
      const t = rng.below(7);
      const time = rng.below(5);
      const single = new VectorClock().set(t, time);
      expect(epochLe(epoch(t, time), c)).toBe(single.le(c));
    }
  });
});

describe("lattice laws (seeded random)", () => {
  const rng = new Xoshiro128(20260822);

  test("join is commutative", () => {
    for (let i = 0; i < RUNS; i++) {
      const a = randomClock(rng);
      const b = randomClock(rng);
      expect(join(a, b).equals(join(b, a))).toBe(true);
    }
  });

  test("join is associative", () => {
    for (let i = 0; i < RUNS; i++) {
      const a = randomClock(rng);
      const b = randomClock(rng);
      const c = randomClock(rng);
      expect(join(join(a, b), c).equals(join(a, join(b, c)))).toBe(true);
    }
  });

  test("join is idempotent", () => {
    for (let i = 0; i < RUNS; i++) {
      const a = randomClock(rng);
      expect(join(a, a).equals(a)).toBe(true);
    }
  });

  test("≤ is reflexive", () => {
    for (let i = 0; i < RUNS; i++) {
      const a = randomClock(rng);
      expect(le(a, a)).toBe(true);
      expect(le(a, a.clone())).toBe(true);
    }
  });

  test("≤ is antisymmetric", () => {
    let hits = 0;
    for (let i = 0; i < RUNS * 5; i++) {
      const a = randomClock(rng, 3, 1);
      const b = randomClock(rng, 3, 1);
      if (le(a, b) && le(b, a)) {
        hits++;
        expect(a.equals(b)).toBe(true);
        expect(a.toArray()).toEqual(b.toArray());
      }
    }
    expect(hits).toBeGreaterThan(50);
  });

  test("≤ is transitive", () => {
    let hits = 0;
    for (let i = 0; i < RUNS * 5; i++) {
      const a = randomClock(rng, 3, 2);
      const b = randomClock(rng, 3, 2);
      const c = randomClock(rng, 3, 2);
      if (le(a, b) && le(b, c)) {
        hits++;
        expect(le(a, c)).toBe(true);
      }
    }
    expect(hits).toBeGreaterThan(50);
  });

  test("a ≤ join(a, b), b ≤ join(a, b), and the join is the least upper bound", () => {
    for (let i = 0; i < RUNS; i++) {
      const a = randomClock(rng);
      const b = randomClock(rng);
      const j = join(a, b);
      expect(le(a, j)).toBe(true);
      expect(le(b, j)).toBe(true);
      const c = randomClock(rng);
      if (le(a, c) && le(b, c)) expect(le(j, c)).toBe(true);
    }
  });

  test("≤ agrees with the definition entry by entry", () => {
    for (let i = 0; i < RUNS; i++) {
      const a = randomClock(rng);
      const b = randomClock(rng);
      let expected = true;
      for (let t = 0; t < 8; t++) if (a.get(t) > b.get(t)) expected = false;
      expect(le(a, b)).toBe(expected);
      expect(a.firstGreater(b) === -1).toBe(expected);
    }
  });

  test("happens-before is a strict partial order (irreflexive, transitive)", () => {
    for (let i = 0; i < RUNS; i++) {
      const a = randomClock(rng, 3, 2);
      const b = randomClock(rng, 3, 2);
      const c = randomClock(rng, 3, 2);
      expect(happensBefore(a, a)).toBe(false);
      if (happensBefore(a, b) && happensBefore(b, c)) expect(happensBefore(a, c)).toBe(true);
      if (happensBefore(a, b)) expect(happensBefore(b, a)).toBe(false);
    }
  });
});
