/**
 * Differential test: the detector (FastTrack epochs, adaptive reads, run lists, fast paths)
 * against a naive reference that follows Miri's rules literally — full vector clocks, one state
 * per byte, reads kept as the join of all reads. On random programs both must find the same races
 * at the same operations, with the same kinds and offsets.
 */
import { describe, expect, test } from "vitest";
import { RaceDetector, type AllocRaceState, type AtomicOrdering, type DataRace } from "../../src/concurrency/data-race.js";
import { VectorClock } from "../../src/concurrency/vector-clock.js";
import { Xoshiro128 } from "../../src/concurrency/scheduler.js";

type Clock = number[];
const get = (c: Clock, i: number) => c[i] ?? 0;
const joinInto = (a: Clock, b: Clock) => {
  for (let i = 0; i < b.length; i++) a[i] = Math.max(get(a, i), get(b, i));
};
const leq = (a: Clock, b: Clock) => a.every((x, i) => (x ?? 0) <= get(b, i));
const firstGt = (a: Clock, b: Clock) => a.findIndex((x, i) => (x ?? 0) > get(b, i));

interface RefByte {
  w: { t: number; c: number; kind: string };
  reads: Clock;
  readKinds: string[];
  atomic: null | { loads: Clock; stores: Clock; sync: Clock; size: number };
}

/** Miri's model, byte by byte, nothing clever. */
class Reference {
  clocks: Clock[] = [[0]];
  facq: Clock[] = [[]];
  frel: Clock[] = [[]];
  finals: (Clock | null)[] = [null];
  sc: Clock = [];

  spawn(p: number): number {
    const c = this.clocks.length;
    this.clocks.push([...this.clocks[p]]);
    this.facq.push([]);
    this.frel.push([]);
    this.finals.push(null);
    this.clocks[p][p] = get(this.clocks[p], p) + 1;
    this.clocks[c][c] = get(this.clocks[c], c) + 1;
    return c;
  }
  terminate(t: number) {
    this.finals[t] = [...this.clocks[t]];
    this.clocks[t][t] = get(this.clocks[t], t) + 1;
  }
  join(j: number, t: number) {
    joinInto(this.clocks[j], this.finals[t]!);
  }
  release(lock: Clock, t: number) {
    lock.length = 0;
    lock.push(...this.clocks[t]);
    this.clocks[t][t] = get(this.clocks[t], t) + 1;
  }
  acquire(lock: Clock, t: number) {
    joinInto(this.clocks[t], lock);
  }
  fence(o: string, t: number) {
    if (o !== "Release") joinInto(this.clocks[t], this.facq[t]);
    if (o === "SeqCst") {
      joinInto(this.sc, this.clocks[t]);
      joinInto(this.clocks[t], this.sc);
    }
    if (o !== "Acquire") {
      this.frel[t] = [...this.clocks[t]];
      this.clocks[t][t] = get(this.clocks[t], t) + 1;
    }
  }
  alloc(size: number, t: number): RefByte[] {
    const c = get(this.clocks[t], t);
    return Array.from({ length: size }, () => ({ w: { t, c, kind: "creating a new allocation" }, reads: [], readKinds: [], atomic: null }));
  }

  /** Returns [kind1, thread1, kind2, offset, mixed] of the first racing byte, or null. */
  access(mem: RefByte[], off: number, size: number, t: number, kind2: string, ord: AtomicOrdering): (string | number | boolean)[] | null {
    const C = this.clocks[t];
    const atomicAccess = kind2.startsWith("atomic");
    const isRead = kind2 === "non-atomic read" || kind2 === "retag read" || kind2 === "atomic load";
    for (let i = off; i < off + size; i++) {
      const b = mem[i];
      const a = b.atomic;
      let k1: string | null = null;
      let t1 = -1;
      let mixed = false;
      let j: number;
      if (!atomicAccess && a && (j = firstGt(a.stores, C)) >= 0) [k1, t1] = ["atomic store", j];
      else if (!atomicAccess && !isRead && a && (j = firstGt(a.loads, C)) >= 0) [k1, t1] = ["atomic load", j];
      else if (b.w.c > get(C, b.w.t)) [k1, t1] = [b.w.kind, b.w.t];
      else if (!isRead && (j = firstGt(b.reads, C)) >= 0) [k1, t1] = [b.readKinds[j], j];
      else if (atomicAccess && a && a.size !== size) {
        if ((j = firstGt(a.stores, C)) >= 0) [k1, t1, mixed] = ["atomic store", j, true];
        else if (kind2 !== "atomic load" && (j = firstGt(a.loads, C)) >= 0) [k1, t1, mixed] = ["atomic load", j, true];
      }
      if (k1 !== null) return [k1, t1, kind2, i, mixed];
      const now = get(C, t);
      if (!atomicAccess) {
        if (isRead) {
          b.reads[t] = now;
          b.readKinds[t] = kind2;
        } else {
          b.w = { t, c: now, kind: kind2 };
          b.reads = [];
          b.readKinds = [];
          b.atomic = null;
        }
        continue;
      }
      let at = b.atomic;
      if (!at) at = b.atomic = { loads: [], stores: [], sync: [], size };
      else if (at.size !== size) at.size = kind2 === "atomic load" && !(leq(at.loads, C) && leq(at.stores, C)) ? 0 : size;
      if (kind2 !== "atomic store") {
        at.loads[t] = now;
        if (ord === "Acquire" || ord === "AcqRel" || ord === "SeqCst") joinInto(C, at.sync);
        else joinInto(this.facq[t], at.sync);
      }
      if (kind2 !== "atomic load") {
        at.stores[t] = now;
        const rel = ord === "Release" || ord === "AcqRel" || ord === "SeqCst";
        const src = rel ? C : this.frel[t];
        if (kind2 === "atomic store") at.sync = [...src];
        else joinInto(at.sync, src);
      }
    }
    if (atomicAccess) C[t] = get(C, t) + 1;
    return null;
  }
}

const LOAD_ORDS: AtomicOrdering[] = ["Relaxed", "Acquire", "SeqCst"];
const STORE_ORDS: AtomicOrdering[] = ["Relaxed", "Release", "SeqCst"];
const RMW_ORDS: AtomicOrdering[] = ["Relaxed", "Acquire", "Release", "AcqRel", "SeqCst"];
const FENCES = ["Acquire", "Release", "AcqRel", "SeqCst"] as const;

function summary(r: DataRace | null): (string | number | boolean)[] | null {
  return r && [r.kind1, r.thread1, r.kind2, r.offset, r.mixedSize === true];
}

function runProgram(seed: number, threads: number, steps: number): { races: number; ops: number; compactions: number } {
  const rng = new Xoshiro128(seed);
  const d = new RaceDetector();
  const ref = new Reference();
  // A small allocation (heavily shared) and a larger one (many runs: splits and compaction).
  const SIZES = [16, 64];
  const mem: AllocRaceState[] = [d.allocate(16, 0, 0), d.allocate(64, 0, 0)];
  const rmem = [ref.alloc(16, 0), ref.alloc(64, 0)];
  const locks = [new VectorClock(), new VectorClock()];
  const rlocks: Clock[] = [[], []];
  const alive: number[] = [0];
  for (let i = 0; i < threads; i++) {
    const c = d.spawn(0);
    expect(ref.spawn(0)).toBe(c);
    alive.push(c);
  }
  let races = 0;
  let compactions = 0;
  for (let s = 0; s < steps; s++) {
    const before = mem[1].cells.length;
    const t = alive[rng.below(alive.length)];
    const which = rng.below(2);
    const SIZE = SIZES[which];
    const m = mem[which];
    const rm = rmem[which];
    const op = rng.below(23);
    let got: DataRace | null = null;
    let want: (string | number | boolean)[] | null = null;
    if (op < 9) {
      // Non-atomic accesses of random shape (racing often, since threads share 16 bytes).
      const off = rng.below(SIZE);
      const size = 1 + rng.below(Math.min(8, SIZE - off));
      const k = rng.below(10);
      if (k < 4) {
        got = d.read(m, off, size, t, s);
        want = ref.access(rm, off, size, t, "non-atomic read", "Relaxed");
      } else if (k < 8) {
        got = d.write(m, off, size, t, s);
        want = ref.access(rm, off, size, t, "non-atomic write", "Relaxed");
      } else if (k < 9) {
        got = d.retagRead(m, off, size, t, s);
        want = ref.access(rm, off, size, t, "retag read", "Relaxed");
      } else {
        got = d.retagWrite(m, off, size, t, s);
        want = ref.access(rm, off, size, t, "retag write", "Relaxed");
      }
    } else if (op < 15) {
      // Aligned atomics of 1, 2 or 4 bytes (mostly 4, so mixed sizes happen but do not dominate).
      const size = [1, 2, 4, 4, 4][rng.below(5)];
      const off = size * rng.below(SIZE / size);
      const k = rng.below(3);
      if (k === 0) {
        const o = LOAD_ORDS[rng.below(3)];
        got = d.atomicLoad(m, off, size, o, t, s);
        want = ref.access(rm, off, size, t, "atomic load", o);
      } else if (k === 1) {
        const o = STORE_ORDS[rng.below(3)];
        got = d.atomicStore(m, off, size, o, t, s);
        want = ref.access(rm, off, size, t, "atomic store", o);
      } else {
        const o = RMW_ORDS[rng.below(5)];
        got = d.atomicRmw(m, off, size, o, t, s);
        want = ref.access(rm, off, size, t, "atomic read-modify-write", o);
      }
    } else if (op < 17) {
      const f = FENCES[rng.below(4)];
      d.fence(f, t);
      ref.fence(f, t);
    } else if (op < 19) {
      const l = rng.below(2);
      if (rng.below(2)) {
        d.lockRelease(locks[l], t);
        ref.release(rlocks[l], t);
      } else {
        d.lockAcquire(locks[l], t);
        ref.acquire(rlocks[l], t);
      }
    } else if (op >= 21) {
      // A sequential scan (element-wise reads, or writes then reads), forwards or backwards: the
      // boundary-moving fast paths.
      const elem = [1, 2, 4, 8][rng.below(4)];
      const count = Math.min(SIZE / elem, 2 + rng.below(6));
      const back = rng.below(2) === 1;
      const first = rng.below(SIZE / elem - count + 1);
      const writes = rng.below(2) === 1;
      for (let e = 0; e < count && !want; e++) {
        const off = (back ? first + count - 1 - e : first + e) * elem;
        if (writes) {
          got = d.write(m, off, elem, t, s);
          want = ref.access(rm, off, elem, t, "non-atomic write", "Relaxed");
          if (want || got) break;
        }
        got = d.read(m, off, elem, t, s);
        want = ref.access(rm, off, elem, t, "non-atomic read", "Relaxed");
        if (want || got) break;
      }
    } else if (op === 20) {
      // A fresh allocation by this thread replaces one of the two.
      mem[which] = d.allocate(SIZE, t, s);
      rmem[which] = ref.alloc(SIZE, t);
    } else if (alive.length > 1 && t !== 0) {
      d.terminate(t);
      ref.terminate(t);
      d.join(0, t);
      ref.join(0, t);
      alive.splice(alive.indexOf(t), 1);
    }
    const g = summary(got);
    const isReadKind = (k: unknown) => k === "non-atomic read" || k === "retag read";
    if (want && g && isReadKind(want[0]) && isReadKind(g[0])) {
      // FastTrack keeps one of several ordered reads where Miri keeps their join: the witness
      // (its thread and whether it was a retag) may differ, the race may not.
      g[0] = want[0];
      g[1] = want[1];
    }
    expect(g, `seed ${seed}, step ${s}`).toEqual(want);
    if (want) races++;
    if (mem[1].cells.length < before - 1) compactions++;
  }
  return { races, ops: steps, compactions };
}

describe("the detector agrees with a naive per-byte reference", () => {
  test("random programs, 2–5 threads", () => {
    let races = 0;
    let ops = 0;
    let compactions = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const r = runProgram(seed, 1 + (seed % 4), 200);
      compactions += r.compactions;
      races += r.races;
      ops += r.ops;
    }
    // The programs must exercise both outcomes.
    expect(races).toBeGreaterThan(ops / 20);
    expect(compactions).toBeGreaterThan(0);
    expect(races).toBeLessThan(ops);
  });
});
