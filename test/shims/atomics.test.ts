/**
 * Atomics on the Machine and natively: the values (wrapping at each width, bit operations, swap,
 * compare-exchange, `AtomicBool`, `AtomicPtr`), Rust's panics for orderings it rejects, rustc's
 * errors for a missing method or a wrong operand, the memory checks of an atomic access,
 * `compare_exchange_weak`'s spurious failures (seeded), and atomics as scheduling points and
 * progress (a store wakes a spinning thread). Programs are under test/fixtures/atomics and the corpus.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { AtomicBool, AtomicU16, AtomicU32, AtomicU64, AtomicU8, AtomicUsize } from "../../src/interp/memory/layouts.js";
import { atomicEquals, missingMethod, operandMismatch, orderingPanic, rmwResult } from "../../src/shims/atomic-values.js";
import { runFile } from "../../src/driver/run.js";

const fx = (name: string) => `test/fixtures/atomics/${name}`;
const cases = mkdtempSync(path.join(os.tmpdir(), "kmiri-atomics-"));

/** A copy of fixture `name` running case `c` (its `const CASE: number = 0;` changed; the same lines). */
function fixtureCase(name: string, c: number | string): string {
  const text = readFileSync(fx(name), "utf8").replace(/const CASE: number = 0;/, `const CASE: number = ${c};`);
  const file = path.join(cases, name.replace(/\.ts$/, `-${c}.ts`));
  writeFileSync(file, text);
  return file;
}

describe("values", () => {
  test("read-modify-writes wrap at the type's width", () => {
    expect(rmwResult(AtomicU8, "fetch_add", 250, 10)).toBe(4);
    expect(rmwResult(AtomicU16, "fetch_sub", 0, 1)).toBe(0xffff);
    expect(rmwResult(AtomicU32, "fetch_add", 0xffff_ffff, 2)).toBe(1);
    expect(rmwResult(AtomicU32, "fetch_xor", 0xf0f0_f0f0, 0xffff_ffff)).toBe(0x0f0f_0f0f);
    expect(rmwResult(AtomicU64, "fetch_sub", 0n, 1n)).toBe(0xffff_ffff_ffff_ffffn);
    expect(rmwResult(AtomicUsize, "fetch_sub", 0, 1)).toBe(0xffff_ffff_ffff_ffffn); // written as the 64 raw bits
    expect(rmwResult(AtomicBool, "fetch_xor", true, true)).toBe(false);
    expect(rmwResult(AtomicBool, "fetch_or", false, true)).toBe(true);
  });

  test("which orderings Rust rejects, with its messages", () => {
    expect(orderingPanic("load", "Release")).toBe("there is no such thing as a release load");
    expect(orderingPanic("load", "AcqRel")).toBe("there is no such thing as an acquire-release load");
    expect(orderingPanic("store", "Acquire")).toBe("there is no such thing as an acquire store");
    expect(orderingPanic("failure", "Release")).toBe("there is no such thing as a release failure ordering");
    expect(orderingPanic("fence", "Relaxed")).toBe("there is no such thing as a relaxed fence");
    expect(orderingPanic("compiler_fence", "Relaxed")).toBe("there is no such thing as a relaxed compiler fence");
    expect(orderingPanic("failure", "SeqCst")).toBeNull(); // a failure ordering stronger than success is fine since Rust 1.64
    expect(orderingPanic("rmw", "AcqRel")).toBeNull();
  });

  test("missing methods, mismatched operands, pointer comparison", () => {
    expect(missingMethod(AtomicBool, "fetch_add")).toMatch(/^no method named `fetch_add` found for reference `&AtomicBool`/);
    expect(missingMethod(AtomicBool, "fetch_or")).toBeNull();
    expect(operandMismatch(AtomicU64, 1)).toBe("mismatched types: expected `u64`, found `number`");
    expect(operandMismatch(AtomicU32, 1.5)).not.toBeNull();
    expect(atomicEquals({ ...AtomicU32, kind: "atomic" } as never, 3, 3)).toBe(true);
  });

  test("the same values on the Machine and natively (corpus: atomic-values-wrapping.ts)", async () => {
    const file = "test/corpus/pass/races/atomic-values-wrapping.ts";
    const checked = await runFile(file);
    const native = await runFile(file, { native: true });
    expect(checked.ub).toEqual([]);
    expect(checked.output).toEqual(native.output);
    expect(checked.output.slice(0, 2)).toEqual(["250 4", "0 65535"]);
    expect(checked.output[3]).toBe("0n 18446744073709551615n");
  });
});

describe("Rust's panics and rustc's errors", () => {
  const panics = [
    "there is no such thing as a release load",
    "there is no such thing as an acquire-release load",
    "there is no such thing as an acquire store",
    "there is no such thing as an acquire-release store",
    "there is no such thing as a release failure ordering",
    "there is no such thing as an acquire-release failure ordering",
    "there is no such thing as a relaxed fence",
    "there is no such thing as a relaxed compiler fence",
  ];
  test.each(panics.map((m, i) => [i, m]))("case %i panics: %s", async (i, message) => {
    const r = await runFile(fixtureCase("orderings.ts", String(i)));
    expect(r.ub).toEqual([]);
    expect(r.panic?.message).toBe(message);
    expect(r.panic?.location?.line).toBe(10 + Number(i));
    const n = await runFile(fixtureCase("orderings.ts", String(i)), { native: true });
    expect(n.panic?.message).toBe(message);
  });

  test("an ordering that is no `Ordering` is a type error", async () => {
    const r = await runFile(fixtureCase("orderings.ts", "8"));
    expect(r.ub[0]).toMatchObject({ kind: "unsupported", title: "error[E0308]" });
    expect(r.ub[0].message).toMatch(/expected enum `Ordering`, found "Bogus"/);
  });

  test("`fetch_add` on an AtomicBool is E0599; a number for an AtomicU64 is E0308", async () => {
    const a = await runFile(fixtureCase("wrong-types.ts", "0"));
    expect(a.ub[0]).toMatchObject({ title: "error[E0599]", location: { line: 9 } });
    const b = await runFile(fixtureCase("wrong-types.ts", "1"));
    expect(b.ub[0]).toMatchObject({ title: "error[E0308]", message: "mismatched types: expected `u64`, found `number`" });
  });
});

describe("the memory checks of an atomic access", () => {
  test("an atomic load of uninitialised memory is uninit; an RMW through a dangling reference is use-after-free", async () => {
    const a = await runFile(fixtureCase("memory-checks.ts", "0"));
    expect(a.ub[0]).toMatchObject({ kind: "uninit", location: { line: 10 } });
    const b = await runFile(fixtureCase("memory-checks.ts", "1"));
    expect(b.ub[0]).toMatchObject({ kind: "use-after-free", location: { line: 15 } });
  });

  test("an atomic through a misaligned reference is caught when the reference is made (corpus)", async () => {
    const r = await runFile("test/corpus/fail/memory/misaligned-packed-atomic.ts");
    expect(r.ub.map((u) => u.kind)).toEqual(["misaligned"]);
  });
});

describe("compare_exchange_weak", () => {
  test("fails spuriously about 80% of the time when the values match, the same way for a seed", async () => {
    const a = await runFile(fx("cas-weak.ts"), { seed: 1 });
    const b = await runFile(fx("cas-weak.ts"), { seed: 1 });
    const c = await runFile(fx("cas-weak.ts"), { seed: 2 });
    const n = Number(a.output[0]);
    expect(n).toBeGreaterThan(740);
    expect(n).toBeLessThan(860);
    expect(b.output).toEqual(a.output);
    expect(c.output).not.toEqual(a.output);
    expect((await runFile(fx("cas-weak.ts"), { native: true })).output).toEqual(["0"]);
  });

  test("a spurious failure followed by spin_loop is no livelock", async () => {
    for (let seed = 0; seed < 5; seed++) {
      const r = await runFile(fx("cas-weak-spin.ts"), { seed });
      expect(r.ub).toEqual([]);
      expect(r.output).toEqual(["ok"]);
    }
  });
});

describe("scheduling", () => {
  test("a store is progress: it wakes a thread spinning on a load, on every seed", async () => {
    for (let seed = 0; seed < 20; seed++) {
      const r = await runFile(fx("spin-wakes.ts"), { seed });
      expect(r.ub, `seed ${seed}`).toEqual([]);
      expect(r.output).toEqual(["3"]);
    }
  });

  test("spinning on a load nobody will store is a livelock, reported at the spin", async () => {
    const r = await runFile(fx("spin-nobody.ts"));
    expect(r.ub.map((u) => [u.kind, u.location.line])).toEqual([["deadlock", 7]]);
  });

  test("atomics are scheduling points: random preemption interleaves them", async () => {
    const schedules = new Set<string>();
    for (let seed = 0; seed < 20; seed++) {
      const r = await runFile("test/corpus/pass/races/atomic-cpu-mask.ts", { seed });
      expect(r.ub).toEqual([]);
      schedules.add(r.schedule!.replace(/^\d+:/, ""));
    }
    expect(schedules.size).toBeGreaterThan(1);
  });
});
