/**
 * Data races end to end: the race detector wired into the Machine (src/interp/races.ts) — race
 * reports in Miri's words with both locations and the earlier access's backtrace, every kind of
 * access (non-atomic, atomic, mixed-size, allocation, deallocation, retag, bulk copy), the
 * happens-before edges of spawn, join and atomics, replay, the OSTD `from_unused` race and its
 * fix, and the stack interner behind the backtraces. Programs are the corpus's and
 * test/fixtures/races.
 */
import { describe, expect, test } from "vitest";
import { readFileSync } from "node:fs";
import { renderReport } from "../../src/driver/render/render.js";
import type { RunResult } from "../../src/driver/results.js";
import { runFile, prepareFile } from "../../src/driver/run.js";
import { StackInterner } from "../../src/interp/races.js";

const fail = (name: string) => `test/corpus/fail/races/${name}`;
const pass = (name: string) => `test/corpus/pass/races/${name}`;
const fixed = { preemptionRate: 0 };

function only(r: RunResult) {
  expect(r.ub).toHaveLength(1);
  expect(r.exitCode).toBe(1);
  return r.ub[0]!;
}

describe("a race report", () => {
  test("has Miri's message, label and help line, both locations and the earlier access's backtrace", async () => {
    const u = only(await runFile(fail("race-write-write.ts"), fixed));
    expect(u.kind).toBe("data-race");
    expect(u.title).toBe("Undefined Behavior");
    expect(u.message).toMatch(
      /^Data race detected between \(1\) non-atomic write on thread `cpu1` and \(2\) non-atomic write on thread `cpu2` at alloc\d+\[0x0\]$/,
    );
    expect(u.label).toBe("(2) just happened here");
    expect([u.location.line, u.thread]).toEqual([16, "cpu2"]);
    expect(u.help[0]).toMatchObject({ message: "and (1) occurred earlier here", location: { line: 11 } });
    expect(u.help.slice(1).map((h) => h.message)).toEqual([
      "this indicates a bug in the program: it performed an invalid operation, and caused Undefined Behavior",
      "see https://doc.rust-lang.org/nightly/reference/behavior-considered-undefined.html for further information",
    ]);
    const note = u.notes!.find((n) => n.startsWith("(1) was on thread `cpu1`"))!;
    expect(note).toMatch(/stack backtrace:\n0: main::\{closure\}\n {4}at test\/corpus\/fail\/races\/race-write-write\.ts:11:9$/);
    expect(u.notes!.some((n) => n.startsWith("replay this schedule with `--replay "))).toBe(true);
  });

  test("renders as Miri renders a data race", async () => {
    const r = await runFile(fail("race-from-unused-drop.ts"), { seed: 0 });
    const text = renderReport(only(r), { readSource: (f) => readFileSync(f, "utf8") });
    expect(text).toContain("error: Undefined Behavior: Data race detected between (1) non-atomic read on thread `cpu1` and (2) non-atomic write on thread `cpu2`");
    expect(text).toContain("(2) just happened here");
    expect(text).toContain("help: and (1) occurred earlier here");
    expect(text).toMatch(/= note: \(1\) was on thread `cpu1`, with this stack backtrace:\n +0: drop_last_in_place\n +at .*\n +1: drop_frame/);
  });

  test("replaying its schedule reproduces it exactly", async () => {
    const first = only(await runFile(fail("race-from-unused-drop.ts"), { seed: 5, pct: 2 }));
    const replay = /`--replay ([^`]+)`/.exec(first.notes!.join("\n"))![1];
    const again = only(await runFile(fail("race-from-unused-drop.ts"), { replay }));
    expect(again).toEqual(first);
  });
});

describe("what races", () => {
  test.each([
    ["race-read-write.ts", /\(1\) non-atomic write on thread `main` and \(2\) non-atomic read on thread `cpu1`/],
    ["race-dealloc.ts", /\(1\) non-atomic read on thread `cpu1` and \(2\) deallocation on thread `main`/],
    ["race-alloc-relaxed-publish.ts", /\(1\) creating a new allocation on thread `cpu1` and \(2\) non-atomic read on thread `cpu2`/],
    ["race-atomic-store-plain-read.ts", /\(1\) atomic store on thread `cpu1` and \(2\) non-atomic read/],
    ["race-plain-write-atomic-load.ts", /\(1\) non-atomic write on thread `cpu1` and \(2\) atomic load/],
    ["race-copy-nonoverlapping.ts", /\(1\) non-atomic write on thread `cpu1` and \(2\) non-atomic read on thread `cpu2`/],
    ["race-refcount-relaxed-decrement.ts", /and \(2\) deallocation on thread/],
  ])("%s", async (file, message) => {
    const u = only(await runFile(fail(file), fixed));
    expect(u.kind).toBe("data-race");
    expect(u.message).toMatch(message);
  });

  test("a retag counts as an access, with Miri's three help lines", async () => {
    const u = only(await runFile(fail("race-retag-mut.ts"), fixed));
    expect(u.message).toMatch(/\(1\) non-atomic read on thread `cpu1` and \(2\) retag write on thread `cpu2`/);
    expect(u.help.map((h) => h.message)).toContain("therefore from the perspective of data races, a retag has the same implications as a read or write");
  });

  test("atomics of different sizes on the same bytes are a race condition", async () => {
    const u = only(await runFile(fail("atomic-mixed-size-store.ts"), fixed));
    expect(u.message).toMatch(/^Race condition detected between \(1\) 4-byte atomic store on thread `cpu1` and \(2\) 2-byte atomic store on thread `cpu2`/);
    expect(u.help.map((h) => h.message)).toContain("overlapping unsynchronized atomic accesses must use the same access size");
  });
});

describe("what does not race", () => {
  test.each([
    "atomic-message-passing.ts",
    "fence-message-passing.ts",
    "atomic-release-sequence-rmw.ts",
    "race-free-join-edges.ts",
    "race-free-spawn-edge.ts",
    "race-free-disjoint-fields.ts",
    "atomic-refcount-arc.ts",
  ])("%s, on seeds 0..9", async (file) => {
    const p = await prepareFile(pass(file));
    for (let seed = 0; seed < 10; seed++) {
      const r = p.run({ seed });
      expect(r.ub, `seed ${seed}`).toEqual([]);
      expect(r.panic).toBeUndefined();
    }
  });

  test("relaxed publication races for some seed, release/acquire for none", async () => {
    const racy = await prepareFile(fail("race-relaxed-publication.ts"));
    let found = 0;
    for (let seed = 0; seed < 10; seed++) found += racy.run({ seed }).ub.filter((u) => u.kind === "data-race").length;
    expect(found).toBeGreaterThan(0);
  });

  test("with the detector off (`dataRaceDetector: false`) nothing is reported", async () => {
    const r = await runFile(fail("race-write-write.ts"), { ...fixed, dataRaceDetector: false });
    expect(r.ub).toEqual([]);
  });

  test("natively a racy program just runs", async () => {
    const r = await runFile(fail("race-join-missing.ts"), { native: true });
    expect(r.exitCode).toBe(0);
  });
});

describe("the OSTD yardstick: Frame::from_unused racing the last Drop", () => {
  test("the pre-#1752 protocol races on seed 0, at from_unused's metadata write", async () => {
    const u = only(await runFile(fail("race-from-unused-drop.ts"), { seed: 0 }));
    expect(u.kind).toBe("data-race");
    expect(u.backtrace.map((f) => f.fn)).toEqual(["from_unused", "main::{closure}"]);
    expect(u.help[0].location?.line).toBe(101); // drop_last_in_place's read of the vtable
  });

  test("the race is found on a share of seeds, more with PCT; the #1752 protocol is clean on all", async () => {
    const race = await prepareFile(fail("race-from-unused-drop.ts"));
    const fix = await prepareFile(pass("race-free-from-unused-1752.ts"));
    const count = (p: typeof race, o: object) => {
      let n = 0;
      for (let seed = 0; seed < 40; seed++) if (p.run({ ...o, seed }).ub.some((u) => u.kind === "data-race")) n++;
      return n;
    };
    const random = count(race, {});
    const pct = count(race, { pct: 2 });
    expect(random).toBeGreaterThan(5);
    expect(pct).toBeGreaterThan(5);
    expect(count(fix, {}) + count(fix, { pct: 2 })).toBe(0);
  });
});

describe("the stack interner", () => {
  test("gives one id per distinct stack, and its backtrace", () => {
    const st = new StackInterner();
    const s = new Int32Array(16);
    s.set([1 | (1 << 30), 2 | (1 << 30), 3]);
    const a = st.intern(0, s, 3);
    expect(st.intern(0, s, 3)).toBe(a);
    expect(st.intern(1, s, 3)).toBe(a); // another thread, same stack
    s[2] = 4;
    const b = st.intern(0, s, 3);
    expect(b).not.toBe(a);
    s[1] = 5 | (1 << 30);
    s[2] = 3;
    const c = st.intern(0, s, 3); // a lower frame changed, the top is as in `a`
    expect(c).not.toBe(a);
    expect(st.intern(0, s, 2)).not.toBe(st.intern(1, s, 2) === c ? -1 : c);
    expect(st.site(a)).toBe(3);
    expect(st.intern(0, s, 0)).toBe(0);
    const sites = { fn: ["f0", "outer", "mid", "leaf", "leaf2", "other"], location: (id: number) => ({ file: "x.ts", line: id, column: 1 }) };
    expect(st.backtrace(a, sites).map((f) => f.fn)).toEqual(["leaf", "mid", "outer"]);
  });
});
