// Isolation of compiled code (issue 10): the names the compiled code uses for itself (the
// Machine `$R`, the coverage arrays, the temporaries, ...) and the globals it hands in (`console`,
// `Math`, ...) cannot collide with the program's names, and nothing the program can name reaches
// the Machine or its module factory.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { createMachine } from "../../src/driver/create-machine.js";
import { compileProgram, FACTORY_PARAMS } from "../../src/interp/compile/index.js";
import { PROGRAM_GLOBALS } from "../../src/interp/compile/names.js";
import { LoadError, loadProgram } from "../../src/interp/loader/index.js";

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), "../fixtures/isolation");
const kmiri = createMachine({ cwd: dir });

/** The checked run and the native run of a fixture: both clean, the same output. */
async function sameAsNode(file: string): Promise<string[]> {
  const checked = await kmiri.run(file);
  const native = await kmiri.run(file, { native: true });
  expect(checked.ub).toEqual([]);
  expect(checked.panic).toBeUndefined();
  expect(checked.exitCode).toBe(0);
  expect(native.exitCode).toBe(0);
  expect(checked.output).toEqual(native.output);
  return checked.output;
}

async function loadError(source: string, options: { native?: boolean } = {}): Promise<LoadError> {
  try {
    await createMachine().run({ source, fileName: "bad.ts" }, options);
  } catch (e) {
    if (e instanceof LoadError) return e;
    throw e;
  }
  throw new Error("the program loaded");
}

describe("the compiled code's names cannot collide with the program's", () => {
  test("every internal name and handed-in global, declared at the top level and as parameters, behaves as on Node", async () => {
    const out = await sameAsNode("reserved-names.ts");
    expect(out).toEqual([
      "top-level this: undefined",
      "this in main: undefined",
      "param console: plain 10",
      "2",
      "worker 1 2 3 r 2,3",
      "joined 6",
      "caught 7 SyntaxError",
      "reads 42",
      "raw 99",
      "method 5 x",
      "object method 1 y",
      "5x y",
      "thenable 42",
      "then ran",
      "p,1,2,m",
      "mine 0 10 11 gen G sync then 1 2 3 4",
      "5 6 7 8 9 10 11 12 13 one oneC onei two three",
      "gm gm1 gc3",
      "my Promise mine too 2 3 4 50 0.25",
      "lib $R 3 7 logged lib $R 8 6 $R,$export,$i0,$import,default",
    ]);
  });

  test("a module without `$` that declares `Math`, `Promise`, `setTimeout` and `queueMicrotask` at its top level", async () => {
    expect(await sameAsNode("shadow-globals.ts")).toEqual(["-1 7 not a promise 42 class queueMicrotask", "loop 0", "loop 1"]);
  });

  test("`$R` written with a unicode escape is still the program's own name", async () => {
    expect(await sameAsNode("escaped-name.ts")).toEqual(["11"]);
  });

  test("each factory parameter is a name the module's text does not contain, or a global it does not declare", async () => {
    const src = await loadProgram(path.join(dir, "reserved-names.ts"), { cwd: dir });
    const program = compileProgram(src.modules.values(), true);
    expect(program.modules).toHaveLength(3);
    for (const m of program.modules) {
      expect(m.compiled.params).toHaveLength(FACTORY_PARAMS.length);
      m.compiled.params.forEach((name, i) => {
        const role = FACTORY_PARAMS[i];
        if ((PROGRAM_GLOBALS as readonly string[]).includes(name)) expect(name).toBe(role);
        else expect(m.source.js.includes(name), `${m.source.displayPath}: ${role} is ${name}`).toBe(false);
      });
    }
    const main = program.modules.find((m) => m.source.displayPath === "reserved-names.ts")!;
    // It writes `$1_R`, `$2_R` and `$3_R`: the compiler's names start with `$4_`.
    expect(main.compiled.params[0]).toBe("$4_R");
    // It declares `Math` and `Promise` itself: those parameters are renamed away.
    expect(main.compiled.params).not.toContain("Math");
    expect(main.compiled.params).not.toContain("Promise");
    expect(main.compiled.params).toContain("console");
    const plain = await loadProgram(path.join(dir, "shadow-globals.ts"), { cwd: dir });
    const compiled = compileProgram(plain.modules.values(), true).modules[0].compiled;
    expect(compiled.params[0]).toBe("$R");
    expect(compiled.params).toEqual(expect.arrayContaining(["console", "$global_Math", "$global_Promise", "setInterval"]));
  });
});

describe("nothing the program can name reaches the Machine", () => {
  test("`this` (top level, functions, threads, callbacks), `arguments`, run-time code and stack frames", async () => {
    const out = await sameAsNode("reach-machine.ts");
    expect(out).toEqual([
      "looked nothing reached",
      "undefined undefined undefined undefined undefined undefined",
      "ReferenceError EvalError TypeError",
    ]);
  });

  test("`arguments` outside a function is rejected, at the top level and in an arrow function there", async () => {
    for (const native of [false, true]) {
      const top = await loadError("const n = arguments.length;\nexport function main(): void {}\n", { native });
      expect(top.reason).toBe("unsupported");
      expect(top.message).toContain("`arguments` outside a function");
      expect(top.location).toMatchObject({ line: 1, column: 11 });
    }
    const arrow = await loadError("export function main(): void {}\nconst f = () => arguments[0];\n");
    expect(arrow.message).toContain("`arguments` outside a function");
    expect(arrow.location?.line).toBe(2);
  });

  test("`arguments` as a property name, and in functions, is the program's", async () => {
    const r = await createMachine().run({
      source: "const o = { arguments: 2 };\nfunction g(..._a: number[]): number { return arguments.length + o.arguments; }\nexport function main(): void { console.log(g(1, 1)); }\n",
    });
    expect(r.output).toEqual(["4"]);
  });

  test("direct `eval` is rejected everywhere: in a parameter default, natively too", async () => {
    for (const native of [false, true]) {
      const e = await loadError('function f(x = eval("$R")): unknown { return x; }\nexport function main(): void { f(); }\n', { native });
      expect(e.reason).toBe("unsupported");
      expect(e.message).toContain("direct `eval`");
      expect(e.location?.line).toBe(1);
    }
  });

  test("`new.target` outside a function does not parse", async () => {
    const e = await loadError("export function main(): void {}\nconsole.log(new.target);\n");
    expect(e.reason).toBe("syntax");
    expect(e.location?.line).toBe(2);
  });
});
