/**
 * The range map (src/data-structures/range-map.ts): unit tests of splitting and merging, and
 * property tests against a per-byte array model. Random sequences of operations (seeded, so a
 * failure replays) must leave the map with the model's contents, runs that cover `[0, size)`
 * exactly, and no two adjacent runs with equal values — so the runs are exactly the maximal runs
 * of equal bytes of the model.
 */
import { describe, expect, it } from "vitest";
import { primitiveOps, RangeMap, type RangeMapOps } from "../../src/data-structures/range-map.js";

/** mulberry32: a small seeded PRNG, so every random test replays. */
function prng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % n) as number;
  };
}

/** A mutable value, so that in-place mutation and clone-on-split are exercised. */
interface Box {
  v: number;
  /** Which object this is, to catch two runs sharing one object. */
  id: number;
}
let nextId = 0;
const boxOps: RangeMapOps<Box> = {
  clone: (b) => ({ v: b.v, id: nextId++ }),
  equals: (a, b) => a.v === b.v,
};
const box = (v: number): Box => ({ v, id: nextId++ });

/** The runs of the map: `[start, end, value]`. */
function runs<T>(m: RangeMap<T>): [number, number, T][] {
  return [...m.entries()];
}

/** The maximal runs of equal values of a per-byte model. */
function maximalRuns(model: number[]): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let i = 0; i < model.length; i++) {
    const last = out[out.length - 1];
    if (last !== undefined && last[2] === model[i]) last[1] = i + 1;
    else out.push([i, i + 1, model[i]!]);
  }
  return out;
}

/** Checks the map against the model: contents, coverage, no equal neighbours, distinct objects. */
function check(m: RangeMap<Box>, model: number[], context: string): void {
  const r = runs(m);
  // Runs cover [0, size) exactly, in order, without empty runs.
  let pos = 0;
  let covers = true;
  for (const [s, e] of r) {
    if (s !== pos || e <= s) covers = false;
    pos = e;
  }
  expect(covers && pos === model.length, `${context}: runs do not cover [0, ${model.length})`).toBe(true);
  // No two adjacent runs are equal, and no two runs share one object.
  const adjacentEqual = r.findIndex((run, i) => i > 0 && r[i - 1]![2].v === run[2].v);
  expect(adjacentEqual, `${context}: equal adjacent runs`).toBe(-1);
  expect(new Set(r.map(([, , b]) => b.id)).size, context).toBe(r.length);
  // Contents: the runs are exactly the model's maximal runs.
  expect(r.map(([s, e, b]) => [s, e, b.v]), context).toEqual(maximalRuns(model));
  // Point lookups agree.
  expect(model.map((_, i) => m.get(i).v), context).toEqual(model);
}

describe("RangeMap", () => {
  it("starts as one run, or none when empty", () => {
    const m = new RangeMap(16, box(1), boxOps);
    expect(m.runCount).toBe(1);
    expect(runs(m).map(([s, e, b]) => [s, e, b.v])).toEqual([[0, 16, 1]]);
    const empty = new RangeMap(0, box(1), boxOps);
    expect(empty.runCount).toBe(0);
    empty.forEachMut(0, 0, () => {
      throw new Error("visited");
    });
    expect(() => new RangeMap(-1, 0, primitiveOps())).toThrow(RangeError);
  });

  it("splits on demand, clones the split-off part, and merges back equal neighbours", () => {
    const m = new RangeMap(16, box(0), boxOps);
    const original = m.get(0);
    m.forEachMut(4, 8, (b) => {
      b.v = 7;
    });
    expect(runs(m).map(([s, e, b]) => [s, e, b.v])).toEqual([
      [0, 4, 0],
      [4, 8, 7],
      [8, 16, 0],
    ]);
    expect(m.get(0)).toBe(original); // the left part keeps the original object
    expect(m.get(8)).not.toBe(m.get(0)); // the right part is a clone
    m.forEachMut(4, 8, (b) => {
      b.v = 0;
    });
    expect(m.runCount).toBe(1);
  });

  it("visits runs clipped to the range, in order, and stops when asked", () => {
    const m = new RangeMap<number>(10, 0, primitiveOps());
    m.fill(2, 5, 1);
    m.fill(5, 8, 2);
    const seen: [number, number, number][] = [];
    m.forEach(3, 9, (v, s, e) => {
      seen.push([s, e, v]);
    });
    expect(seen).toEqual([
      [3, 5, 1],
      [5, 8, 2],
      [8, 9, 0],
    ]);
    const first: number[] = [];
    m.forEach(0, 10, (v) => {
      first.push(v);
      return true;
    });
    expect(first).toEqual([0]);
    expect(m.runCount).toBe(4); // forEach never splits
  });

  it("stays consistent (and merged) when the visitor stops early or throws", () => {
    const m = new RangeMap(12, box(0), boxOps);
    let n = 0;
    m.forEachMut(0, 12, (b) => {
      b.v = 5;
      return ++n === 1;
    });
    expect(runs(m).map(([s, e, b]) => [s, e, b.v])).toEqual([[0, 12, 5]]);
    m.fill(4, 8, box(1));
    expect(() =>
      m.forEachMut(2, 10, (b, s) => {
        if (s === 4) throw new Error("stop");
        b.v = 1;
      }),
    ).toThrow("stop");
    check(m, [5, 5, 1, 1, 1, 1, 1, 1, 5, 5, 5, 5], "after throw");
  });

  it("update replaces values, fill sets a range, mergeAround and mergeAll merge", () => {
    const m = new RangeMap<number>(8, 0, primitiveOps());
    m.update(0, 8, (v, s) => v + (s < 4 ? 1 : 2));
    expect([...m.entries()]).toEqual([[0, 8, 1]]); // one run, so one call
    m.fill(0, 4, 3);
    m.update(4, 8, () => 3);
    expect([...m.entries()]).toEqual([[0, 8, 3]]);
    const boxes = new RangeMap(8, box(0), boxOps);
    boxes.fill(4, 8, box(1));
    boxes.runValue(boxes.runAt(5)).v = 0; // in-place change of a whole run
    expect(boxes.runCount).toBe(2);
    boxes.mergeAround(boxes.runAt(5));
    expect(boxes.runCount).toBe(1);
    expect(() => m.fill(4, 9, 1)).toThrow(RangeError);
  });

  it("finds runs by binary search and through the last-hit hint", () => {
    const m = new RangeMap<number>(1000, 0, primitiveOps());
    for (let i = 0; i < 1000; i += 10) m.fill(i, i + 5, 1);
    for (let i = 0; i < 1000; i++) expect(m.get(i)).toBe(i % 10 < 5 ? 1 : 0);
    for (let i = 999; i >= 0; i -= 7) expect(m.get(i)).toBe(i % 10 < 5 ? 1 : 0);
    expect(m.runCount).toBe(200);
  });

  describe("property tests against a per-byte model", () => {
    for (let seed = 1; seed <= 60; seed++) {
      it(`seed ${seed}`, () => {
        const rnd = prng(seed);
        const size = 1 + rnd(seed % 3 === 0 ? 200 : 40);
        const model: number[] = new Array(size).fill(0);
        const m = new RangeMap(size, box(0), boxOps);
        const V = 2 + rnd(4); // few distinct values, so merges happen often
        for (let step = 0; step < 300; step++) {
          const a = rnd(size + 1);
          const b = rnd(size + 1);
          const start = Math.min(a, b);
          const end = Math.max(a, b);
          const op = rnd(6);
          const map = Array.from({ length: V }, () => rnd(V)); // a random function on values
          const context = `seed ${seed} step ${step} op ${op} [${start}, ${end})`;
          if (op === 0) {
            const v = rnd(V);
            m.fill(start, end, box(v));
            for (let i = start; i < end; i++) model[i] = v;
          } else if (op === 1) {
            m.forEachMut(start, end, (bx) => {
              bx.v = map[bx.v]!;
            });
            for (let i = start; i < end; i++) model[i] = map[model[i]!]!;
          } else if (op === 2) {
            m.update(start, end, (bx) => box(map[bx.v]!));
            for (let i = start; i < end; i++) model[i] = map[model[i]!]!;
          } else if (op === 3) {
            // Stop after k runs: the model applies the change to the bytes of the first k maximal
            // runs of the range (the map's runs are the maximal runs, by the invariant).
            const k = 1 + rnd(3);
            let visited = 0;
            m.forEachMut(start, end, (bx) => {
              bx.v = map[bx.v]!;
              return ++visited === k;
            });
            const clipped = maximalRuns(model)
              .map(([s, e]) => [Math.max(s, start), Math.min(e, end)] as const)
              .filter(([s, e]) => s < e);
            for (const [s, e] of clipped.slice(0, k)) for (let i = s; i < e; i++) model[i] = map[model[i]!]!;
          } else if (op === 4) {
            const seen: number[] = [];
            m.forEach(start, end, (bx, s, e) => {
              for (let i = s; i < e; i++) seen.push(bx.v);
            });
            expect(seen, context).toEqual(model.slice(start, end));
          } else {
            m.mergeAll();
          }
          check(m, model, context);
        }
      });
    }
  });
});
