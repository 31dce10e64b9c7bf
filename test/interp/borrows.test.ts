/**
 * Stacked Borrows end to end, through `runFile`: each kind of finding with its message, label and
 * help lines at their `.ts` lines; `--borrow-model none`; `--track-tag`; function-entry
 * protectors; the tag GC (which never changes a verdict); and the `sb-` pass corpus natively.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "../../src/cli/args.js";
import { corpusFiles } from "../../src/driver/corpus.js";
import { renderRunResult } from "../../src/driver/render/render.js";
import { MachineBorrows } from "../../src/interp/borrows.js";
import type { UBReport } from "../../src/interp/report.js";
import type { RunResult } from "../../src/driver/results.js";
import { runFile } from "../../src/driver/run.js";

const corpus = (name: string) => path.join("test/corpus/fail/stacked-borrows", name);
const fixture = (name: string) => path.join("test/fixtures/sb", name);

function only(r: RunResult): UBReport {
  expect(r.ub).toHaveLength(1);
  expect(r.exitCode).toBe(1);
  const u = r.ub[0]!;
  expect(u.kind).toBe("stacked-borrows");
  expect(u.title).toBe("Undefined Behavior");
  return u;
}

/** The report as `{ message, label, line, help: [message, line?][] }`, Miri's two general help lines left out. */
function shape(u: UBReport) {
  expect(u.help.slice(0, 2).map((h) => h.message)).toEqual([
    "this indicates a potential bug in the program: it performed an invalid operation, but the Stacked Borrows rules it violated are still experimental",
    "see https://github.com/rust-lang/unsafe-code-guidelines/blob/master/wip/stacked-borrows.md for further information",
  ]);
  return {
    message: u.message.replace(/<\d+>/g, "<TAG>").replace(/alloc\d+/g, "ALLOC"),
    label: u.label?.replace(/alloc\d+/g, "ALLOC"),
    line: u.location.line,
    help: u.help.slice(2).map((h) => [h.message.replace(/<\d+>/g, "<TAG>"), h.location?.line]),
  };
}

describe("diagnostics, in Miri's words, with help lines at .ts lines", () => {
  test("an access through a popped tag: where it was created, where it was invalidated", async () => {
    const u = only(await runFile(corpus("sb-raw-tracking.ts")));
    expect(shape(u)).toEqual({
      message: "attempting a write access using <TAG> at ALLOC[0x0], but that tag does not exist in the borrow stack for this location",
      label: "this error occurs as part of an access at ALLOC[0x0..0x4]",
      line: 11,
      help: [
        ["<TAG> was created by a SharedReadWrite retag at offsets [0x0..0x4]", 8],
        ["<TAG> was later invalidated at offsets [0x0..0x4] by a Unique retag", 9],
      ],
    });
    // The tags are the real ones: the raw pointer's, created from the first `&mut`.
    expect(u.message).toMatch(/using <3> at alloc1\[0x0\]/);
  });

  test("a write through a SharedReadOnly tag", async () => {
    expect(shape(only(await runFile(corpus("sb-write-through-shared.ts"))))).toEqual({
      message: "attempting a write access using <TAG> at ALLOC[0x0], but that tag only grants SharedReadOnly permission for this location",
      label: "this error occurs as part of an access at ALLOC[0x0..0x4]",
      line: 10,
      help: [["<TAG> was created by a SharedReadOnly retag at offsets [0x0..0x4]", 8]],
    });
  });

  test("a wildcard access with no suitable exposed tag", async () => {
    const r = await runFile(corpus("sb-exposed-only-read-only.ts"));
    expect(shape(only(r))).toEqual({
      message: "attempting a write access using <wildcard> at ALLOC[0x0], but no exposed tags have suitable permission in the borrow stack for this location",
      label: "this error occurs as part of an access at ALLOC[0x0..0x4]",
      line: 11,
      help: [],
    });
    expect(r.warnings?.map((w) => w.message)).toEqual(["integer-to-pointer cast"]);
  });

  test("a retag from a tag that only grants SharedReadOnly", async () => {
    expect(shape(only(await runFile(corpus("sb-unique-from-shared.ts"))))).toEqual({
      message: "trying to retag from <TAG> for Unique permission at ALLOC[0x0], but that tag only grants SharedReadOnly permission for this location",
      label: "this error occurs as part of retag at ALLOC[0x0..0x4]",
      line: 9,
      help: [["<TAG> was created by a SharedReadOnly retag at offsets [0x0..0x4]", 9]], // the `*const` made on the same line
    });
  });

  test("a deallocation through a popped tag", async () => {
    expect(shape(only(await runFile(corpus("sb-dealloc-invalidated.ts"))))).toEqual({
      message: "attempting deallocation using <TAG> at ALLOC, but that tag does not exist in the borrow stack for this location",
      label: "Undefined Behavior occurred here",
      line: 11,
      help: [
        ["<TAG> was created by a SharedReadWrite retag at offsets [0x0..0x1]", 9],
        ["<TAG> was later invalidated at offsets [0x0..0x1] by a write access", 10],
      ],
    });
  });

  test("a function-entry retag invalidates at the call, not in the function", async () => {
    expect(shape(only(await runFile(corpus("sb-fn-entry-invalidation.ts")))).help).toEqual([
      ["<TAG> was created by a SharedReadWrite retag at offsets [0x0..0x4]", 15],
      ["<TAG> was later invalidated at offsets [0x0..0x4] by a Unique function-entry retag inside this call", 16],
    ]);
  });

  test("the KernMiri heap bug: a block handed out from a pointer made through a shared reference", async () => {
    const u = only(await runFile(corpus("sb-heap-init-shared-ref.ts")));
    expect(shape(u)).toMatchObject({
      message: "attempting a write access using <TAG> at ALLOC[0x0], but that tag only grants SharedReadOnly permission for this location",
      line: 52,
      help: [["<TAG> was created by a SharedReadOnly retag at offsets [0x0..0x1000]", 43]],
    });
    // ... and its fix runs clean.
    const fixed = await runFile("test/corpus/pass/stacked-borrows/sb-heap-init-fixed.ts");
    expect(fixed.ub).toEqual([]);
    expect(fixed.output).toEqual(["1 1 3 1 80003000"]);
  });

  test("the rendered report", async () => {
    const r = await runFile(corpus("sb-raw-tracking.ts"));
    const text = renderRunResult(r, { readSource: (f) => readFileSync(f, "utf8") });
    expect(text).toContain(
      [
        "error: Undefined Behavior: attempting a write access using <3> at alloc1[0x0], but that tag does not exist in the borrow stack for this location",
        "  --> test/corpus/fail/stacked-borrows/sb-raw-tracking.ts:11:5",
        "   |",
        "11 |     raw1.write(13); //~ ERROR: stacked-borrows",
        "   |     ^^^^^^^^^^^^^^ this error occurs as part of an access at alloc1[0x0..0x4]",
      ].join("\n"),
    );
    expect(text).toContain(["help: <3> was later invalidated at offsets [0x0..0x4] by a Unique retag", "  --> test/corpus/fail/stacked-borrows/sb-raw-tracking.ts:9:16"].join("\n"));
  });
});

describe("function-entry protectors", () => {
  test("a reference argument is strongly protected: `<TAG> is this argument` points at the parameter", async () => {
    const report = only(await runFile(corpus("sb-protector-read-alias.ts")));
    const arg = report.help.find((h) => h.message.endsWith("is this argument"));
    // `function inner(x: Ptr<number>, _y: RefMut<number>)`: the second parameter.
    expect(arg?.location).toMatchObject({ line: 7, column: 32 });
    expect(shape(report)).toEqual({
      message: "not granting access to tag <TAG> because that would remove [Unique for <TAG>] which is strongly protected",
      label: "Undefined Behavior occurred here",
      line: 9,
      help: [
        ["<TAG> was created by a SharedReadWrite retag at offsets [0x0..0x4]", 16],
        ["<TAG> is this argument", 7],
      ],
    });
  });

  test("a shared reference argument too", async () => {
    expect(shape(only(await runFile(corpus("sb-protector-shared-arg.ts")))).message).toBe(
      "not granting access to tag <TAG> because that would remove [SharedReadOnly for <TAG>] which is strongly protected",
    );
  });

  test("a Box argument is weakly protected: not invalidated, but the callee may free it", async () => {
    expect(shape(only(await runFile(corpus("sb-box-arg-weakly-protected.ts")))).message).toBe(
      "not granting access to tag <TAG> because that would remove [Unique for <TAG>] which is weakly protected",
    );
    const freed = await runFile("test/corpus/pass/stacked-borrows/sb-box-arg-freed-by-callee.ts");
    expect(freed.ub).toEqual([]);
  });

  test("memory behind a reference argument may not be freed during the call", async () => {
    expect(shape(only(await runFile(corpus("sb-protector-dealloc.ts"))))).toEqual({
      message: "deallocating while item [Unique for <TAG>] is strongly protected",
      label: "Undefined Behavior occurred here",
      line: 9,
      help: [["<TAG> is this argument", 7]],
    });
  });

  test("two protected `&mut` arguments with the same parent: reported at the call", async () => {
    const u = only(await runFile(corpus("sb-aliasing-mut-args.ts")));
    expect(u.location.line).toBe(12);
    expect(u.message).toMatch(/^not granting access to tag <\d+> because that would remove \[Unique for <\d+>\] which is strongly protected$/);
  });

  test("the protector ends when the function returns", async () => {
    // The first call does not touch the alias; after it returns the alias may be used; the
    // second call touches it while the argument is protected.
    const u = only(await runFile(fixture("protector-scope.ts")));
    expect(u.location.line).toBe(12);
    expect(shape(u).help.at(-1)).toEqual(["<TAG> is this argument", 8]);
  });
});

describe("--borrow-model none", () => {
  const files = corpusFiles("test/corpus/fail/stacked-borrows");

  test("there are at least 25 Stacked Borrows fail programs", () => {
    expect(files.length).toBeGreaterThanOrEqual(25);
  });

  test("silences every Stacked Borrows finding of the corpus", async () => {
    for (const f of files) {
      const r = await runFile(f, { borrowModel: "none", ignoreLeaks: true });
      expect(r.ub.filter((u) => u.kind === "stacked-borrows"), f).toEqual([]);
    }
  });

  test("the CLI and the corpus flags accept it", () => {
    expect(parseArgs(["run", "x.ts", "--borrow-model", "none"])).toMatchObject({ flags: { borrowModel: "none" } });
    expect(parseArgs(["run", "x.ts", "--borrow-model=stacked", "--track-tag", "3,4", "--track-tag=9"])).toMatchObject({
      flags: { borrowModel: "stacked", trackTags: [3, 4, 9] },
    });
    expect(() => parseArgs(["run", "x.ts", "--borrow-model", "tree"])).toThrow(/expected `stacked`/);
    expect(() => parseArgs(["run", "x.ts", "--track-tag", "0"])).toThrow(/borrow tag/);
  });
});

describe("--track-tag", () => {
  test("prints each event of the tracked tags as a note, in Miri's words", async () => {
    const r = await runFile(fixture("track-tag.ts"), { trackTags: [2, 3] });
    expect(r.ub).toEqual([]);
    expect(r.exitCode).toBe(0);
    expect(r.warnings?.map((w) => [w.title, w.message, w.label, w.location.line])).toEqual([
      ["note", "created tag <2> with Unique permission at alloc1[0x0..0x4] derived from <1>", "tracking was triggered here", 7],
      ["note", "created tag <3> with SharedReadWrite permission at alloc1[0x0..0x4] derived from <2>", "tracking was triggered here", 8],
      ["note", "popped tracked tag for item [SharedReadWrite for <3>] due to Write access for <1>", "tracking was triggered here", 12],
      ["note", "popped tracked tag for item [Unique for <2>] due to Write access for <1>", "tracking was triggered here", 12],
    ]);
    const text = renderRunResult(r, { readSource: (f) => readFileSync(f, "utf8") });
    expect(text).toContain(
      [
        "note: created tag <2> with Unique permission at alloc1[0x0..0x4] derived from <1>",
        "  --> test/fixtures/sb/track-tag.ts:7:13",
        "   |",
        " 7 |   const r = x.as_mut();",
        "   |             ^^^^^^^^^^ tracking was triggered here",
      ].join("\n"),
    );
  });

  test("the root tag of an allocation", async () => {
    const r = await runFile(fixture("track-tag.ts"), { trackTags: [1] });
    expect(r.warnings?.map((w) => [w.message, w.location.line])).toEqual([
      ["created base tag <1>", 6],
      ["popped tracked tag for item [Unique for <1>] due to deallocation", 5], // the local dies as `main` returns, at `main`
    ]);
  });
});

describe("the tag GC never changes a verdict", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  test("a parked pointer the GC presumed dead, used validly: the run is repeated without the GC, output once", async () => {
    const collect = vi.spyOn(MachineBorrows.prototype, "collect");
    const fail = vi.spyOn(MachineBorrows.prototype as unknown as { fail: () => never }, "fail");
    const lines: string[] = [];
    const r = await runFile(fixture("parked-pointer.ts"), { onOutput: (l) => lines.push(l) });
    expect(collect.mock.calls.length).toBeGreaterThan(0);
    // The first run's use of the parked pointer failed, on a collected tag: not trusted.
    expect(fail).toHaveBeenCalledTimes(1);
    expect((fail.mock.contexts[0] as MachineBorrows).gcSuspect).toBe(true);
    expect(r.ub).toEqual([]);
    expect(r.output).toEqual(["parked", "2"]);
    expect(lines).toEqual(["parked", "2"]);
  });

  test("with real UB, the same report with and without the GC", async () => {
    const withGc = await runFile(fixture("parked-pointer-ub.ts"));
    const without = await runFile(fixture("parked-pointer-ub.ts"), { tagGc: 0 });
    expect(shape(only(withGc))).toEqual(shape(only(without)));
    expect(withGc.ub).toEqual(without.ub);
    expect(withGc.output).toEqual(["parked"]);
  });

  test("the corpus gives the same findings with a GC after every 50 tags", async () => {
    for (const f of [...corpusFiles("test/corpus/fail/stacked-borrows"), ...corpusFiles("test/corpus/pass/stacked-borrows")]) {
      const a = await runFile(f, { tagGc: 50 });
      const b = await runFile(f, { tagGc: 0 });
      expect(a.ub, f).toEqual(b.ub);
      expect(a.output, f).toEqual(b.output);
    }
  });
});

describe("the pass corpus", () => {
  test("there are at least 20 Stacked Borrows pass programs, and each prints the same natively", async () => {
    const files = corpusFiles("test/corpus/pass/stacked-borrows");
    expect(files.length).toBeGreaterThanOrEqual(20);
    for (const f of files) {
      const checked = await runFile(f, { preemptionRate: 0 });
      expect(checked.ub, f).toEqual([]);
      expect(checked.panic, f).toBeUndefined();
      const native = await runFile(f, { native: true });
      expect(native.output, f).toEqual(checked.output);
    }
  });
});
