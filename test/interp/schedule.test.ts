/**
 * Scheduling on the Machine: the policy (random preemption, PCT, replay) behind every decision,
 * replay strings that reproduce a run byte for byte, `spin_loop` and livelocks, and the CLI
 * options (`--pct`, `--pct-steps`, `--replay`). Programs are under test/fixtures/schedule.
 */
import { describe, expect, test } from "vitest";
import { readFileSync } from "node:fs";
import path from "node:path";
import { runFile } from "../../src/driver/run.js";
import { testPath } from "../../src/driver/test-path.js";
import { main } from "../../src/cli/main.js";
import { loadEngine } from "../../src/cli/engine.js";
import { parseArgs, UsageError } from "../../src/cli/args.js";
import type { CliIO } from "../../src/cli/io.js";
import { pctBound } from "../../src/concurrency/scheduler.js";
import type { RunResult } from "../../src/driver/results.js";
import { tempProgram } from "../support/temp-programs.js";

const dir = "test/fixtures/schedule";
const fx = (name: string) => path.join(dir, name);
const run = (name: string, options: Parameters<typeof runFile>[1] = {}) => runFile(fx(name), { maxSteps: 2_000_000, ...options });

/** The real `kmiri` command, in-process: exit status, stdout and stderr. */
async function kmiri(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIO = {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    stdoutIsTTY: false,
    stderrIsTTY: false,
    env: { NO_COLOR: "1" },
    cwd: process.cwd(),
    engine: loadEngine,
    readFile: (p) => {
      try {
        return readFileSync(path.resolve(process.cwd(), p), "utf8");
      } catch {
        return undefined;
      }
    },
    writeFile: () => {
      throw new Error("not in this test");
    },
  };
  const code = await main(argv, io);
  return { code, out, err };
}

const replayNote = (r: RunResult) => `replay this schedule with \`--replay ${r.schedule}\``;

describe("the scheduling policy in the Machine", () => {
  test("every run records its schedule; the same seed gives the same schedule and output", async () => {
    const a = await run("racy-print.ts", { seed: 4 });
    const b = await run("racy-print.ts", { seed: 4 });
    // O(1) whatever the run's length: the seed, the policy that decided (random preemption at
    // the default rate), how many decisions, their checksum.
    expect(a.schedule).toMatch(/^4:=r0\.1=[0-9a-z]+=[0-9a-z]+$/);
    expect(b.schedule).toBe(a.schedule);
    expect(b.output).toEqual(a.output);
    expect(a.stats.switches).toBeGreaterThan(0);
  });

  test("preemption rate 0: round robin until a thread blocks, every budget unbounded", async () => {
    const r = await run("racy-print.ts", { preemptionRate: 0 });
    expect(r.output).toEqual(["a0", "a1", "a2", "a3", "b0", "b1", "b2", "b3"]);
    expect(r.schedule).toMatch(/^0:=r0=/); // rate 0: every budget unbounded (RandomPreemption)
  });

  test("the program's Math.random does not depend on the schedule (its own stream)", async () => {
    const base = await run("random-threads.ts", { seed: 9 });
    for (const o of [{ preemptionRate: 0 }, { preemptionRate: 1 }, { pct: 2 }, { replay: base.schedule }]) {
      expect((await run("random-threads.ts", { seed: 9, ...o })).output).toEqual(base.output);
    }
    expect((await run("random-threads.ts", { seed: 10 })).output).not.toEqual(base.output);
  });

  test("kmiri test records each test's schedule", async () => {
    const r = await testPath("examples/ktests.ts", { seed: 2 });
    expect(r.tests.length).toBeGreaterThan(0);
    for (const t of r.tests) expect(t.schedule).toMatch(/^2:/);
  });
});

describe("replay strings", () => {
  test("a deadlock report carries the run's replay string, once per stuck thread", async () => {
    const r = await run("deadlock.ts", { seed: 3 });
    expect(r.ub.map((u) => [u.kind, u.thread, u.location.line])).toEqual([
      ["deadlock", "main", 14],
      ["deadlock", "cpu1", 10],
    ]);
    for (const u of r.ub) expect(u.notes?.filter((n) => n.startsWith("replay this schedule"))).toEqual([replayNote(r)]);
  });

  test("--replay reproduces a racy-print run byte for byte (several seeds)", async () => {
    for (const seed of [0, 1, 2, 3, 5, 8]) {
      const json = JSON.parse((await kmiri("run", fx("racy-print.ts"), "--seed", String(seed), "--json")).out);
      const original = await kmiri("run", fx("racy-print.ts"), "--seed", String(seed));
      const replayed = await kmiri("run", fx("racy-print.ts"), "--replay", json.schedule);
      expect(replayed).toEqual(original);
      const again = JSON.parse((await kmiri("run", fx("racy-print.ts"), "--replay", json.schedule, "--json")).out);
      expect(again.schedule).toBe(json.schedule);
      expect(again.output).toEqual(json.output);
    }
  });

  test("--replay reproduces a deadlock report byte for byte (several seeds)", async () => {
    for (const seed of [0, 1, 4, 6, 7]) {
      const original = await kmiri("run", fx("deadlock.ts"), "--seed", String(seed));
      expect(original.code).toBe(1);
      const m = /replay this schedule with `--replay ([^`]+)`/.exec(original.err);
      expect(m, original.err).not.toBeNull();
      const replayed = await kmiri("run", fx("deadlock.ts"), "--replay", m![1]);
      expect(replayed).toEqual(original);
      expect(original.err.match(/--replay /g)).toHaveLength(2); // one note per stuck thread
    }
  });

  test("a PCT run replays exactly, and so does a replay of a replay", async () => {
    for (const seed of [0, 3, 11]) {
      const a = await run("pct-order.ts", { seed, pct: 2 });
      const b = await run("pct-order.ts", { replay: a.schedule });
      expect(b.output).toEqual(a.output);
      expect(b.panic).toEqual(a.panic);
      expect(b.schedule).toBe(a.schedule);
      expect(b.seed).toBe(seed);
    }
  });

  test("a string that does not fit the program is an `unsupported` report naming the divergence", async () => {
    // A string of a three-thread program on a program with two threads.
    const other = await run("pct-order.ts", { seed: 1, preemptionRate: 1 });
    const r = await run("spin-forever.ts", { replay: other.schedule });
    expect(r.ub).toHaveLength(1);
    expect(r.ub[0].kind).toBe("unsupported");
    expect(r.ub[0].title).toBe("unsupported operation");
    expect(r.ub[0].message).toMatch(/^the replay string does not fit this program: (the replay string (picks thread \d+ at decision \d+|ended after)|the run (ended after|made) \d+ scheduling decisions)/);
    expect(r.exitCode).toBe(1);

    // Decisions left over when the run ended (a string claiming two more decisions).
    const clean = await run("racy-print.ts", { seed: 2 });
    const [seedAndPolicy, policy, count, sum] = clean.schedule!.split("=");
    const longer = await run("racy-print.ts", { replay: `${seedAndPolicy}=${policy}=${(parseInt(count!, 36) + 2).toString(36)}=${sum}` });
    expect(longer.output).toEqual(clean.output);
    expect(longer.ub.map((u) => u.kind)).toEqual(["unsupported"]);
    expect(longer.ub[0].message).toMatch(/the run ended after \d+ scheduling decisions, but the replay string has more/);

    // The old format, a decision per run of decisions, still replays.
    const { dir } = tempProgram({ "empty.ts": "export function main(): void {}\n" }, "kmiri-replay-");
    expect((await runFile(path.join(dir, "empty.ts"), { replay: "0:0_", typecheck: false })).ub).toEqual([]);
    expect((await runFile(path.join(dir, "empty.ts"), { replay: "0:0_.0_", typecheck: false })).ub[0]?.message).toMatch(/the run ended after 1 scheduling decisions, but the replay string has more/);

    const cli = await kmiri("run", fx("spin-forever.ts"), "--replay", other.schedule!);
    expect(cli.code).toBe(1);
    expect(cli.err).toContain("error: unsupported operation: the replay string does not fit this program");
  });

  test("a malformed replay string is a usage error", async () => {
    const r = await kmiri("run", fx("racy-print.ts"), "--replay", "nonsense");
    expect(r.code).toBe(2);
    expect(r.err).toContain("invalid value for `--replay`: invalid replay string `nonsense`: expected SEED:SCHEDULE");
  });
});

describe("PCT", () => {
  test("deterministic: the same seed gives the same schedule; the step estimate comes from a first run", async () => {
    const a = await run("pct-order.ts", { seed: 5, pct: 2 });
    const b = await run("pct-order.ts", { seed: 5, pct: 2 });
    expect(b.schedule).toBe(a.schedule);
    expect(b.output).toEqual(a.output);
    expect(a.pct).toMatchObject({ depth: 2, threads: 3 });
    expect(a.pct!.steps).toBeGreaterThan(1);
    expect(a.pct!.bound).toBeCloseTo(pctBound(3, a.pct!.steps, 2));
    // The string names PCT with its depth and the steps it used (PctPolicy decides at every scheduling point).
    expect(a.schedule).toBe(`5:=p2,${a.pct!.steps}=${a.schedule!.split("=")[2]}=${a.schedule!.split("=")[3]}`);
    const given = await run("pct-order.ts", { seed: 5, pct: 2, pctSteps: 40 });
    expect(given.pct!.steps).toBe(40);
  });

  test("the step estimate comes from a run with the same checks: without race detection, not the race's few steps", async () => {
    const checked = await run("race-then-work.ts", { pct: 2 });
    expect(checked.ub.map((u) => u.kind)).toEqual(["data-race"]);
    const unchecked = await run("race-then-work.ts", { pct: 2, dataRaceDetector: false });
    expect(unchecked.ub).toEqual([]);
    // Two threads yielding 200 times each: about 200 decisions with two runnable threads.
    expect(unchecked.pct!.steps).toBeGreaterThan(150);
  });

  test("finds a depth-2 ordering bug (A's `x = 1` after B's second step) at least as often as its bound", async () => {
    // The figure in the README: `kmiri run test/fixtures/schedule/pct-order.ts --many-seeds 0..50 --pct 2`.
    const seeds = 50;
    let random = 0;
    let pct = 0;
    let bound = 1;
    for (let seed = 0; seed < seeds; seed++) {
      if ((await run("pct-order.ts", { seed })).panic) random++;
      const p = await run("pct-order.ts", { seed, pct: 2 });
      if (p.panic) {
        pct++;
        expect(p.panic.message).toContain("A ran `x = 1` after B's second step");
      }
      bound = Math.min(bound, p.pct!.bound);
    }
    expect(pct / seeds).toBeGreaterThanOrEqual(bound);
    expect(pct).toBeGreaterThan(random);
    // Measured when written (README, Scheduling): random 1, PCT 15 of 50.
  });
});

describe("spin_loop", () => {
  test("a spin-wait on a flag another thread sets ends, whatever the schedule", async () => {
    for (const o of [{ preemptionRate: 0 }, { preemptionRate: 1 }, { pct: 2 }, ...[0, 1, 2, 3, 4, 5].map((seed) => ({ seed }))]) {
      const r = await run("spin-wait.ts", o);
      expect(r.ub).toEqual([]);
      expect(r.output).toEqual(["worker: published", "main: data = 42"]);
    }
  });

  test("a flag nobody sets: a deadlock at the spin_loop, reported once for the stuck thread", async () => {
    for (const seed of [0, 1, 2]) {
      const r = await run("spin-forever.ts", { seed });
      expect(r.output).toEqual(["worker: done, but forgot to set the flag"]);
      expect(r.ub).toHaveLength(1);
      const u = r.ub[0];
      expect(u).toMatchObject({ kind: "deadlock", title: "deadlock", message: "the evaluated program deadlocked", label: "thread got stuck here", thread: "main" });
      expect(u.location).toMatchObject({ line: 11, column: 18 });
      expect(u.notes).toContain(replayNote(r));
      expect(r.exitCode).toBe(1);
    }
  });

  test("two threads spinning on each other: one report per thread", async () => {
    const r = await run("spin-each-other.ts");
    expect(r.ub.map((u) => [u.kind, u.thread, u.location.line])).toEqual([
      ["deadlock", "main", 13],
      ["deadlock", "cpu1", 10],
    ]);
  });

  test("the rendered livelock report", async () => {
    const r = await kmiri("run", fx("spin-forever.ts"));
    expect(r.code).toBe(1);
    expect(r.err).toContain(`error: the evaluated program deadlocked
  --> test/fixtures/schedule/spin-forever.ts:11:18
   |
11 |   while (!ready) spin_loop();
   |                  ^^^^^^^^^^^ thread got stuck here`);
  });
});

describe("command line", () => {
  test("--pct, --pct-steps and --replay are parsed", () => {
    expect(parseArgs(["run", "a.ts", "--pct", "3", "--pct-steps=200"])).toMatchObject({ flags: { pct: 3, pctSteps: 200 } });
    expect(parseArgs(["test", "src", "--replay", "7:0-c.1+2"])).toMatchObject({ flags: { replay: "7:0-c.1+2" } });
    expect(parseArgs(["run", "a.ts", "--replay", "7:0", "--seed", "7"])).toMatchObject({ flags: { replay: "7:0", seed: 7 } });
  });

  test.each([
    [["run", "a.ts", "--pct", "0"], "expected an integer of at least 1"],
    [["run", "a.ts", "--pct-steps", "9"], "`--pct-steps` needs `--pct DEPTH`"],
    [["run", "a.ts", "--pct", "2", "--preemption-rate", "0.5"], "cannot be used together"],
    [["run", "a.ts", "--replay", "1:0", "--pct", "2"], "cannot be used together"],
    [["run", "a.ts", "--replay", "1:0", "--seed", "2"], "does not match the seed of the replay string"],
    [["corpus", "d", "--pct", "2"], "only for `kmiri run` and `kmiri test`"],
  ])("%j is a usage error", (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });

  test("--pct through the CLI: the same run as the library's", async () => {
    const lib = await run("pct-order.ts", { seed: 3, pct: 2 });
    const cli = JSON.parse((await kmiri("run", fx("pct-order.ts"), "--seed", "3", "--pct", "2", "--json")).out);
    expect(cli.schedule).toBe(lib.schedule);
    expect(cli.output).toEqual(lib.output);
  });
});
