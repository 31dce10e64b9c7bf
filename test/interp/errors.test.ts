// Hardening (issue 10): whatever the program throws — a Proxy, a revoked Proxy, an error whose
// getters throw, a Symbol — and whatever it does to stack traces (`Error.prepareStackTrace`, the
// global `Error`) is a panic at the program's line, never kmiri's internal error; kmiri runs none
// of the program's code to describe it. And promises, microtasks and timers, whose callbacks would
// run after the run ended unchecked, are reported `unsupported` where they are queued.
import { guestRealm } from "../../src/interp/guest-realm.js";
import { describe, expect, test } from "vitest";
import { createMachine } from "../../src/driver/create-machine.js";
import { describeThrown, isInstance, isStackOverflowError, raisedByKmiri, stackOf } from "../../src/interp/error-location.js";
import { LoadError } from "../../src/interp/loader/index.js";
import type { RunResult } from "../../src/driver/results.js";

/**
 * The cases marked `machine` need the Machine itself to read thrown values through
 * error-location.ts (`settle`, `caught`, `panicFromException`).
 */

const run = (source: string): Promise<RunResult> => createMachine().run({ source, fileName: "throws.ts" });

/** A panic at `line`, exit status 1, no report (above all no internal error). */
function expectPanic(r: RunResult, line: number, message: RegExp, thread = "main"): void {
  expect(r.ub.map((u) => `${u.title}: ${u.message}`)).toEqual([]);
  expect(r.exitCode).toBe(1);
  const panic = thread === "main" ? r.panic : r.threadPanics?.find((p) => p.thread === thread);
  expect(panic?.message).toMatch(message);
  expect(panic?.location?.file).toBe("throws.ts");
  expect(panic?.location?.line).toBe(line);
}

interface ThrowCase {
  name: string;
  source: string;
  line: number;
  message: RegExp;
  /** Exercises the Machine's own reading of thrown values (settle, caught, panicFromException). */
  machine?: boolean;
}

const CASES: ThrowCase[] = [
  {
    name: "a Proxy whose get trap throws",
    source: `export function main(): void {
  throw new Proxy({}, { get() { throw 1; } });
}`,
    line: 2,
    message: /^a Proxy/,
    machine: true,
  },
  {
    name: "a Proxy of an Error whose get trap throws",
    source: `export function main(): void {
  const e = new Error("inner");
  throw new Proxy(e, { get() { throw 1; } });
}`,
    line: 3,
    message: /^a Proxy/,
    machine: true,
  },
  {
    name: "a revoked Proxy",
    source: `export function main(): void {
  const r = Proxy.revocable({}, {});
  r.revoke();
  throw r.proxy;
}`,
    line: 4,
    message: /^a Proxy/,
    machine: true,
  },
  {
    name: "a revoked Proxy and a Proxy whose getPrototypeOf trap throws, caught by the program, then an object whose prototype is revoked",
    source: `export function main(): void {
  const r = Proxy.revocable({}, {});
  r.revoke();
  try { throw r.proxy; } catch (e) { console.log("caught 1"); }
  const p = new Proxy({}, { getPrototypeOf() { throw new Error("trap"); } });
  try { throw p; } catch { console.log("caught 2"); }
  throw Object.create(r.proxy);
}`,
    line: 7,
    message: /^an object \(kmiri does not run/,
    machine: true,
  },
  {
    name: "`throw Symbol()`",
    source: `export function main(): void {
  throw Symbol("s");
}`,
    line: 2,
    message: /^Symbol\(s\)$/,
  },
  {
    name: "an object whose toString throws",
    source: `export function main(): void {
  throw { toString() { throw 2; } };
}`,
    line: 2,
    message: /^\{ toString: \[Function: toString\] \}$/,
  },
  {
    name: "an object whose inspect hook throws",
    source: `export function main(): void {
  throw { a: 1, [Symbol.for("nodejs.util.inspect.custom")]() { throw 2; } };
}`,
    line: 2,
    message: /a: 1/,
    machine: true,
  },
  {
    name: "an object whose Symbol.toStringTag getter throws",
    source: `class Weird { get [Symbol.toStringTag](): string { throw 9; } }
export function main(): void {
  throw new Weird();
}`,
    line: 3,
    message: /^an object of class `Weird`/,
    machine: true,
  },
  {
    name: "an error whose message getter throws",
    source: `export function main(): void {
  const e = new Error("m");
  Object.defineProperty(e, "message", { get() { throw 3; } });
  throw e;
}`,
    line: 4,
    message: /^\[`message` is a getter, not called\]$/,
    machine: true,
  },
  {
    name: "an error whose name getter throws",
    source: `export function main(): void {
  const e = new TypeError("m");
  Object.defineProperty(e, "name", { get() { throw 3; } });
  throw e;
}`,
    line: 4,
    message: /^\[`name` is a getter, not called\]: m$/,
    machine: true,
  },
  {
    name: "an error whose stack getter throws",
    source: `export function main(): void {
  const e = new Error("m");
  Object.defineProperty(e, "stack", { get() { throw 3; } });
  throw e;
}`,
    line: 4,
    message: /^m$/,
  },
  {
    name: "a RangeError look-alike of a stack overflow whose message getter throws",
    source: `class Overflow extends RangeError { get message(): string { throw 4; } }
export function main(): void {
  throw new Overflow();
}`,
    line: 3,
    message: /^RangeError: \[`message` is a getter, not called\]$/,
    machine: true,
  },
  {
    // The program's realm is frozen (guest-realm.ts): installing a stack formatter is refused.
    name: "a throwing Error.prepareStackTrace, then a TypeError V8 raises in the program",
    source: `export function main(): void {
  (Error as any).prepareStackTrace = () => { throw new Error("pst"); };
  try {
    const o: any = null;
    o.x = 1;
  } finally {
    (Error as any).prepareStackTrace = undefined;
  }
}`,
    line: 2,
    message: /^TypeError: Cannot add property prepareStackTrace, object is not extensible$/,
  },
  {
    name: "a throwing Error.prepareStackTrace, then an error the program throws",
    source: `export function main(): void {
  (Error as any).prepareStackTrace = () => { throw new Error("pst"); };
  try {
    throw new Error("boom");
  } finally {
    (Error as any).prepareStackTrace = undefined;
  }
}`,
    line: 2,
    message: /^TypeError: Cannot add property prepareStackTrace, object is not extensible$/,
  },
  {
    name: "an Error.prepareStackTrace that forges kmiri's frames",
    source: `function f(): void {
  const o: any = undefined;
  o.x = 1;
}
export function main(): void {
  (Error as any).prepareStackTrace = () => "TypeError: x\\n    at kmiri (/kmiri/dist/interp/machine.js:1:1)";
  try {
    f();
  } finally {
    (Error as any).prepareStackTrace = undefined;
  }
}`,
    line: 6,
    message: /^TypeError: Cannot add property prepareStackTrace, object is not extensible$/,
  },
  {
    name: "a global `Error` replaced by one whose prepareStackTrace getter throws",
    source: `export function main(): void {
  const real = Error;
  (globalThis as any).Error = { get prepareStackTrace() { throw new real("getter"); } };
  try {
    const o: any = null;
    o.x = 1;
  } finally {
    (globalThis as any).Error = real;
  }
}`,
    line: 3,
    message: /^TypeError: Cannot assign to read only property 'Error' of object/,
  },
];

describe("whatever the program throws is a panic at its line", () => {
  for (const c of CASES) {
    test(c.name, async () => {
      expectPanic(await run(c.source), c.line, c.message);
    });
  }

  test("a revoked Proxy thrown by a spawned thread: its panic, and `main`'s at the join", async () => {
    const r = await run(`import { spawn } from "kmiri/rt";
function worker(): void {
  const r = Proxy.revocable({}, {});
  r.revoke();
  throw r.proxy;
}
export function main(): void {
  spawn(worker).join();
}`);
    expectPanic(r, 5, /^a Proxy/, "cpu1");
    expect(r.panic?.location?.line).toBe(8);
  });

  test("a program cannot install an Error.prepareStackTrace: its realm's `Error` is frozen", async () => {
    const r = await run(`export function main(): void {
  (Error as any).prepareStackTrace = () => { throw new Error("pst"); };
  const o: any = null;
  o.x = 1;
}`);
    expectPanic(r, 2, /^TypeError: Cannot add property prepareStackTrace, object is not extensible$/);
  });
});

describe("promises, microtasks and timers are reported where they are queued", () => {
  /** An `unsupported` report at `line`, exit status 1, and the queued callback never ran. */
  async function expectRefused(source: string, line: number, what: string): Promise<void> {
    // The program's `globalThis` is its realm's (guest-realm.ts).
    const g = guestRealm().global as { kmiriLate?: string };
    const r = await run(source);
    expect(r.ub).toHaveLength(1);
    expect(r.ub[0]).toMatchObject({ kind: "unsupported", title: "unsupported operation", location: { file: "throws.ts", line } });
    expect(r.ub[0].message).toContain(what);
    expect(r.ub[0].message).toContain("the Machine runs threads, use `spawn` and `join`");
    expect(r.exitCode).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(g.kmiriLate).toBeUndefined();
  }

  const LATE = `(globalThis as any).kmiriLate = "ran"`;

  test("`Promise.resolve().then(...)`", async () => {
    await expectRefused(`export function main(): void {
  const x = 1;
  Promise.resolve(x).then(() => { ${LATE}; });
}`, 3, "`Promise.resolve`");
  });

  test("`new Promise(...)`", async () => {
    await expectRefused(`export function main(): void {
  new Promise<void>((resolve) => { resolve(); });
}`, 2, "`new Promise`");
  });

  test("`Promise.prototype.then.call(...)` on the program's `Promise`", async () => {
    await expectRefused(`export function main(): void {
  (Promise.prototype.then as any).call({}, () => { ${LATE}; });
}`, 2, "`Promise.prototype.then`");
  });

  test("no real promise is reachable: the program's realm has no `Promise` global, in `main` or in a thread", async () => {
    for (const source of [
      `export function main(): void {
  const p = (globalThis as any).Promise.resolve(1);
  p.then(() => { ${LATE}; });
}`,
      `import { spawn } from "kmiri/rt";
function worker(): void {
  const p = (globalThis as any).Promise.resolve(1);
  p["finally"](() => { ${LATE}; });
}
export function main(): void {
  spawn(worker).join();
}`,
    ]) {
      const r = await run(source);
      expect(r.ub).toEqual([]);
      expect(r.panic?.message).toMatch(/TypeError: Cannot read properties of undefined \(reading 'resolve'\)$/);
      expect(r.exitCode).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect((guestRealm().global as { kmiriLate?: string }).kmiriLate).toBeUndefined();
    }
  });

  test("`queueMicrotask` and the timers", async () => {
    await expectRefused(`export function main(): void {
  queueMicrotask(() => { ${LATE}; });
}`, 2, "`queueMicrotask`");
    for (const timer of ["setTimeout", "setInterval", "setImmediate"]) {
      await expectRefused(`export function main(): void {
  ${timer}(() => { ${LATE}; }, 0);
}`, 2, `\`${timer}\``);
    }
  });

  test("a thenable of the program's own is plain code", async () => {
    const source = `export function main(): void {
  const t = { then(f: (v: number) => void): void { f(5); } };
  t.then((v) => console.log("got", v));
}`;
    const r = await run(source);
    expect(r.ub).toEqual([]);
    expect(r.output).toEqual(["got 5"]);
  });

  test("async functions, `await` and `for await` are rejected at compile time, at their line", async () => {
    const cases: [string, number, string][] = [
      ["export async function main(): Promise<void> {}\n", 1, "an async function"],
      ["const f = async () => 1;\nexport function main(): void {}\n", 1, "an async function"],
      ["export function main(): void {}\nclass A {\n  async m(): Promise<void> {}\n}\n", 3, "an async function"],
      ["export function main(): void {}\nawait 1;\n", 2, "`await`"],
    ];
    for (const [source, line, what] of cases) {
      let error: unknown;
      try {
        await run(source);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(LoadError);
      const e = error as LoadError;
      expect(e.reason).toBe("unsupported");
      expect(e.message).toContain(what);
      expect(e.message).toContain("promises and microtasks are not supported: the Machine runs threads, use `spawn` and `join`");
      expect(e.location?.line).toBe(line);
    }
  });
});

describe("error-location reads thrown values without running program code", () => {
  type Hooks = { prepareStackTrace?: unknown };
  const E = Error as unknown as Hooks;

  test("an error raised in kmiri's code (a file frame) is kmiri's, whatever Error.prepareStackTrace says; the hook is put back", () => {
    const calls: string[] = [];
    const hostile = () => {
      calls.push("called");
      throw new Error("pst");
    };
    E.prepareStackTrace = hostile;
    try {
      const e = new TypeError("kmiri bug");
      expect(raisedByKmiri(e)).toBe(true);
      expect(stackOf(e)).toMatch(/^TypeError: kmiri bug\n {4}at /);
      expect(E.prepareStackTrace).toBe(hostile);
      expect(calls).toEqual([]);
    } finally {
      delete E.prepareStackTrace;
    }
    expect(Object.getOwnPropertyDescriptor(Error, "prepareStackTrace")).toBeUndefined();
  });

  test("a Proxy, a revoked Proxy, a non-error, an error with a `stack` getter: no stack, not kmiri's", () => {
    const revocable = Proxy.revocable(new Error("x"), {});
    revocable.revoke();
    const getter = new Error("g");
    Object.defineProperty(getter, "stack", { get: () => { throw new Error("stack getter ran"); } });
    for (const v of [new Proxy(new Error("p"), { get: () => { throw 1; } }), revocable.proxy, { stack: "at /x.js:1:1" }, getter, Symbol("s"), null]) {
      expect(stackOf(v)).toBeUndefined();
      expect(raisedByKmiri(v)).toBe(false);
    }
  });

  test("descriptions never call a getter, a trap, toString or an inspect hook", () => {
    const ran: string[] = [];
    const trap = new Proxy({}, { get: () => { ran.push("get"); return 1; }, getPrototypeOf: () => { ran.push("proto"); return null; } });
    const msg = new RangeError("m");
    Object.defineProperty(msg, "message", { get: () => { ran.push("message"); return "x"; } });
    const tagged = { get [Symbol.toStringTag]() { ran.push("tag"); return "T"; } };
    const custom = { a: 1, [Symbol.for("nodejs.util.inspect.custom")]: () => { ran.push("inspect"); return "I"; } };
    expect(describeThrown(trap)).toMatch(/^a Proxy/);
    expect(describeThrown(msg)).toBe("RangeError: [`message` is a getter, not called]");
    expect(describeThrown(tagged)).toMatch(/^an object/);
    expect(describeThrown(custom)).toMatch(/a: 1/);
    expect(describeThrown(Symbol("s"))).toBe("Symbol(s)");
    expect(describeThrown(new TypeError("t"))).toBe("TypeError: t");
    expect(describeThrown(new Error("plain"))).toBe("plain");
    expect(isInstance(trap, Error)).toBe(false);
    expect(isStackOverflowError(msg)).toBe(false);
    expect(ran).toEqual([]);
  });

  test("a real stack overflow is one", () => {
    let overflow: unknown;
    const deep = (n: number): number => deep(n + 1) + 1;
    try {
      deep(0);
    } catch (e) {
      overflow = e;
    }
    expect(isStackOverflowError(overflow)).toBe(true);
  });
});
