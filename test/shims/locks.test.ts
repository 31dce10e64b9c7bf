/**
 * lockdep on the Machine: `lock_acquired` / `lock_released` / `lock_class_rank`. Lock-order
 * inversions (two and three classes) reported with both acquisition chains even when the run did
 * not deadlock, ranks, recursive locking of one class, a relock (by annotation, and by spinning on
 * a held lock, at the deadlock), bad unlock balance, class names, and that annotations add no
 * happens-before. Programs are the corpus's and test/fixtures/locks.
 */
import { describe, expect, test } from "vitest";
import { readFileSync } from "node:fs";
import { renderReport } from "../../src/driver/render/render.js";
import type { RunResult } from "../../src/driver/results.js";
import { runFile } from "../../src/driver/run.js";

const fail = (name: string) => `test/corpus/fail/locks/${name}`;
const fx = (name: string) => `test/fixtures/locks/${name}`;
const fixed = { preemptionRate: 0 };

function only(r: RunResult) {
  expect(r.ub).toHaveLength(1);
  expect(r.exitCode).toBe(1);
  return r.ub[0]!;
}

/** The help lines that point somewhere, as `[message, line]`. */
const pointing = (u: RunResult["ub"][number]) => u.help.filter((h) => h.location).map((h) => [h.message, h.location!.line]);

describe("lock order", () => {
  test("an ABBA inversion is reported though nothing deadlocked, with both chains at the callers", async () => {
    const r = await runFile(fail("lock-order-inversion.ts"), fixed);
    const u = only(r);
    expect(u.kind).toBe("lock-order");
    expect(u.title).toBe("possible deadlock");
    expect(u.message).toBe(
      "lock order inversion: lock class `FRAME_TABLE` is acquired while holding `PAGE_TABLE`, but elsewhere `PAGE_TABLE` is acquired while holding `FRAME_TABLE`",
    );
    expect(u.thread).toBe("cpu2");
    expect(pointing(u)).toEqual([
      ["`PAGE_TABLE` was acquired here, on this thread", 31],
      ["on thread `cpu1`, `FRAME_TABLE` was acquired here", 24],
      ["and then `PAGE_TABLE` here, while `FRAME_TABLE` was held", 25],
    ]);
    expect(u.notes!.join("\n")).toContain("*** DEADLOCK ***");
    expect(u.notes!.some((n) => n.startsWith("replay this schedule with"))).toBe(true);
    const text = renderReport(u, { readSource: (f) => readFileSync(f, "utf8") });
    expect(text).toMatch(/^error: possible deadlock: lock order inversion/);
  });

  test("a cycle through three classes names the chain", async () => {
    const u = only(await runFile(fail("lock-order-cycle-three.ts"), fixed));
    expect(u.message).toMatch(/elsewhere they are taken in the order `vm_space` → `page_table` → `frame_alloc`$/);
    expect(u.notes).toContain("chain exists of: `frame_alloc` --> `vm_space` --> `page_table` --> `frame_alloc`");
  });

  test("declared ranks: a lower rank taken while holding a higher one, on a single CPU", async () => {
    const u = only(await runFile(fail("lock-rank-violation.ts")));
    expect(u.message).toBe(
      "lock rank violation: lock class `frame_alloc` (rank 1) is acquired while holding `page_table` (rank 2); locks must be acquired in increasing rank",
    );
  });

  test("two locks of one class (one allocation site) nested is recursive locking; the class is named after the site", async () => {
    const u = only(await runFile(fail("lock-recursive-class.ts"), fixed));
    expect(u.message).toBe(
      "possible recursive locking: thread `main` is acquiring a lock of class `lock allocated at test/corpus/fail/locks/lock-recursive-class.ts:12:10` while holding another lock of the same class",
    );
  });

  test("consistent orders and ranks are clean", async () => {
    for (const f of ["lock-consistent-order.ts", "lock-ranks-increasing.ts", "lock-spinlock-counter.ts", "lock-ticket-lock.ts"]) {
      for (let seed = 0; seed < 5; seed++) expect((await runFile(`test/corpus/pass/locks/${f}`, { seed })).ub, `${f} seed ${seed}`).toEqual([]);
    }
  });
});

describe("relocking", () => {
  test("spinning on a lock the thread holds is a deadlock at the spin, pointing where the caller took it", async () => {
    const u = only(await runFile(fail("deadlock-self-relock.ts")));
    expect([u.kind, u.location.line]).toEqual(["deadlock", 13]);
    expect(pointing(u)).toEqual([["this thread already holds the lock it is waiting for, acquired here (a relock: it waits for itself)", 32]]);
  });

  test("an annotation of a lock the thread already holds is a self-deadlock", async () => {
    const u = only(await runFile(fx("self-annotated.ts")));
    expect(u.kind).toBe("deadlock");
    expect(u.message).toMatch(/^deadlock: thread `main` is acquiring a lock of class `irq_lock` that it already holds/);
    expect(pointing(u)).toEqual([["the thread acquired it here, and has not released it since", 7]]);
  });

  test("the ABBA deadlock happening reports every stuck thread, and no lock-order (the second locks were never taken)", async () => {
    const r = await runFile(fail("deadlock-abba.ts"), fixed);
    expect(r.ub.map((u) => [u.kind, u.thread, u.location.line]).sort()).toEqual([
      ["deadlock", "cpu1", 14],
      ["deadlock", "cpu2", 14],
      ["deadlock", "main", 34],
    ]);
  });
});

describe("annotations", () => {
  test("releasing a lock the thread does not hold is a warning (bad unlock balance)", async () => {
    const r = await runFile(fx("unbalanced.ts"));
    expect(r.ub).toEqual([]);
    expect(r.output).toEqual(["still running"]);
    expect(r.warnings?.[0].message).toMatch(/^bad unlock balance: `lock_released` of the lock at 0x[0-9a-f]+, which thread `main` does not hold$/);
  });

  test("add no happens-before: a spin lock with Relaxed orderings races on what it protects", async () => {
    const u = only(await runFile("test/corpus/fail/races/race-spinlock-relaxed.ts", fixed));
    expect(u.kind).toBe("data-race");
  });

  test("are no-ops natively", async () => {
    const checked = await runFile(fx("natively.ts"));
    const native = await runFile(fx("natively.ts"), { native: true });
    expect(checked.ub).toEqual([]);
    expect(native.output).toEqual(checked.output);
    expect(native.output).toEqual(["1 6"]);
  });
});
