/**
 * The compiler's parts on their own: the splicer's ordering and position mapping, and the
 * analysis that decides which functions become generators.
 */
import { describe, expect, test } from "vitest";
import { parse } from "acorn";
import { Splicer } from "../../src/interp/compile/edit.js";
import { analyzeProgram } from "../../src/interp/compile/analyze.js";
import type { AnyNode } from "../../src/interp/compile/walk.js";

describe("Splicer", () => {
  test("orders text at one position: openings, closings, replacement, last", () => {
    const s = new Splicer("ab");
    s.after(1, "]1");
    s.before(1, "(1");
    s.last(1, "!");
    s.replace(1, 2, "B");
    s.before(1, "(2");
    s.after(1, "]2");
    expect(s.toString()).toBe("a(1(2]2]1B!");
  });

  test("nested wrappers close innermost first", () => {
    // f(g(x)) where both calls end at the same position in `f(g(x))`? Here: a node and its child ending together.
    const s = new Splicer("x");
    s.before(0, "<outer>");
    s.after(1, "</outer>");
    s.before(0, "<inner>");
    s.after(1, "</inner>");
    expect(s.toString()).toBe("<outer><inner>x</inner></outer>");
  });

  test("lazy text is computed at the end", () => {
    const s = new Splicer("body");
    let temps = "";
    s.before(0, () => temps);
    temps = "let $r;";
    expect(s.toString()).toBe("let $r;body");
  });

  test("maps output offsets back to the original", () => {
    const src = "const a = f(x);\nconst b = 2;";
    const s = new Splicer(src);
    s.before(10, "($call(");
    s.after(14, "))");
    s.replace(16, 21, "let");
    const out = s.toString();
    expect(out).toBe("const a = ($call(f(x)));\nlet b = 2;");
    expect(s.toOriginal(out.indexOf("f(x)"))).toBe(src.indexOf("f(x)"));
    expect(s.toOriginal(out.indexOf("b = 2"))).toBe(src.indexOf("b = 2"));
    expect(s.toOriginal(0)).toBe(0);
  });
});

describe("which functions become generators", () => {
  const analyse = (code: string, rt: Record<string, string> = {}) => {
    const ast = parse(code, { ecmaVersion: "latest", sourceType: "module", locations: true }) as unknown as AnyNode;
    const a = analyzeProgram([{ ast, rtImports: new Map(Object.entries(rt)) }]);
    const byName = new Map<string, boolean>();
    for (const info of a.fnInfo.values()) if (info.name) byName.set(info.name, info.mayYield);
    return byName;
  };

  test("memory accesses alone keep a function plain; a scheduling point makes it a generator", () => {
    const g = analyse(
      `function get(p, i) { return p.add(i).read(); }
       function say(x) { console.log(x); }
       function both(p) { say(get(p, 0)); }`,
    );
    expect(g.get("get")).toBe(false);
    expect(g.get("say")).toBe(true);
    expect(g.get("both")).toBe(true);
  });

  test("rt imports are classified by their imported name", () => {
    const g = analyse(`function a(h) { return go(h); } function b(p) { return make(p); }`, { go: "spawn", make: "alloc" });
    expect(g.get("a")).toBe(true);
    expect(g.get("b")).toBe(false);
  });

  test("an unknown callee is assumed to yield; known built-ins are not", () => {
    const g = analyse(`function f(cb) { cb(); } function m(x) { return Math.max(x, 1) + parseInt("2"); }`);
    expect(g.get("f")).toBe(true);
    expect(g.get("m")).toBe(false);
  });

  test("callbacks of map/forEach make the call yield only when the callback can", () => {
    const g = analyse(
      `function joinAll(hs) { return hs.map((h) => h.join()); }
       function double(xs) { return xs.map((x) => x * 2); }
       function viaName(xs) { return xs.forEach(say); }
       function say(x) { console.log(x); }`,
    );
    expect(g.get("joinAll")).toBe(true);
    expect(g.get("double")).toBe(false);
    expect(g.get("viaName")).toBe(true);
  });

  test("yielding propagates through a chain of calls, across recursion", () => {
    const g = analyse(
      `function a(n) { return n ? b(n - 1) : 0; }
       function b(n) { return a(n) + c(); }
       function c() { yield_now(); return 1; }`,
      { yield_now: "yield_now" },
    );
    expect([g.get("a"), g.get("b"), g.get("c")]).toEqual([true, true, true]);
  });

  test("a call of a method defined in a module analysed later sees it (a name shared with a never-yielding built-in)", () => {
    const mod = (src: string, rt: Record<string, string> = {}) => ({
      ast: parse(src, { ecmaVersion: "latest", sourceType: "module" }) as unknown as AnyNode,
      rtImports: new Map(Object.entries(rt)),
    });
    // The entry module comes first, as the loader lists it; `write` is `Ptr.write` by name (never
    // yields) unless the program defines a `write` that may: the lock's, in the second module.
    const user = mod(`export function f(lock) { lock.write().release(); }`);
    const lib = mod(`export class RwLock { write() { for (;;) { if (this.w()) return this; spin_loop(); } } w() { return true; } }`, { spin_loop: "spin_loop" });
    const a = analyzeProgram([user, lib]);
    let writeCall: AnyNode | null = null;
    const find = (n: AnyNode): void => {
      if (!n || typeof n !== "object") return;
      if (n.type === "CallExpression" && n.callee.type === "MemberExpression" && n.callee.property.name === "write") writeCall = n;
      for (const k of Object.keys(n)) {
        const v = (n as Record<string, unknown>)[k];
        if (Array.isArray(v)) v.forEach((x) => find(x as AnyNode));
        else if (v && typeof v === "object" && (v as AnyNode).type) find(v as AnyNode);
      }
    };
    find(user.ast);
    expect(writeCall).not.toBeNull();
    expect(a.callYields(writeCall!)).toBe(true);
    expect(a.nameYields("f")).toBe(true);
  });

  test("constructors, getters and setters are never generators", () => {
    const a = analyzeProgram([
      {
        ast: parse(`class K { constructor() { console.log(1); } get v() { console.log(2); return 1; } m() { console.log(3); } }`, {
          ecmaVersion: "latest",
          sourceType: "module",
        }) as unknown as AnyNode,
        rtImports: new Map(),
      },
    ]);
    const infos = [...a.fnInfo.values()];
    expect(infos.map((i) => [i.forcedSync, i.mayYield])).toEqual([
      [true, false],
      [true, false],
      [false, true],
    ]);
  });
});

describe("primitive parameters read from the TypeScript source", () => {
  test("a parameter typed with primitives (unions, arrays) is left out; anything else is looked at at run time", async () => {
    const { primitiveParams } = await import("../../src/interp/compile/ts-params.js");
    const src = [
      "function a(r: Ref<u32>, n: number, m: RefMut<Node>) {}",
      "function b<T extends Layout<unknown>>(this: Ctx, b: Box<T>, cb: (x: number) => void = noop, s: string | undefined) {}",
      "const c = (x: Guard, { y }: Opts, z?: bigint[], w = 3): void => {};",
      "class K { m(p: Ptr<u32>, q: number | Ref<u8>, k: boolean) {} }",
    ];
    expect(primitiveParams(src[0], 0)).toEqual([false, true, false]);
    expect(primitiveParams(src[1], 0)).toEqual([false, false, true]);
    expect(primitiveParams(src[2], src[2].indexOf("("))).toEqual([false, false, true, false]);
    expect(primitiveParams(src[3], src[3].indexOf("m("))).toEqual([false, false, true]);
  });
});
