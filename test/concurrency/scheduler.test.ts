import { describe, expect, test } from "vitest";
import {
  Xoshiro128,
  RandomPreemption,
  PctPolicy,
  pctBound,
  RecordingPolicy,
  policyFor,
  ReplayPolicy,
  ReplayDivergence,
  encodeSchedule,
  decodeSchedule,
  decodeScheduleRuns,
  deriveSeed,
  type Decision,
  type SchedulingPolicy,
} from "../../src/concurrency/scheduler.js";
import { Prng } from "../../src/index.js";

/**
 * A toy engine: thread `i` has `points[i]` scheduling points to pass, then ends; thread 0 spawns
 * the others at its first point (they become runnable then). Returns which thread passed each
 * scheduling point, in order — the observable schedule.
 */
function simulate(policy: SchedulingPolicy, points: number[]): number[] {
  const left = [...points];
  const spawned = points.map((_, i) => i === 0);
  const trace: number[] = [];
  let current = 0;
  for (;;) {
    const runnable = left.map((n, i) => (n > 0 && spawned[i] ? i : -1)).filter((i) => i >= 0);
    if (runnable.length === 0) return trace;
    const t = policy.pick(runnable, current);
    expect(runnable).toContain(t);
    let b = policy.budget();
    expect(b).toBeGreaterThanOrEqual(1);
    current = t;
    while (b > 0 && left[t] > 0) {
      trace.push(t);
      left[t]--;
      b--;
      if (t === 0) spawned.fill(true); // main's first point spawns the others
    }
  }
}

describe("randomness", () => {
  test("the generator's draws are fixed for a seed (a replay of an old run needs the same numbers)", () => {
    const draws = (seed: number) => {
      const r = new Xoshiro128(seed);
      return [r.nextU32(), r.nextU32(), r.nextU32(), r.below(1000)];
    };
    expect(draws(0)).toEqual([3809008728, 1133695204, 53579671, 673]);
    expect(draws(42)).toEqual([2837322924, 544945897, 479756282, 814]);
    expect(Prng).toBe(Xoshiro128);
  });

  test("derived streams differ from each other and from the seed, deterministically", () => {
    expect(deriveSeed(5, "schedule")).toBe(deriveSeed(5, "schedule"));
    expect(deriveSeed(5, "schedule")).not.toBe(deriveSeed(5, "program"));
    expect(deriveSeed(5, "schedule")).not.toBe(deriveSeed(6, "schedule"));
    expect(deriveSeed(5, "schedule")).not.toBe(5);
  });
});

describe("random preemption (the engine's behaviour)", () => {
  /** The Machine's scheduler as written in src/interp/machine.ts (drawBudget/pickNext), for comparison. */
  function machineChoices(seed: number, rate: number, rounds: number[][]): Decision[] {
    const rng = new Prng(seed);
    const out: Decision[] = [];
    let cur = 0;
    for (const runnable of rounds) {
      let next: number;
      if (runnable.length === 1) next = runnable[0];
      else if (rate <= 0) next = runnable.find((x) => x > cur) ?? runnable[0];
      else next = runnable[rng.below(runnable.length)];
      const budget = rate <= 0 ? Infinity : rate >= 1 ? 1 : 1 + Math.floor(Math.log(1 - rng.next()) / Math.log(1 - rate));
      out.push({ thread: next, budget });
      cur = next;
    }
    return out;
  }

  test("same decisions as the Machine for the same seed and rate", () => {
    const rounds = [[0], [0, 1], [0, 1, 2], [1, 2], [0, 2], [2], [0, 1, 2, 3], [3]];
    for (const rate of [0, 0.01, 0.1, 0.5, 1]) {
      for (const seed of [0, 1, 7]) {
        const p = new RandomPreemption(new Xoshiro128(seed), rate);
        let cur = 0;
        const got: Decision[] = [];
        for (const r of rounds) {
          const thread = p.pick(r, cur);
          got.push({ thread, budget: p.budget() });
          cur = thread;
        }
        expect(got).toEqual(machineChoices(seed, rate, rounds));
      }
    }
  });

  test("geometric budgets with mean about 1/rate", () => {
    const p = new RandomPreemption(new Xoshiro128(3), 0.1);
    let sum = 0;
    for (let i = 0; i < 20000; i++) sum += p.budget();
    expect(sum / 20000).toBeGreaterThan(9);
    expect(sum / 20000).toBeLessThan(11);
  });

  test("rate 0 is round robin without preemption", () => {
    const p = new RandomPreemption(new Xoshiro128(0), 0);
    expect(p.pick([0, 1, 2], 0)).toBe(1);
    expect(p.pick([0, 1, 2], 2)).toBe(0);
    expect(p.budget()).toBe(Infinity);
    expect(simulate(p, [3, 2, 2])).toEqual([0, 0, 0, 1, 1, 2, 2]);
  });

  test("rejects a rate outside [0, 1]", () => {
    expect(() => new RandomPreemption(new Xoshiro128(0), 1.5)).toThrow(RangeError);
  });
});

describe("PCT", () => {
  test("deterministic: the same seed gives the same schedule", () => {
    for (let seed = 0; seed < 20; seed++) {
      const a = simulate(new PctPolicy(new Xoshiro128(seed), { depth: 3, steps: 30 }), [10, 10, 10]);
      const b = simulate(new PctPolicy(new Xoshiro128(seed), { depth: 3, steps: 30 }), [10, 10, 10]);
      expect(a).toEqual(b);
    }
  });

  test("different seeds explore different schedules", () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 30; seed++) seen.add(simulate(new PctPolicy(new Xoshiro128(seed), { depth: 3, steps: 30 }), [10, 10, 10]).join(""));
    expect(seen.size).toBeGreaterThan(5);
  });

  test("depth 1: no change points, the highest-priority thread runs until it ends", () => {
    const p = new PctPolicy(new Xoshiro128(9), { depth: 1, steps: 100 });
    expect(p.changePoints.size).toBe(0);
    const trace = simulate(p, [1, 5, 5, 5]);
    // After the spawn, each thread runs to its end without interruption.
    const runs = trace.slice(1).filter((t, i, a) => i === 0 || a[i - 1] !== t);
    expect(runs).toHaveLength(3);
    expect(p.budget()).toBe(1);
  });

  test("depth d draws d − 1 distinct change points in 1…k, and demotes the running thread there", () => {
    const p = new PctPolicy(new Xoshiro128(4), { depth: 4, steps: 50 });
    expect(p.changePoints.size).toBe(3);
    for (const [step, prio] of p.changePoints) {
      expect(step).toBeGreaterThanOrEqual(1);
      expect(step).toBeLessThanOrEqual(50);
      expect([1, 2, 3]).toContain(prio);
    }
    const trace = simulate(p, [1, 20, 20]);
    const switches = trace.slice(1).filter((t, i, a) => i > 0 && a[i - 1] !== t).length;
    expect(switches).toBeLessThanOrEqual(3 + 2); // at most one switch per change point, plus threads ending
    expect(p.steps).toBeGreaterThan(0);
  });

  test("more change points than steps: every step is one", () => {
    const p = new PctPolicy(new Xoshiro128(1), { depth: 10, steps: 3 });
    expect([...p.changePoints.keys()].sort()).toEqual([1, 2, 3]);
  });

  test("steps count only decisions with two or more runnable threads", () => {
    const p = new PctPolicy(new Xoshiro128(2), { depth: 2, steps: 10 });
    p.pick([0], 0);
    p.pick([0], 0);
    expect(p.steps).toBe(0);
    p.pick([0, 1], 0);
    expect(p.steps).toBe(1);
  });

  test("finds a depth-2 ordering bug at least as often as its bound promises", () => {
    // The bug: thread 2's first step runs before thread 1's last step (two threads of 8 steps).
    let found = 0;
    const runs = 400;
    for (let seed = 0; seed < runs; seed++) {
      const trace = simulate(new PctPolicy(new Xoshiro128(seed), { depth: 2, steps: 17 }), [1, 8, 8]);
      if (trace.indexOf(2) < trace.lastIndexOf(1)) found++;
    }
    expect(found / runs).toBeGreaterThanOrEqual(pctBound(3, 17, 2));
  });

  test("the bound is 1/(n·k^(d−1))", () => {
    expect(pctBound(2, 10, 1)).toBe(0.5);
    expect(pctBound(3, 10, 3)).toBeCloseTo(1 / 300);
  });

  test("rejects a depth below 1", () => {
    expect(() => new PctPolicy(new Xoshiro128(0), { depth: 0, steps: 10 })).toThrow(RangeError);
  });
});

describe("replay strings", () => {
  test("encode and decode round-trip", () => {
    const decisions: Decision[] = [
      { thread: 0, budget: 12 },
      { thread: 1, budget: 1 },
      { thread: 1, budget: 1 },
      { thread: 0, budget: Infinity },
      { thread: 40, budget: 1000 },
      { thread: 40, budget: 1000 },
      { thread: 40, budget: 1000 },
    ];
    const s = encodeSchedule(7, decisions);
    expect(s).toBe("7:0-c.1+2.0_.14-rs+3");
    expect(decodeSchedule(s)).toEqual({ seed: 7, decisions });
    expect(decodeScheduleRuns(s).runs).toHaveLength(4);
    expect(encodeSchedule(0, [])).toBe("0:");
    expect(decodeSchedule("0:")).toEqual({ seed: 0, decisions: [] });
    expect(decodeSchedule(encodeSchedule(0xffffffff, decisions)).seed).toBe(0xffffffff);
  });

  test("random round trips", () => {
    const rng = new Xoshiro128(77);
    for (let i = 0; i < 300; i++) {
      const decisions: Decision[] = [];
      const n = rng.below(40);
      for (let j = 0; j < n; j++) {
        const b = rng.below(5);
        decisions.push({ thread: rng.below(4), budget: b === 0 ? Infinity : b === 1 ? 1 : 1 + rng.below(100) });
      }
      const seed = rng.nextU32();
      expect(decodeSchedule(encodeSchedule(seed, decisions))).toEqual({ seed, decisions });
    }
  });

  test("only characters a shell leaves alone", () => {
    const p = new RecordingPolicy(new RandomPreemption(new Xoshiro128(5), 0.3));
    simulate(p, [20, 20, 20, 20]);
    expect(p.replayString(5)).toMatch(/^[0-9a-z]+:[0-9a-z._+-]*$/);
  });

  test("invalid strings are rejected with the reason", () => {
    expect(() => decodeSchedule("")).toThrow(/expected SEED:SCHEDULE/);
    expect(() => decodeSchedule("x!:0")).toThrow(/base-36/);
    expect(() => decodeSchedule("0:0-0")).toThrow(/budget 0/);
    expect(() => decodeSchedule("0:0+0")).toThrow(/count 0/);
    expect(() => decodeSchedule("0:0..1")).toThrow(/is not THREAD/);
    expect(() => decodeSchedule("0:0*3")).toThrow(SyntaxError);
    expect(() => decodeSchedule("0:0+zzzzzz")).toThrow(/decodeScheduleRuns/);
  });

  test("compact: O(1) record (seed, policy, count, checksum) that a replay rebuilds exactly; another program is told", () => {
    for (let seed = 0; seed < 30; seed++) {
      const policy = { kind: "random", rate: 0.2 } as const;
      const rec = new RecordingPolicy(policyFor(seed, policy), policy);
      const program = [3, 15, 12, 9];
      const original = simulate(rec, program);
      const s = rec.replayString(seed);
      expect(s).toMatch(/^[0-9a-z]+:=r0\.2=[0-9a-z]+=[0-9a-z]+$/);
      expect(rec.length).toBeGreaterThan(0);
      const replay = new ReplayPolicy(s);
      expect([replay.seed, replay.description]).toEqual([seed, policy]);
      expect(simulate(replay, program)).toEqual(original);
      expect(replay.done).toBe(true);
      expect(replay.unfinished(rec.length)).toBeNull();
      // Another program: more decisions than the string (a divergence), or fewer or other ones.
      const other = new ReplayPolicy(s);
      try {
        simulate(other, [9, 12, 15, 3]);
        if (!other.done) expect(other.unfinished(0)).toMatch(/not the same ones|has more/);
      } catch (e) {
        expect((e as Error).name).toBe("ReplayDivergence");
      }
    }
    const pct = { kind: "pct", depth: 3, steps: 60 } as const;
    const rec = new RecordingPolicy(policyFor(3, pct), pct);
    const original = simulate(rec, [2, 30, 30]);
    expect(simulate(new ReplayPolicy(rec.replayString(3)), [2, 30, 30])).toEqual(original);
    expect(() => rec.decisions()).toThrow(/keeps no decisions/);
    expect(() => new ReplayPolicy("0:=r2=1=1")).toThrow(/preemption rate must be in/);
    expect(() => new ReplayPolicy("0:=q=1=1")).toThrow(/expected SEED:=POLICY=COUNT=CHECKSUM/);
    // Only characters a shell leaves alone, unquoted.
    expect(rec.replayString(3)).toMatch(/^[0-9a-z:=.,]+$/);
  });

  test("a recorded random run replays exactly", () => {
    for (let seed = 0; seed < 30; seed++) {
      const rec = new RecordingPolicy(new RandomPreemption(new Xoshiro128(seed), 0.2));
      const program = [3, 15, 12, 9];
      const original = simulate(rec, program);
      const replay = new ReplayPolicy(rec.replayString(seed));
      expect(replay.seed).toBe(seed);
      expect(simulate(replay, program)).toEqual(original);
      expect(replay.done).toBe(true);
    }
  });

  test("a recorded PCT run replays exactly, and compresses well", () => {
    const rec = new RecordingPolicy(new PctPolicy(new Xoshiro128(3), { depth: 3, steps: 60 }));
    const program = [2, 30, 30];
    const original = simulate(rec, program);
    const s = rec.replayString(3);
    expect(rec.length).toBeGreaterThan(50);
    expect(s.length).toBeLessThan(40);
    expect(simulate(new ReplayPolicy(s), program)).toEqual(original);
    expect(simulate(new ReplayPolicy({ seed: 3, decisions: rec.decisions() }), program)).toEqual(original);
  });

  test("a replay that does not fit the run says so", () => {
    const p = new ReplayPolicy("0:1");
    expect(() => p.pick([0], 0)).toThrow(ReplayDivergence);
    const q = new ReplayPolicy("0:0");
    q.pick([0], 0);
    q.budget();
    expect(() => q.pick([0], 0)).toThrow(/ended after 1 decisions/);
  });
});
