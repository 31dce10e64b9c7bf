/**
 * Actors (src/interp/actors.ts): devices and interrupt sources that are not program threads but
 * step at the Machine's scheduling decisions. Each test builds a Machine as the driver does
 * (`prepareFile` in src/driver/run.ts: load, compile, `new Machine(program, checkedRuntime, …)`,
 * `run(entry, pick)`), registers a fake device and reads the run's real findings and output.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Actor, ActorStep } from "../../src/interp/actors.js";
import { STALL_ROUNDS } from "../../src/interp/actors.js";
import { compileProgram, type CompiledProgram } from "../../src/interp/compile/index.js";
import { loadProgram } from "../../src/interp/loader/index.js";
import { Machine, type MachineConfig } from "../../src/interp/machine.js";
import type { PanicInfo, UBReport } from "../../src/interp/report.js";
import { checkedRuntime } from "../../src/shims/checked/runtime.js";

/** `main` spins until FLAG is set: only a device sets it. A worker prints meanwhile. */
const SPIN_ON_FLAG = `import { AtomicU32, spawn, spin_loop, static_ } from "kmiri/rt";

export const FLAG = static_(AtomicU32, 0, { name: "FLAG" });

export function main(): void {
  const h = spawn(() => {
    for (let i = 0; i < 6; i++) console.log(\`worker \${i}\`);
  });
  for (let i = 0; i < 6; i++) console.log(\`main \${i}\`);
  h.join();
  while (FLAG.as_ref().load("Acquire") === 0) spin_loop();
  console.log("main: the device is done");
}
`;

/** Two threads printing, nothing for a device to do: the schedule is the threads'. */
const TWO_THREADS = `import { spawn } from "kmiri/rt";

export function main(): void {
  const h = spawn(() => {
    for (let i = 0; i < 8; i++) console.log(\`worker \${i}\`);
  });
  for (let i = 0; i < 8; i++) console.log(\`main \${i}\`);
  h.join();
  console.log("end");
}
`;

/** `main` spins on plain shared state (no atomic): only a device's `"progress"` wakes it. */
const MAILBOX = `import { spin_loop } from "kmiri/rt";

export const mailbox = { ready: false };

export function main(): void {
  while (!mailbox.ready) spin_loop();
  console.log("main: mail");
}
`;

type Program = { program: CompiledProgram; entry: string; display: string };

let dir: string;
const programs: Record<string, Program> = {};

async function compile(name: string, source: string): Promise<Program> {
  const file = path.join(dir, name);
  writeFileSync(file, source);
  const src = await loadProgram(file, { cwd: dir, cacheDir: path.join(dir, ".cache") });
  return { program: compileProgram(src.modules.values(), true), entry: src.entry.path, display: src.entry.displayPath };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "kmiri-actors-"));
  programs.spin = await compile("spin.ts", SPIN_ON_FLAG);
  programs.two = await compile("two.ts", TWO_THREADS);
  programs.mailbox = await compile("mailbox.ts", MAILBOX);
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  m: Machine;
  panic: PanicInfo | undefined;
  ub: UBReport[];
  /** Program output and actor steps, in the order they happened. */
  trace: string[];
}

/**
 * Runs `main` of `p` on a fresh Machine. `actors` makes the actors from the entry module's
 * namespace and the shared trace; they are registered before `main` starts.
 */
function run(p: Program, config: MachineConfig, actors: (ns: Record<string, unknown>, trace: string[]) => Actor[] = () => []): Run {
  const trace: string[] = [];
  const m = new Machine(p.program, checkedRuntime, { maxSteps: 1_000_000, ...config, onOutput: (l) => trace.push(l) });
  const panic = m.run(p.entry, (ns) => {
    for (const a of actors(ns, trace)) m.addActor(a);
    return ns.main as () => unknown;
  });
  return { m, panic, ub: m.allFindings(), trace };
}

/** The program's FLAG, as the device sees it (an atomic in kmiri memory). */
function flag(ns: Record<string, unknown>): { load(o: string): number; store(v: number, o: string): void } {
  return (ns.FLAG as { as_ref(): { load(o: string): number; store(v: number, o: string): void } }).as_ref();
}

/**
 * A device that needs `work` steps to complete one request, then sets FLAG. Each step is traced
 * with the thread it ran beside and that thread's state.
 */
function flagDevice(ns: Record<string, unknown>, trace: string[], options: { work?: number; rate?: number; name?: string } = {}): Actor {
  let left = options.work ?? 3;
  return {
    name: options.name ?? "doorbell",
    kind: "device",
    rate: options.rate,
    step(m): ActorStep {
      trace.push(`<${this.name} beside ${m.thread.name} (${m.thread.state})>`);
      if (left === 0) return "idle";
      if (--left > 0) return "idle";
      flag(ns).store(1, "Release");
      return "progress";
    },
    quiescent: () => left === 0,
    pending: () => (left > 0 ? `${left} steps of a request in flight` : null),
  };
}

describe("actors step at scheduling decisions", () => {
  test("an actor runs between threads, and the same seed gives the same interleaving of threads and actors", () => {
    const a = run(programs.spin, { seed: 7 }, (ns, trace) => [flagDevice(ns, trace)]);
    const b = run(programs.spin, { seed: 7 }, (ns, trace) => [flagDevice(ns, trace)]);
    expect(a.ub).toEqual([]);
    expect(a.panic).toBeUndefined();
    const steps = a.trace.filter((l) => l.startsWith("<"));
    // It stepped several times, in between program output (not only before or after the run).
    expect(steps.length).toBeGreaterThan(3);
    const firstOut = a.trace.findIndex((l) => !l.startsWith("<"));
    const lastOut = a.trace.findLastIndex((l) => !l.startsWith("<"));
    expect(a.trace.slice(firstOut, lastOut).some((l) => l.startsWith("<"))).toBe(true);
    expect(a.trace).toContain("main: the device is done");
    expect(b.trace).toEqual(a.trace);
    expect(b.m.schedule).toBe(a.m.schedule);
  });

  test("the seed decides when actors step: different seeds give different interleavings", () => {
    const traces = new Set<string>();
    for (let seed = 0; seed < 8; seed++) {
      const r = run(programs.two, { seed }, (_ns, trace) => [
        { name: "timer", kind: "interrupt", step: (m) => (trace.push(`<timer after ${m.output.length}>`), "idle") },
      ]);
      expect(r.ub).toEqual([]);
      traces.add(r.trace.filter((l) => l.startsWith("<")).join(","));
    }
    expect(traces.size).toBeGreaterThan(4);
  });

  test("registering actors changes no thread decision: same schedule and output as without, and a replay replays the actors too", () => {
    for (const seed of [0, 3, 11]) {
      const plain = run(programs.two, { seed });
      const timer = (trace: string[]): Actor => ({
        name: "timer",
        kind: "interrupt",
        rate: 0.7,
        step: (m) => (trace.push(`<timer after ${m.output.length}>`), "idle"),
      });
      const withActor = run(programs.two, { seed }, (_ns, trace) => [timer(trace)]);
      expect(withActor.m.schedule).toBe(plain.m.schedule);
      expect(withActor.m.output).toEqual(plain.m.output);
      expect(withActor.trace.some((l) => l.startsWith("<"))).toBe(true);
      // The replay string carries the seed, from which the actors' stream is derived again.
      const replayed = run(programs.two, { replay: withActor.m.schedule }, (_ns, trace) => [timer(trace)]);
      expect(replayed.ub).toEqual([]);
      expect(replayed.trace).toEqual(withActor.trace);
    }
  });

  test("rate 1 steps the actor at every decision, rate 0 never while a thread can run", () => {
    const count = (rate: number) => {
      let n = 0;
      const r = run(programs.two, { seed: 2 }, () => [{ name: "t", kind: "interrupt", rate, step: () => (n++, "idle") }]);
      expect(r.ub).toEqual([]);
      return { n, decisions: r.m.policy.length };
    };
    const always = count(1);
    expect(always.n).toBe(always.decisions);
    expect(count(0).n).toBe(0);
  });

  test("addActor refuses what is not an actor, and the same actor twice", () => {
    const m = new Machine(programs.two.program, checkedRuntime, {});
    const a: Actor = { name: "d", kind: "device", step: () => "idle" };
    expect(() => m.addActor({ ...a, kind: "cpu" as "device" })).toThrow(TypeError);
    expect(() => m.addActor({ ...a, rate: 2 })).toThrow(/rate/);
    expect(() => m.addActor({ ...a, name: "" })).toThrow(TypeError);
    m.addActor(a);
    expect(() => m.addActor(a)).toThrow(/already registered/);
    expect(m.actors).toEqual([a]);
  });
});

describe("deadlock detection with actors", () => {
  test("a thread spinning on a flag only a busy device sets is not a deadlock; without the device it is", () => {
    // rate 0: the device steps only when no thread can run, so it is what ends the wait.
    const withDevice = run(programs.spin, { seed: 1 }, (ns, trace) => [flagDevice(ns, trace, { rate: 0 })]);
    expect(withDevice.ub).toEqual([]);
    expect(withDevice.panic).toBeUndefined();
    expect(withDevice.trace.at(-1)).toBe("main: the device is done");
    const steps = withDevice.trace.filter((l) => l.startsWith("<"));
    expect(steps).toEqual(["<doorbell beside main (spinning)>", "<doorbell beside main (spinning)>", "<doorbell beside main (spinning)>"]);

    const without = run(programs.spin, { seed: 1 });
    expect(without.ub.map((u) => [u.kind, u.title, u.label])).toEqual([["deadlock", "deadlock", "thread got stuck here"]]);
    expect(without.ub[0].location.line).toBe(11); // the spin_loop
    expect(without.trace).not.toContain("main: the device is done");
  });

  test("a step that returns \"progress\" wakes the spinning threads; \"idle\" does not", () => {
    const postman = (progress: boolean) => (ns: Record<string, unknown>): Actor[] => {
      const box = ns.mailbox as { ready: boolean };
      return [
        {
          name: "postman",
          kind: "device",
          rate: 0,
          step: () => {
            box.ready = true;
            return progress ? "progress" : "idle";
          },
          quiescent: () => box.ready,
        },
      ];
    };
    const woken = run(programs.mailbox, { seed: 0 }, postman(true));
    expect(woken.ub).toEqual([]);
    expect(woken.m.output).toEqual(["main: mail"]);
    // The mail is there, but nobody told the spinning thread: it still waits, and the device is idle.
    const idle = run(programs.mailbox, { seed: 0 }, postman(false));
    expect(idle.ub.map((u) => u.kind)).toEqual(["deadlock"]);
  });

  test("a quiescent device does not hold off the deadlock", () => {
    const r = run(programs.spin, { seed: 1 }, (ns, trace) => [flagDevice(ns, trace, { work: 0, rate: 0 })]);
    expect(r.ub.map((u) => u.kind)).toEqual(["deadlock"]);
    expect(r.trace.filter((l) => l.startsWith("<"))).toEqual([]);
  });

  test("a device that stays busy but never wakes a thread ends in a deadlock naming it", () => {
    let steps = 0;
    const r = run(programs.spin, { seed: 1 }, () => [
      { name: "stuck-nic", kind: "device", rate: 0, step: () => (steps++, "idle"), quiescent: () => false },
    ]);
    expect(r.ub.map((u) => u.kind)).toEqual(["deadlock"]);
    expect(r.ub[0].notes!.some((n) => n.includes("device `stuck-nic` still had work in flight"))).toBe(true);
    expect(steps).toBe(STALL_ROUNDS);
  });
});

describe("an actor's findings", () => {
  test("a report made by an actor's step stops the run with that finding", () => {
    let steps = 0;
    const r = run(programs.two, { seed: 4 }, () => [
      {
        name: "nic",
        kind: "device",
        rate: 1,
        step(m) {
          if (++steps === 2) m.report("dma", "the device wrote outside the buffer mapped for it", { title: "DMA violation", label: "the device was kicked here" });
          return "idle";
        },
      },
    ]);
    expect(r.ub).toHaveLength(1);
    const u = r.ub[0];
    expect([u.kind, u.title, u.message]).toEqual(["dma", "DMA violation", "the device wrote outside the buffer mapped for it"]);
    expect(u.notes![0]).toMatch(/^this was found by device `nic`, which ran at a scheduling point of thread `(main|cpu1)`$/);
    expect(r.m.stopped?.message).toContain("the device wrote outside the buffer");
    expect(steps).toBe(2); // the run stopped: no step after the report
    expect(r.m.output).not.toContain("end");
    expect(r.panic).toBeUndefined();
  });

  test("anything else an actor throws is kmiri's internal error", () => {
    const r = run(programs.two, { seed: 4 }, () => [
      {
        name: "buggy",
        kind: "device",
        rate: 1,
        step: () => {
          throw new RangeError("device model bug");
        },
      },
    ]);
    expect(r.ub.map((u) => [u.kind, u.title, u.message])).toEqual([["unsupported", "internal error in kmiri", "RangeError: device model bug"]]);
    expect(r.ub[0].notes).toContain("this was found by device `buggy`, which ran at a scheduling point of thread `main`");
  });
});

describe("the end of the run", () => {
  test("an actor left with pending work is a leak naming it; ignoreLeaks turns that off", () => {
    const device = (): Actor => ({
      name: "dma0",
      kind: "device",
      step: () => "idle",
      pending: () => "1 transfer in flight",
    });
    const r = run(programs.two, { seed: 0 }, () => [device()]);
    expect(r.ub).toHaveLength(1);
    const u = r.ub[0];
    expect(u.kind).toBe("leak");
    expect(u.message).toBe("device `dma0` still had work outstanding when the program ended: 1 transfer in flight");
    expect(u.label).toBe("device `dma0` was registered here");
    expect(u.location).toMatchObject({ file: programs.two.display, line: 1, column: 1 });
    expect(r.m.output.at(-1)).toBe("end"); // reported after main ended

    expect(run(programs.two, { seed: 0, ignoreLeaks: true }, () => [device()]).ub).toEqual([]);
  });

  test("an actor is not a thread: no thread leak, and nothing pending is no finding", () => {
    const r = run(programs.two, { seed: 0 }, () => [{ name: "idle-dev", kind: "device", step: () => "idle", pending: () => null }]);
    expect(r.ub).toEqual([]);
    expect(r.m.threads.map((t) => t.name)).toEqual(["main", "cpu1"]);
  });

  test("a device that finished its work before main returned is no leak", () => {
    const r = run(programs.spin, { seed: 5 }, (ns, trace) => [flagDevice(ns, trace)]);
    expect(r.ub).toEqual([]);
    expect(r.m.actors[0].pending!()).toBeNull();
  });
});
