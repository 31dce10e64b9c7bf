/**
 * References, statics and locals end to end: the programs under test/fixtures/refs run on the
 * Machine through `runFile` (and natively), and each finding is checked for its kind, message,
 * line and help lines; the clean programs print the same checked and native.
 */
import { describe, expect, test } from "vitest";
import path from "node:path";
import { runFile } from "../../src/driver/run.js";
import type { RunResult } from "../../src/driver/results.js";

const fixture = (name: string) => path.join("test/fixtures/refs", name);
const run = (name: string, options = {}) => runFile(fixture(name), { maxSteps: 1_000_000, ...options });

function only(r: RunResult) {
  expect(r.ub).toHaveLength(1);
  expect(r.exitCode).toBe(1);
  return r.ub[0]!;
}

/** The help lines that point somewhere, as `[message with allocN, line]`. */
function pointing(u: RunResult["ub"][number]): [string, number][] {
  return u.help.filter((h) => h.location).map((h) => [h.message.replace(/alloc\d+/, "allocN"), h.location!.line]);
}

describe("validity of references", () => {
  const cases: [string, string, string, number][] = [
    ["ref-null.ts", "invalid-value", "constructing invalid value of type &u32: encountered a null reference", 6],
    [
      "ref-unaligned.ts",
      "misaligned",
      "constructing invalid value of type &mut u32: encountered an unaligned reference (required 4 byte alignment but found 2)",
      8,
    ],
    ["ref-use-after-free.ts", "use-after-free", "constructing invalid value of type &u32: encountered a dangling reference (use-after-free)", 9],
    [
      "ref-out-of-bounds.ts",
      "out-of-bounds",
      "constructing invalid value of type &u32: encountered a dangling reference (going beyond the bounds of its allocation)",
      7,
    ],
    ["ref-no-provenance.ts", "no-provenance", "constructing invalid value of type &u32: encountered a dangling reference (0x10[noalloc] has no provenance)", 6],
    ["reborrow-dangling.ts", "use-after-free", "constructing invalid value of type &mut u32: encountered a dangling reference (use-after-free)", 9],
    [
      "packed-field-ref.ts",
      "misaligned",
      "constructing invalid value of type &u32: encountered an unaligned reference (required 4 byte alignment but found 1)",
      9,
    ],
    [
      "static-mut-ref-read-only.ts",
      "read-only",
      "constructing invalid value of type &mut u32: encountered mutable reference pointing to read-only memory",
      8,
    ],
  ];
  for (const [file, kind, message, line] of cases) {
    test(`${file}: ${kind}`, async () => {
      const u = only(await run(file));
      expect({ kind: u.kind, message: u.message, line: u.location.line, title: u.title }).toEqual({
        kind,
        message,
        line,
        title: "Undefined Behavior",
      });
    });
  }

  test("a dangling reference names where its allocation was made and freed", async () => {
    const u = only(await run("ref-use-after-free.ts"));
    expect(pointing(u)).toEqual([
      ["allocN was allocated here:", 5],
      ["allocN was deallocated here:", 8],
    ]);
  });
});

describe("statics", () => {
  test("a write through a raw pointer to an immutable static is read-only", async () => {
    const u = only(await run("static-write-read-only.ts"));
    expect(u.kind).toBe("read-only");
    expect(u.message).toMatch(/^writing to alloc\d+ which is read-only$/);
    expect(u.location.line).toBe(9);
  });

  test("&mut of an immutable static is rustc's E0596, kind read-only", async () => {
    const u = only(await run("static-as-mut-immutable.ts"));
    expect([u.kind, u.title, u.message, u.location.line]).toEqual([
      "read-only",
      "error[E0596]",
      "cannot borrow immutable static item `LIMIT` as mutable",
      8,
    ]);
    expect(pointing(u)).toEqual([["allocN is the static `LIMIT`, defined here:", 4]]);
  });

  test("a static mut used outside an unsafe region is rustc's E0133", async () => {
    const u = only(await run("static-mut-outside-unsafe.ts"));
    expect([u.kind, u.title, u.message, u.label, u.location.line]).toEqual([
      "unsafe-outside-unsafe",
      "error[E0133]",
      "use of mutable static is unsafe and requires unsafe block",
      "use of mutable static",
      7,
    ]);
  });
});

describe("locals", () => {
  test("a pointer to a local used after its function returned: use-after-free pointing at local(...) and the function", async () => {
    const u = only(await run("dangling-local.ts"));
    expect(u.kind).toBe("use-after-free");
    expect(u.message).toMatch(/^memory access failed: alloc\d+ has been freed, so this pointer is dangling$/);
    expect(u.location.line).toBe(12);
    expect(pointing(u)).toEqual([
      ["allocN was allocated here:", 5],
      ["allocN was deallocated here:", 4],
    ]);
  });

  test("the variable itself used after its function returned: accessing a dead local variable", async () => {
    const u = only(await run("dead-local-closure.ts"));
    expect([u.kind, u.message, u.location.line]).toEqual(["use-after-free", "accessing a dead local variable", 8]);
    expect(pointing(u)).toEqual([
      ["allocN was allocated here:", 6],
      ["allocN was deallocated here:", 5],
    ]);
  });

  test("a reference to a local returned out of its function is dangling once read", async () => {
    const u = only(await run("dangling-local-ref.ts"));
    expect([u.kind, u.location.line]).toEqual(["use-after-free", 11]);
    expect(pointing(u)).toEqual([
      ["allocN was allocated here:", 5],
      ["allocN was deallocated here:", 4],
    ]);
  });
});

describe("what is not UB", () => {
  test("an atomic method on a reference to a non-atomic layout is rustc's E0599", async () => {
    const u = only(await run("atomic-unsupported.ts"));
    expect([u.kind, u.title, u.location.line]).toEqual(["unsupported", "error[E0599]", 6]);
    expect(u.message).toMatch(/^no method named `load` found for reference `&u32`/);
  });

  test("indexing out of bounds through a reference panics", async () => {
    const r = await run("index-out-of-bounds.ts");
    expect(r.ub).toEqual([]);
    expect(r.output).toEqual(["1", "2", "3", "4"]);
    expect(r.panic?.message).toBe("index out of bounds: the len is 4 but the index is 4");
    expect(r.panic?.location?.line).toBe(7);
  });

  for (const [file, output] of [
    ["local-ok.ts", ["sum 10", "x 42"]],
    ["statics-ok.ts", ["ticks 3", "raw ticks 3", "sizes 4096,2097152,1073741824", "second 2097152", "leaked 22 at true"]],
    ["struct-fields-ok.ts", ["6/4 3,3,2,2", "ways 4 sets 64", "generation 1", "box 60 2"]],
    ["top-level-local.ts", ["calls 3 3"]],
  ] as const) {
    test(`${file} runs clean and prints the same natively`, async () => {
      const checked = await run(file);
      expect(checked.ub).toEqual([]);
      expect(checked.panic).toBeUndefined();
      expect(checked.output).toEqual(output);
      const native = await run(file, { native: true });
      expect(native.output).toEqual(output);
      expect(native.exitCode).toBe(0);
    });
  }
});
