// createMachine: a checked machine in one call, programs from files or source text; and the
// Machine's refusal of anything but the checked runtime (the native kmiri/rt would run unchecked).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { createMachine } from "../../src/driver/create-machine.js";
import { compileProgram } from "../../src/interp/compile/index.js";
import { loadProgram } from "../../src/interp/loader/index.js";
import { Machine } from "../../src/interp/machine.js";
import { checkedRuntime } from "../../src/shims/checked/runtime.js";
import * as checkedRt from "../../src/shims/checked/index.js";
import * as nativeRt from "../../src/shims/native/index.js";

const UAF = `import { alloc, dealloc, u32 } from "kmiri/rt";
export function main(): void {
  unsafe: {
    const p = alloc(u32);
    p.write(7);
    dealloc(p, u32);
    console.log(p.read());
  }
}
`;
const FIXED = UAF.replace("dealloc(p, u32);\n    console.log(p.read());", "console.log(p.read());\n    dealloc(p, u32);");

describe("createMachine", () => {
  test("runs a program given as source text: the bug reported at its line, the fix clean", async () => {
    const kmiri = createMachine({ seed: 5 });
    expect(kmiri.options.seed).toBe(5);
    const bad = await kmiri.run({ source: UAF, fileName: "uaf.ts" });
    expect(bad.seed).toBe(5);
    expect(bad.ub).toHaveLength(1);
    expect(bad.ub[0]).toMatchObject({ kind: "use-after-free", location: { file: "uaf.ts", line: 7 } });
    const good = await kmiri.run({ source: FIXED, fileName: "uaf.ts" });
    expect(good.ub).toEqual([]);
    expect(good.output).toEqual(["7"]);
  });

  test("a program of several modules given as text", async () => {
    const r = await createMachine().run({
      source: `import { twice } from "./lib/util.js";\nexport function main(): void { console.log(twice(21)); }\n`,
      files: { "lib/util.ts": "export function twice(x: number): number { return 2 * x; }\n" },
    });
    expect(r.ub).toEqual([]);
    expect(r.output).toEqual(["42"]);
  });

  test("refuses file names that leave the program's directory", async () => {
    await expect(createMachine().run({ source: FIXED, fileName: "../x.ts" })).rejects.toThrow(/relative path inside the program/);
  });

  test("runs the ktests of a program given as text, and of a file", async () => {
    const source = `import { ktest, assert_eq, Box, u32 } from "kmiri/rt";
ktest("adds", () => { assert_eq(1 + 1, 2); });
ktest("leaks", () => { Box.into_raw(Box.new(u32, 1)); });
`;
    const r = await createMachine().test({ source, fileName: "t.ts" });
    expect(r.tests.map((t) => [t.name, t.status])).toEqual([
      ["adds", "pass"],
      ["leaks", "ub"],
    ]);
    const dir = mkdtempSync(path.join(tmpdir(), "kmiri-cm-"));
    try {
      writeFileSync(path.join(dir, "t.ts"), source);
      const f = await createMachine({ cwd: dir }).test("t.ts", { filter: "adds" });
      expect(f.tests.map((t) => [t.name, t.status])).toEqual([["adds", "pass"]]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a Machine built by hand", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "kmiri-hand-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const compiled = async () => {
    writeFileSync(path.join(dir, "uaf.ts"), UAF);
    const src = await loadProgram(path.join(dir, "uaf.ts"), { cwd: dir });
    return { program: compileProgram(src.modules.values(), true), entry: src.entry.path };
  };

  test("refuses the native kmiri/rt, or module namespaces without the checked runtime", async () => {
    const { program } = await compiled();
    expect(() => new Machine(program, nativeRt as never)).toThrow(TypeError);
    expect(() => new Machine(program, { "kmiri/rt": nativeRt, "kmiri/mirch": {} } as never)).toThrow(/needs the checked runtime/);
    expect(() => new Machine(program, { "kmiri/rt": checkedRt } as never)).toThrow(/createMachine/);
  });

  test("with the checked runtime, finds the use after free", async () => {
    const { program, entry } = await compiled();
    const m = new Machine(program, checkedRuntime);
    m.run(entry, (ns) => ns.main as () => unknown);
    expect(m.allFindings().map((r) => r.kind)).toEqual(["use-after-free"]);
  });
});
