/**
 * The memory model end to end: the programs of test/fixtures/memory run through `runFile`, on the
 * Machine and natively — each finding reported with its kind, at its line, in Miri's words.
 */
import { describe, expect, test } from "vitest";
import path from "node:path";
import { runFile } from "../../../src/driver/run.js";

const fixture = (f: string) => path.join("test/fixtures/memory", f);

/** Runs a fixture on the Machine and returns `[kind, line, message]` of each finding. */
async function findings(f: string) {
  const r = await runFile(fixture(f), { preemptionRate: 0 });
  return { r, ub: r.ub.map((u) => [u.kind, u.location.line, u.message]) };
}

describe("memory model, end to end", () => {
  test("a linked list kept in a static runs clean and prints the same natively", async () => {
    const { r, ub } = await findings("linked-list.ts");
    expect(ub).toEqual([]);
    expect(r.panic).toBeUndefined();
    expect(r.output).toEqual(["sum 55", "sum 15 node true"]);
    const n = await runFile(fixture("linked-list.ts"), { native: true });
    expect(n.output).toEqual(r.output);
  });

  test("a partly overwritten pointer has no provenance", async () => {
    const { r, ub } = await findings("partial-overwrite.ts");
    expect(ub).toHaveLength(1);
    expect(ub[0]!.slice(0, 2)).toEqual(["no-provenance", 11]);
    expect(ub[0]![2]).toMatch(/^memory access failed: attempting to access 4 bytes, but got 0x[0-9a-f]+\[noalloc\] which is a dangling pointer \(it has no provenance\)$/);
    expect(r.exitCode).toBe(1);
  });

  test("struct padding is uninitialised after a struct write", async () => {
    const { r, ub } = await findings("padding.ts");
    expect(ub).toEqual([
      [
        "uninit",
        11,
        "reading memory at alloc1[0x0..0x4], but memory is uninitialized at [0x1..0x4], and this operation requires initialized memory",
      ],
    ]);
    expect(r.output).toEqual(["512"]);
    expect(r.ub[0]!.notes?.[0]).toBe("Uninitialized memory occurred at alloc1[0x1..0x4], in this allocation:");
  });

  test("an enum discriminant that is no variant's is an invalid value", async () => {
    const { ub } = await findings("enum-invalid.ts");
    expect(ub).toEqual([
      ["invalid-value", 12, "constructing invalid value of type PageState: at .<enum-tag>, encountered 0x07, but expected a valid enum tag"],
    ]);
  });

  test("indexing past an array's end panics", async () => {
    const { r, ub } = await findings("index-oob.ts");
    expect(ub).toEqual([]);
    expect(r.panic?.message).toBe("index out of bounds: the len is 4 but the index is 4");
    expect(r.panic?.location?.line).toBe(7);
  });

  test("a write into an immutable static is read-only", async () => {
    const { r, ub } = await findings("read-only-static.ts");
    expect(ub).toHaveLength(1);
    expect(ub[0]!.slice(0, 2)).toEqual(["read-only", 10]);
    expect(ub[0]![2]).toMatch(/^writing to alloc\d+ which is read-only$/);
    expect(r.output).toEqual(["10"]);
  });

  test("leaks: what a static reaches is kept, the rest reported where allocated", async () => {
    const { ub } = await findings("leaks.ts");
    expect(ub.map((u) => [u[0], u[1]])).toEqual([
      ["leak", 12],
      ["leak", 13],
    ]);
    expect(ub[0]![2]).toMatch(/^memory leaked: alloc\d+ \(Rust heap, size: 16, align: 8\), allocated here:$/);
  });

  test("a wildcard pointer works while its allocation lives, and has no provenance after", async () => {
    const { r, ub } = await findings("wildcard.ts");
    expect(r.output).toEqual(["6"]);
    expect(ub).toHaveLength(1);
    expect(ub[0]!.slice(0, 2)).toEqual(["no-provenance", 13]);
  });

  test("a zero-sized allocation is UB", async () => {
    const { ub } = await findings("zero-alloc.ts");
    expect(ub).toEqual([["bad-dealloc", 8, "creating allocation with size 0"]]);
  });
});
