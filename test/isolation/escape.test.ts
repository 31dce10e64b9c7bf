/**
 * Escape, forgery and hang attempts (issue 10): programs that try to reach the host, change
 * kmiri's verdict, break kmiri or run forever. Each runs on the real engine, in this process (the
 * library, no process flags: the program's realm alone must hold) or through the `kmiri` command
 * (the hardened child process of bin/kmiri.js). For every attempt: nothing of the host changed
 * (the canary `globalThis.KMIRI_ESCAPED` of kmiri's realm stays unset, no file is written), the
 * verdict is what the program deserves (its UB reported, exit status non-zero), the error is the
 * program's with a location (never "internal error"), and the run ends.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, test } from "vitest";
import { createMachine } from "../../src/driver/create-machine.js";
import type { RunResult } from "../../src/driver/results.js";
import { guestRealm } from "../../src/interp/guest-realm.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = path.join(ROOT, "bin/kmiri.js");
const host = globalThis as { KMIRI_ESCAPED?: unknown };

/** Code that marks an escape: run by a host `Function`, it sets the canary on kmiri's realm. */
const PAYLOAD = `"globalThis.KMIRI_ESCAPED = 1; return 1"`;

/** The run options of the in-process attempts: small limits, so that a hang is a report. */
const LIMITS = { maxSteps: 2_000_000, timeoutMs: 10_000, typecheck: false } as object;

async function run(source: string, options: object = {}): Promise<RunResult> {
  return createMachine().run({ source, fileName: "attempt.ts" }, { ...LIMITS, ...options });
}

/** The program's failure as one line: `KIND: message` of its report, or `panic: message`. */
function failure(r: RunResult): string {
  if (r.ub.length > 0) return `${r.ub[0].kind}: ${r.ub[0].message}`;
  if (r.panic) return `panic: ${r.panic.message}`;
  return "none";
}

afterEach(() => {
  const escaped = host.KMIRI_ESCAPED;
  delete host.KMIRI_ESCAPED;
  expect(escaped).toBeUndefined();
});

interface Attempt {
  name: string;
  /** The body of `main` (rt names imported: see HEADER). */
  body: string;
  /** What the run must end with (see {@link failure}); `clean` for a run without error. */
  expect: RegExp | "clean";
  /** Top-level code before `main`. */
  top?: string;
}

const HEADER = `import { alloc, alloc_zeroed, dealloc, Box, u32, u8, struct, array, spawn, local, static_, null_mut, ptr_from_exposed } from "kmiri/rt";\n`;

/** A program-side `try` that turns any error into its name (so an attempt that fails cleanly prints it). */
const ATTEMPTS: Attempt[] = [
  // ── reaching a Function that compiles code ──
  { name: "a shim method's constructor", body: `(Box.new(u32, 1).read as any).constructor(${PAYLOAD})();`, expect: /^panic: EvalError: Code generation from strings disallowed/ },
  { name: "a string method's constructor", body: `("".sub as any).constructor(${PAYLOAD})();`, expect: /^panic: EvalError/ },
  { name: "the global Function", body: `Function(${PAYLOAD})();`, expect: /^panic: EvalError/ },
  { name: "indirect eval", body: `(0, eval)("1");`, expect: /^panic: ReferenceError: eval is not defined/ },
  { name: "console.log's constructor", body: `(console.log as any).constructor(${PAYLOAD})();`, expect: /^panic: EvalError/ },
  { name: "console's constructor's constructor", body: `(console as any).constructor.constructor(${PAYLOAD})();`, expect: /^panic: EvalError/ },
  { name: "Math.random's constructor", body: `(Math.random as any).constructor(${PAYLOAD})();`, expect: /^panic: EvalError/ },
  { name: "a raw pointer's class", body: `unsafe: { const p = alloc(u32); (p as any).constructor.constructor(${PAYLOAD})(); }`, expect: /^panic: EvalError/ },
  { name: "a built-in layout's class", body: `(u32 as any).constructor.constructor(${PAYLOAD})();`, expect: /^panic: EvalError/ },
  { name: "a layout made at run time, through its records", body: `const S = struct("S", { a: u32, b: u8 }) as any; for (const k of Object.keys(S)) { const v = S[k]; if (v && typeof v === "object") v.constructor.constructor(${PAYLOAD})(); } throw new Error("looked");`, expect: /^panic: (EvalError|looked)/ },
  { name: "a struct value read from memory", body: `const S = struct("S", { a: u32 }); const b = Box.new(S, { a: 1 }); const v = b.read() as any; b.drop(); v.constructor.constructor(${PAYLOAD})();`, expect: /^panic: EvalError/ },
  { name: "an array value read from memory", body: `const b = Box.new(array(u8, 2), [1, 2]); const v = b.read() as any; b.drop(); v.constructor.constructor(${PAYLOAD})();`, expect: /^panic: EvalError/ },
  { name: "a join handle's class", body: `const h = spawn(() => 1) as any; h.join(); h.constructor.constructor(${PAYLOAD})();`, expect: /^panic: EvalError/ },
  { name: "a promise's constructor (the reporting stub)", body: `(Promise as any).constructor(${PAYLOAD})();`, expect: /^panic: EvalError/ },
  { name: "a namespace getter of kmiri/rt", top: `import * as rt from "kmiri/rt";\n`, body: `const d = Object.getOwnPropertyDescriptor(rt, "u32") as any; (d.get ?? d.value.constructor).constructor(${PAYLOAD})();`, expect: /^panic: EvalError/ },
  { name: "an error kmiri raised, caught", body: `unsafe: { try { (null_mut(u32) as any).read.call(undefined); } catch (e: any) { e.constructor.constructor(${PAYLOAD})(); } }`, expect: /^(panic: (EvalError|TypeError)|unsupported)/ },
  // ── reaching the engine through the objects it hands out ──
  { name: "a pointer's provenance (the allocation, the memory, the Machine)", body: `unsafe: { const p = alloc(u32) as any; if (p.provenance !== undefined || p.tag !== undefined) throw new Error("reached"); dealloc(p, u32); }`, expect: "clean" },
  { name: "a join handle's thread", body: `const h = spawn(() => 1) as any; if (h.thread !== undefined) throw new Error("reached"); h.join();`, expect: "clean" },
  { name: "every own property of a pointer", body: `unsafe: { const p = alloc(u32); const keys = Reflect.ownKeys(p).map(String).sort().join(","); dealloc(p, u32); if (keys !== "address,layout") throw new Error(keys); }`, expect: "clean" },
  { name: "a forged pointer (the constructor with a made-up allocation)", body: `unsafe: { const p = alloc(u32) as any; const q = new p.constructor(p.address, { base: p.address, size: 4, live: true }, u32, 0); q.write(1); }`, expect: /^unsupported: a `Ptr` constructed by the program/ },
  { name: "a forged join handle", body: `const h = spawn(() => 1) as any; h.join(); new h.constructor({ state: "done", result: 5 }).join();`, expect: /^unsupported: a `JoinHandle` constructed by the program/ },
  { name: "a reference given another's tag (assigned)", body: `unsafe: { const raw = alloc(u32); raw.write(0); const first = raw.as_mut() as any; const second = raw.as_mut() as any; second.write(1); first.tag = second.tag; first.write(2); }`, expect: /^stacked-borrows/ },
  { name: "a reference constructed with a made-up tag", top: `import { Ref } from "kmiri/rt";
`, body: `unsafe: { const raw = alloc(u32); raw.write(0); const first = raw.as_mut(); const second = raw.as_mut(); second.write(1); const forged = new (Ref as any)(raw, 2); if (forged.tag !== undefined) throw new Error("tag visible"); first.write(2); }`, expect: /^stacked-borrows/ },
  { name: "a forged static (the constructor, made mutable)", body: `const s = static_(u32, 1) as any; new s.constructor(u32, s.as_ptr(), 1, true, "X").write(5);`, expect: /^unsupported: a `Static` constructed by the program/ },
  { name: "a forged local (the constructor with another slot's pointer)", body: `const x = local(u32, 1) as any; new x.constructor(u32, x.as_ptr(), 1);`, expect: /^unsupported: a `Local` constructed by the program/ },
  { name: "kmiri's internal hooks through the namespace of kmiri/rt", top: `import * as rt from "kmiri/rt";\n`, body: `const names = ["setValueRealm", "setLayoutErrorReporter", "setDefaultLayoutMemory", "fieldOf", "throughUninit", "describeValue"].filter((n) => n in rt); if (names.length) throw new Error(names.join()); (rt as any).setValueRealm(Array, Object.prototype);`, expect: /^panic: TypeError/ },
  { name: "a stack-trace formatter to read kmiri's frames", body: `(Error as any).prepareStackTrace = (_e: unknown, f: unknown) => f; new Error().stack;`, expect: /^panic: TypeError: Cannot add property prepareStackTrace, object is not extensible/ },
  // ── Mirch: what its shims hand out ──
  { name: "a shipped device model's state (the virtio disk)", top: `import { virtio_device } from "kmiri/mirch";\n`, body: `const m = virtio_device() as any; if (m.disk !== undefined) m.disk.buffer.constructor.constructor(${PAYLOAD})(); m.run.constructor(${PAYLOAD})();`, expect: /^panic: EvalError/ },
  { name: "a device context's DMA buffer", top: `import { attach_device, io_mem_claim, phys_ptr } from "kmiri/mirch";\n`, body: `const d = attach_device({ name: "x", mmio_write(_o: number, _s: number, _v: unknown, dev: any) { dev.constructor.constructor(${PAYLOAD})(); } } as any, { mmio_len: 4096 }); io_mem_claim(d.mmio!.paddr, 4); unsafe: { phys_ptr(d.mmio!.paddr, u32).write_volatile(1); }`, expect: /^panic: EvalError/ },
  { name: "Mirch's namespace objects and results", top: `import * as M from "kmiri/mirch";\n`, body: `for (const v of [M.iommu.map, M.PteFlags, M.memory_regions(), M.page_state(0), M.alloc_irq_line(), M.cpu_local(u32, 0)]) (v as any).constructor.constructor(${PAYLOAD})();`, expect: /^panic: EvalError/ },
  // ── the host's globals ──
  { name: "process", body: `(globalThis as any).process.exit(0);`, expect: /^panic: TypeError: Cannot read properties of undefined \(reading 'exit'\)/ },
  { name: "require", body: `(0, (globalThis as any).require)("node:fs");`, expect: /^panic: TypeError/ },
  { name: "process by its name", body: `// @ts-ignore\nprocess.env.X = "1";`, expect: /^panic: ReferenceError: process is not defined/ },
  { name: "Atomics.wait (a blocking wait)", body: `// @ts-ignore\nAtomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);`, expect: /^panic: ReferenceError: (Atomics|SharedArrayBuffer) is not defined/ },
  { name: "WebAssembly", body: `// @ts-ignore\nWebAssembly.compile(new Uint8Array(8));`, expect: /^panic: ReferenceError: WebAssembly is not defined/ },
  { name: "a FinalizationRegistry callback", body: `// @ts-ignore\nnew FinalizationRegistry(() => {}).register({}, 1);`, expect: /^panic: ReferenceError: FinalizationRegistry is not defined/ },
  { name: "a timer", body: `setTimeout(() => { (globalThis as any).KMIRI_ESCAPED = 1; }, 0);`, expect: /^unsupported: `setTimeout` queues a callback/ },
  { name: "a microtask", body: `queueMicrotask(() => { (globalThis as any).KMIRI_ESCAPED = 1; });`, expect: /^unsupported: `queueMicrotask` queues a callback/ },
  { name: "new Promise", body: `new Promise<void>((r) => r());`, expect: /^unsupported: `new Promise` queues a callback/ },
  // ── changing what kmiri or the next program sees ──
  { name: "replacing Array.prototype.push", body: `Array.prototype.push = function () { return 0; };`, expect: /^panic: TypeError: Cannot assign to read only property 'push'/ },
  { name: "replacing JSON.stringify", body: `JSON.stringify = () => "{}";`, expect: /^panic: TypeError: Cannot assign to read only property 'stringify'/ },
  { name: "replacing the global JSON", body: `(globalThis as any).JSON = {};`, expect: /^panic: TypeError: Cannot assign to read only property 'JSON'/ },
  { name: "a setter on Object.prototype", body: `Object.defineProperty(Object.prototype, "ub", { set() {} });`, expect: /^panic: TypeError: Cannot define property ub, object is not extensible/ },
  { name: "console.log's output formatting through an inspect hook", body: `const o = { [Symbol.for("nodejs.util.inspect.custom")]: (_d: unknown, _o: unknown, inspect: any) => inspect.constructor(${PAYLOAD})() }; console.log(o);`, expect: "clean" },
  // ── hiding undefined behaviour ──
  { name: "catching a use after free", body: `unsafe: { const p = alloc(u32); dealloc(p, u32); try { p.read(); } catch { } }`, expect: /^use-after-free/ },
  { name: "exiting before the bug", body: `try { (globalThis as any).process.exit(0); } catch { } unsafe: { const p = alloc(u32); dealloc(p, u32); p.read(); }`, expect: /^use-after-free/ },
  { name: "a leak hidden by a finally that loops", body: `unsafe: { alloc(u32); } try { throw 1; } finally { for (;;) { } }`, expect: /^resource-exhaustion/ },
  // ── mistakes are the program's, at their line (never kmiri's internal error) ──
  { name: "a fractional pointer offset", body: `unsafe: { const p = alloc(u32); p.add(1.5); }`, expect: /^unsupported: mismatched types: expected an integer for `Ptr::add`, found floating-point number `1.5`/ },
  { name: "alloc of no layout", body: `unsafe: { alloc(undefined as any); }`, expect: /^unsupported: mismatched types/ },
  { name: "an array of negative length", body: `array(u8, -5);`, expect: /^(unsupported|panic)/ },
  { name: "an array of fractional length", body: `array(u8, 2.5);`, expect: /^(unsupported|panic)/ },
  { name: "a u32 written with a string", body: `const b = Box.new(u32, "7" as any); b.drop();`, expect: /^unsupported: mismatched types: expected `u32`/ },
  { name: "a revoked Proxy thrown", body: `const r = Proxy.revocable({}, {}); r.revoke(); throw r.proxy;`, expect: /^panic: a Proxy/ },
  { name: "a method called on a foreign object", body: `unsafe: { const p = alloc(u32); (p.read as any).call({}); }`, expect: /^unsupported: a method of `kmiri\/rt` called on a value that is not the object it belongs to/ },
  { name: "a detached join", body: `const h = spawn(() => 1); const j = h.join; (j as any)();`, expect: /^unsupported: a method of `kmiri\/rt` called on a value that is not/ },
  { name: "Box.leak of no box", body: `Box.leak(3 as any);`, expect: /^unsupported: mismatched types: `Box::leak` expects a `Box`, found number `3`/ },
  { name: "local of no layout", body: `local(undefined as any);`, expect: /^unsupported: mismatched types: expected a layout .* of `local`, found `undefined`/ },
  { name: "static_ of no layout, with null options", body: `static_(7 as any, 1, null as any);`, expect: /^unsupported: mismatched types: expected a layout .* of `static_`/ },
  { name: "a bigint ordering", top: `import { fence } from "kmiri/rt";\n`, body: `fence(1n as any);`, expect: /^unsupported: mismatched types: expected enum `Ordering`, found bigint `1n`/ },
  { name: "a struct with repr Rust", body: `struct("Bad", { a: u32 }, { repr: "Rust" as any });`, expect: /^unsupported: unrecognized representation hint/ },
  { name: "offset_of a Symbol", top: `import { offset_of } from "kmiri/rt";\n`, body: `offset_of(struct("S", { a: u32 }), Symbol() as any);`, expect: /^unsupported: no field a symbol on type `S`/ },
  { name: "a panic whose message is a Symbol", top: `import { panic } from "kmiri/rt";\n`, body: `panic(Symbol("x") as any);`, expect: /^panic: Symbol\(x\)/ },
  // ── running forever, or too big ──
  { name: "an endless loop", body: `for (;;) { }`, expect: /^resource-exhaustion/ },
  { name: "endless recursion", body: `const f = (n: number): number => f(n + 1) + 1; f(0);`, expect: /^resource-exhaustion/ },
  { name: "code built from a string that loops", body: `Function("for (;;) {}")();`, expect: /^panic: EvalError/ },
  { name: "an allocation over the largest one", body: `unsafe: { alloc(array(u8, 2 ** 31)); }`, expect: /^resource-exhaustion/ },
];

describe("escape, forgery and hang attempts, in this process (the program's realm alone)", () => {
  test.each(ATTEMPTS.map((a) => [a.name, a] as const))("%s", async (_name, a) => {
    const r = await run(`${HEADER}${a.top ?? ""}export function main(): void {\n${a.body}\n}\n`);
    const got = failure(r);
    expect(got).not.toMatch(/internal error/);
    if (a.expect === "clean") expect(got).toBe("none");
    else {
      expect(got).toMatch(a.expect);
      expect(r.exitCode).not.toBe(0);
    }
  });

  test("a catastrophic regular expression (no loop tick) is stopped at its line by the time limit", async () => {
    const r = await run(`export function main(): void {\n  console.log(/^(a+)+$/.test("a".repeat(40) + "b"));\n}\n`, { timeoutMs: 500 });
    expect(failure(r)).toMatch(/^resource-exhaustion: the program ran for more than 0.5 s/);
    expect(r.ub[0].location).toMatchObject({ file: "attempt.ts", line: 2 });
  });

  test("a global variable one program sets is gone for the next", async () => {
    await run(`export function main(): void { (globalThis as any).leftover = 42; }`);
    const r = await run(`export function main(): void { console.log(String((globalThis as any).leftover)); }`);
    expect(r.output).toEqual(["undefined"]);
  });

  test("the program's realm is kmiri's guest realm, not kmiri's own", async () => {
    const r = await run(`export function main(): void { console.log(String(Object.getPrototypeOf([]) === Array.prototype)); }`);
    expect(r.output).toEqual(["true"]);
    expect(guestRealm().global.Array).not.toBe(Array);
  });
});

describe("through the kmiri command (its hardened process)", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  function cli(source: string, ...args: string[]): { code: number | null; out: string; err: string; dir: string } {
    dir = mkdtempSync(path.join(os.tmpdir(), "kmiri-escape-"));
    writeFileSync(path.join(dir, "attempt.ts"), source);
    const r = spawnSync(process.execPath, [BIN, "run", "attempt.ts", ...args], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
      timeout: 60_000,
    });
    return { code: r.status, out: r.stdout, err: r.stderr, dir };
  }

  test("no code from strings anywhere in the process: a file write through any Function fails", () => {
    const r = cli(`import { Box, u32 } from "kmiri/rt";
export function main(): void {
  const F = (Box.new(u32, 1).read as any).constructor;
  F("const fs = process.getBuiltinModule('node:fs'); fs.writeFileSync('escaped.txt', 'x')")();
}
`);
    expect(existsSync(path.join(r.dir, "escaped.txt"))).toBe(false);
    expect(r.code).toBe(1);
    expect(r.err).toContain("EvalError");
    expect(r.err).not.toContain("internal error");
  });

  test("a program that never reaches a loop tick (a catastrophic regular expression) ends with --timeout", () => {
    const r = cli(`export function main(): void {
  console.log(/^(a+)+$/.test("a".repeat(40) + "b"));
}
`, "--timeout", "1");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: resource exhaustion: the program ran for more than 1 s without finishing/);
    expect(r.err).toContain("--> attempt.ts:2:15");
  });

  test("UB followed by an attempt to exit 0: exit status 1, the report printed", () => {
    const r = cli(`import { alloc, dealloc, u32 } from "kmiri/rt";
export function main(): void {
  unsafe: {
    const p = alloc(u32);
    dealloc(p, u32);
    try { p.read(); } finally { (globalThis as any).process?.exit(0); }
  }
}
`);
    expect(r.code).toBe(1);
    expect(r.err).toContain("Undefined Behavior");
  });
});
