// The import graph against the design (scripts/check-imports.mjs): no cycle outside one shim
// runtime, and every layer imports only what it may (memory no analysis, host or shim; the
// analyses nothing of the engine). The script's own rules are tested on a small tree too, so
// that a checker that finds nothing cannot pass silently.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";

const SCRIPT = path.resolve("scripts/check-imports.mjs");

function check(root: string): { status: number; json: { files: number; cycles: { cycle: string[] }[]; layerViolations: { from: string; to: string }[] } } {
  const r = spawnSync(process.execPath, [SCRIPT, root, "--json"], { encoding: "utf8" });
  return { status: r.status ?? -1, json: JSON.parse(r.stdout) };
}

describe("the import graph of src/", () => {
  test("has no cycle and breaks no layer rule", () => {
    const { status, json } = check("src");
    expect(json.files).toBeGreaterThan(100);
    expect(json.cycles).toEqual([]);
    expect(json.layerViolations).toEqual([]);
    expect(status).toBe(0);
  });
  test("prints a readable summary", () => {
    const out = execFileSync(process.execPath, [SCRIPT, "src"], { encoding: "utf8" });
    expect(out).toMatch(/no cycle/);
    expect(out).toMatch(/every import allowed/);
  });
});

describe("the checker", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "kmiri-imports-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  };

  test("finds a cycle of value imports, ignores one closed by a type-only import, allows one inside a shim runtime", () => {
    write("driver/a.ts", 'import { b } from "./b.js";\nexport const a = b;\n');
    write("driver/b.ts", 'import { a } from "./a.js";\nexport const b = 1; export const c = () => a;\n');
    write("driver/c.ts", 'import { d } from "./d.js";\nexport const c = d;\n');
    write("driver/d.ts", 'import type { c } from "./c.js";\nexport const d = 1 as unknown as typeof c;\n');
    write("shims/checked/p.ts", 'import { q } from "./q.js";\nexport const p = q;\n');
    write("shims/checked/q.ts", 'import { p } from "./p.js";\nexport const q = () => p;\n');
    const { status, json } = check(dir);
    expect(json.cycles.map((c) => c.cycle)).toEqual([["driver/a.ts", "driver/b.ts", "driver/a.ts"]]);
    expect(status).toBe(1);
  });

  test("finds memory importing an analysis, even for types only", () => {
    rmSync(path.join(dir, "driver"), { recursive: true, force: true });
    write("interp/memory/memory.ts", 'import type { RaceDetector } from "../../concurrency/data-race.js";\nexport type M = RaceDetector;\n');
    write("concurrency/data-race.ts", "export class RaceDetector {}\n");
    const { status, json } = check(dir);
    expect(json.layerViolations).toEqual([
      expect.objectContaining({ from: "interp/memory/memory.ts", to: "concurrency/data-race.ts" }),
    ]);
    expect(status).toBe(1);
  });
});
