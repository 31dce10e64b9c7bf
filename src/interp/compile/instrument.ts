/**
 * The instrumenting compiler: one module's JavaScript (tsc output) in, the source of a module
 * factory out.
 *
 * How program code runs on the Machine
 * ------------------------------------
 * The module body becomes the body of a factory `(function($R, $import, ...) { ... })`, run once
 * per Machine. `$R` is the Machine: the instrumented code reads and writes a few of its fields
 * directly, because these run on every call and loop iteration:
 *
 *  - `$R.s` / `$R.sp`: the running thread's stack of call-site ids. Every call pushes its site id
 *    before the callee runs and pops it after, so the top of the stack is always the site of the
 *    innermost call: a shim (`p.read()`) reports at `$R.s[$R.sp - 1]`, and a backtrace is the stack.
 *    An exception leaves entries behind; `try` restores the depth it saved. A program function
 *    sets FRAME_MARK on its caller's entry when it starts, so the backtrace can tell a frame from
 *    a call whose arguments are still being evaluated (`f(g())`: `f` is on the stack under `g`).
 *  - `$R.b`: the scheduling budget. Scheduling points (atomics, spawn, join, …) decrement it; when
 *    it is spent, the next call site in a generator yields to the scheduler.
 *  - `$R.lb`: the loop budget. Every loop iteration decrements it; when it is spent,
 *    `$R.loopTick(site)` counts steps and stops a program that runs too long.
 *  - `$C[k]++` counts coverage point k (a statement; a function's calls are its first
 *    statement's count, or, for an empty body, a counter its prologue increments), `$U[k]++`
 *    unsafe region k (an entry). `$C`
 *    and `$U` are the Machine's Float64Arrays (machine.ts `lineHits`, `unsafeHits`): a count is
 *    exact up to 2^53 and never wraps, where a Uint32Array would wrap to 0 (not run) after 2^32.
 *
 * Functions that can reach a scheduling point (analyze.ts) become generator functions wrapped by
 * `$wrap`: the wrapper is a plain function (so built-ins such as `Array.prototype.map` can call
 * it; it runs the generator to completion) and carries the generator function under `$GEN`, which
 * instrumented call sites in generators call and delegate to with `yield*`. So a thread can be
 * suspended inside any depth of program calls, and nothing a built-in calls loses a check: only
 * the preemption inside such a callback is deferred to its return. The other functions stay plain.
 *
 * The names `$R`, `$C`, `$r`, ... above are the compiled code's own bindings with the prefix `$`;
 * a module that contains `$` gets another prefix (`$1_`, ...) that neither its text nor its
 * identifiers contain, so no program name can collide with them (names.ts). The factory runs with
 * `this` undefined (link.ts); `arguments` outside functions and direct `eval`, which could name
 * the factory's bindings, are rejected.
 *
 * The compiler splices text into the original (edit.ts) and inserts no line breaks, so line
 * numbers of the factory are those of the module, and V8's positions map back (see toOriginal).
 */
import type { SourceLocation } from "../report.js";
import type { Analysis } from "./analyze.js";
import { functionName } from "./analyze.js";
import { Splicer } from "./edit.js";
import { rewriteImportReferences } from "./live-imports.js";
import { primitiveParams } from "./ts-params.js";
import { SiteTable } from "./sites.js";
import type { AnyNode } from "./walk.js";
import { childNodes, isFunction, patternNames } from "./walk.js";
import { GUEST_API_NAMES } from "../../shims/manifest.js";
import { internalNames, moduleLevelArguments } from "./names.js";

/** A program's source could not be compiled: unsupported syntax. */
export class CompileError extends Error {
  constructor(
    message: string,
    readonly location: SourceLocation,
  ) {
    super(message);
    this.name = "CompileError";
  }
}

/** What the compiler needs of a loaded module. */
export interface ModuleSource {
  path: string;
  displayPath: string;
  js: string;
  ast: AnyNode;
  toSource(line: number, column: number): { line: number; column: number };
  /** The original source (the `.ts`), where parameter types are read. */
  source: string;
  /** Specifier → module key (`kmiri/rt`, or the absolute path of a program module). */
  resolve(specifier: string): string;
}

/** One compiled module. */
export interface CompiledModule {
  path: string;
  displayPath: string;
  /** The factory's body (`"use strict";` and the module's code); its parameters are {@link params}. */
  code: string;
  /** The factory's parameter names, in FACTORY_PARAMS order (internal ones carry the module's prefix: names.ts). */
  params: string[];
  /** Maps an offset of `code` back to an offset of the module's JavaScript. */
  toJsOffset(offset: number): number;
  /**
   * Coverage counter id (an index of `$C`) → the `.ts` line of its statement, or 0 for the call
   * counter of a function with no statement (not a line: see {@link CompiledModule.functions}).
   */
  coverageLines: number[];
  /** Unsafe region id → `.ts` line where it starts. */
  unsafeLines: number[];
  /**
   * Unsafe region id → where it is in the `.ts` source (1-based lines, `endLine` inclusive) and
   * whether it is an `unsafe:` labelled block or a function whose body starts with `"unsafe";`.
   * Parallel to `unsafeLines` (`unsafeRegions[i].line === unsafeLines[i]`).
   */
  unsafeRegions: UnsafeRegionSite[];
  /** Every function of the module (declarations, expressions, arrows, methods), in source order of their bodies' compilation. */
  functions: FunctionSite[];
}

export { FACTORY_PARAMS, PROGRAM_GLOBALS } from "./names.js";

/** Where one unsafe region of a module is, in `.ts` lines (see `CompiledModule.unsafeRegions`). */
export interface UnsafeRegionSite {
  line: number;
  endLine: number;
  kind: "block" | "function";
}

/** One function of a module: its name as backtraces show it, its `.ts` lines, its call counter. */
export interface FunctionSite {
  /** `bump`, `Frame::new`, `Frame::from_raw`, `main::{closure}` (as in a backtrace). */
  name: string;
  line: number;
  endLine: number;
  /**
   * The `$C` counter that counts its calls: its first statement's (or expression body's), else
   * one of its own that its prologue increments (its `coverageLines` entry is 0).
   */
  counter: number;
}

/** Bit set on a call-site entry of the stack once the callee (a program function) runs. */
export const FRAME_MARK = 1 << 30;
/** The site id of a stack entry. */
export const SITE_MASK = FRAME_MARK - 1;

interface FnCtx {
  /** The function node (undefined for the module body). */
  node?: AnyNode;
  /** Compiled as a generator: call sites may yield. */
  gen: boolean;
  /** Lexically inside an unsafe region. */
  unsafe: boolean;
  /** Name shown in backtraces. */
  display: string;
  depth: number;
  /** Deepest nesting of calls (needs `$r`), and of calls in the full form (needs `$o`/`$f`). */
  maxDepth: number;
  maxFull: number;
  tries: number;
  /** Inside parameter defaults: calls are left alone (body temporaries are not visible there). */
  noCalls: boolean;
}

const LOOP_TYPES = new Set(["ForStatement", "ForInStatement", "ForOfStatement", "WhileStatement", "DoWhileStatement"]);

/**
 * Compiles one module.
 * @param instrument false for native mode: only the module syntax is rewritten.
 */
export function compileModule(
  mod: ModuleSource,
  analysis: Analysis | null,
  sites: SiteTable,
  instrument: boolean,
): CompiledModule {
  const js = mod.js;
  const s = new Splicer(js);
  const args = moduleLevelArguments(mod.ast);
  /** The compiled code's own names, none of which the program can write (names.ts). */
  const n = internalNames(js, mod.ast);
  const R = n.R;
  const coverageLines: number[] = [];
  const unsafeLines: number[] = [];
  const unsafeRegions: UnsafeRegionSite[] = [];
  const functions: FunctionSite[] = [];
  /**
   * Records a function and its call counter: the counter of `entry`, the first statement of its
   * body that runs on every call (or its expression body), when it has one — no extra work per
   * call — else a counter of its own in `$C` (no line), which the prologue increments (returned;
   * -1 when the function needs none).
   */
  const addFunction = (node: AnyNode, name: string, entry: AnyNode | undefined): number => {
    const line = tsPos(node.loc.start.line, node.loc.start.column).line;
    const endLine = Math.max(line, tsPos(node.loc.end.line, node.loc.end.column).line);
    if (entry) {
      functions.push({ name, line, endLine, counter: cover(entry) });
      return -1;
    }
    coverageLines.push(0);
    functions.push({ name, line, endLine, counter: coverageLines.length - 1 });
    return coverageLines.length - 1;
  };
  /** Records an unsafe region (its start line in `unsafeLines`, its extent in `unsafeRegions`); returns its id. */
  const addUnsafeRegion = (node: AnyNode, kind: UnsafeRegionSite["kind"]): number => {
    const line = tsPos(node.loc.start.line, node.loc.start.column).line;
    const endLine = Math.max(line, tsPos(node.loc.end.line, node.loc.end.column).line);
    unsafeLines.push(line);
    unsafeRegions.push({ line, endLine, kind });
    return unsafeLines.length - 1;
  };
  const imports: string[] = [];
  /** Export getters, built at the end (an `export { x }` may name an import declared later). */
  const exportGetters: (string | (() => string))[] = [];
  const stars: string[] = [];
  const moduleWraps: string[] = [];
  let importCount = 0;

  const tsPos = (line: number, column: number) => mod.toSource(line, column);
  const tsLineStarts = [0];
  for (let i = mod.source.indexOf("\n"); i !== -1; i = mod.source.indexOf("\n", i + 1)) tsLineStarts.push(i + 1);
  /** Parameters of a function declared `Ref<…>`/`RefMut<…>`/`Box<…>` in the source, by name. */
  /**
   * The parameters whose values the prologue looks at for references to retag (see
   * src/shims/checked/fn-entry.ts): every name a parameter binds (destructured ones included),
   * except a plain parameter declared with a primitive type (ts-params.ts).
   */
  const checkedParams = (node: AnyNode): { name: string; node: AnyNode }[] => {
    if (node.params.length === 0) return [];
    let primitive: boolean[] = [];
    if (mod.source !== mod.js) {
      const p = tsPos(node.loc.start.line, node.loc.start.column);
      primitive = primitiveParams(mod.source, (tsLineStarts[p.line - 1] ?? 0) + p.column - 1);
    }
    const out: { name: string; node: AnyNode }[] = [];
    node.params.forEach((param: AnyNode, i: number) => {
      const id = param.type === "AssignmentPattern" ? param.left : param;
      if (id.type === "Identifier") {
        if (!primitive[i]) out.push({ name: id.name, node: id });
        return;
      }
      for (const name of patternNames(id)) out.push({ name, node: id });
    });
    return out;
  };
  const locOf = (node: AnyNode): SourceLocation => {
    const a = tsPos(node.loc.start.line, node.loc.start.column);
    const b = tsPos(node.loc.end.line, node.loc.end.column);
    const loc: SourceLocation = { file: mod.displayPath, line: a.line, column: a.column };
    if (b.line === a.line && b.column > a.column) {
      loc.endLine = b.line;
      loc.endColumn = b.column;
    }
    return loc;
  };
  const unsupported = (node: AnyNode, what: string, hint: string, why = "kmiri runs synchronous kernel code"): never => {
    const loc = locOf(node);
    throw new CompileError(`unsupported syntax: ${what} at ${loc.file}:${loc.line}:${loc.column}; ${why}: ${hint}`, loc);
  };
  /** Async functions and `await`: their continuations would run after the code that started them, unchecked. */
  const noPromises = (node: AnyNode, what: string): never =>
    unsupported(node, what, "the Machine runs threads, use `spawn` and `join`", "promises and microtasks are not supported");
  const site = (node: AnyNode, ctx: FnCtx) => sites.add(locOf(node), ctx.display, ctx.unsafe);
  /** The coverage counter of a statement (or an arrow's expression body), made on first use. */
  const counters = new Map<AnyNode, number>();
  const cover = (node: AnyNode) => {
    let k = counters.get(node);
    if (k === undefined) {
      coverageLines.push(tsPos(node.loc.start.line, node.loc.start.column).line);
      k = coverageLines.length - 1;
      counters.set(node, k);
    }
    return k;
  };
  /** Next non-space, non-comment character at or after `pos` that is `ch` (skipping `)`s). */
  const findChar = (pos: number, ch: string): number => {
    for (let i = pos; i < js.length; i++) {
      const c = js[i];
      if (c === ch) return i;
      if (c === "/" && js[i + 1] === "*") i = js.indexOf("*/", i + 2) + 1;
      else if (c === "/" && js[i + 1] === "/") i = js.indexOf("\n", i);
      else if (c !== ")" && !/\s/.test(c)) return -1;
    }
    return -1;
  };

  if (args) {
    unsupported(args, "`arguments` outside a function", "use a rest parameter (`...args`)", "an ES module has no `arguments` binding there");
  }

  // ── module syntax ────────────────────────────────────────────────────────────
  /** Imported names of program modules → the expression that reads them live. */
  const liveImports = new Map<string, string>();
  /** A module-level name as an export getter reads it (live when it is itself an import). */
  const exportRead = (local: string) => liveImports.get(local) ?? local;
  const importBinding = (spec: string): string => {
    const name = n.i(importCount++);
    imports.push(`const ${name} = ${n.import}(${JSON.stringify(mod.resolve(spec))});`);
    return name;
  };

  function moduleStatement(node: AnyNode, ctx: FnCtx): boolean {
    switch (node.type) {
      case "ImportDeclaration": {
        const ns = importBinding(node.source.value);
        // The guest APIs (kmiri/rt, kmiri/mirch) never change: their names are plain constants
        // (fast in hot loops). Program modules' names are read live (live-imports.ts).
        const builtin = GUEST_API_NAMES.has(mod.resolve(node.source.value));
        const binds: string[] = [];
        for (const sp of node.specifiers) {
          let read: string;
          if (sp.type === "ImportNamespaceSpecifier") read = ns;
          else if (sp.type === "ImportDefaultSpecifier") read = `${ns}["default"]`;
          else read = `${ns}[${JSON.stringify(sp.imported.type === "Identifier" ? sp.imported.name : sp.imported.value)}]`;
          if (builtin || sp.type === "ImportNamespaceSpecifier") binds.push(`${sp.local.name} = ${read}`);
          else liveImports.set(sp.local.name, read);
        }
        if (binds.length) imports.push(`const ${binds.join(", ")};`);
        s.replace(node.start, node.end, "");
        return true;
      }
      case "ExportAllDeclaration": {
        const ns = importBinding(node.source.value);
        if (node.exported) {
          const name = node.exported.type === "Identifier" ? node.exported.name : node.exported.value;
          exportGetters.push(`${JSON.stringify(name)}: () => ${ns}`);
        } else stars.push(ns);
        s.replace(node.start, node.end, "");
        return true;
      }
      case "ExportNamedDeclaration": {
        if (node.declaration) {
          s.replace(node.start, node.declaration.start, "");
          const d = node.declaration;
          const names =
            d.type === "VariableDeclaration"
              ? d.declarations.flatMap((x: AnyNode) => patternNames(x.id))
              : [d.id.name];
          for (const n of names) exportGetters.push(`${JSON.stringify(n)}: () => ${n}`);
          statementInList(d, ctx, node);
          return true;
        }
        const ns = node.source ? importBinding(node.source.value) : null;
        for (const sp of node.specifiers) {
          const exported = sp.exported.type === "Identifier" ? sp.exported.name : sp.exported.value;
          const local = sp.local.type === "Identifier" ? sp.local.name : sp.local.value;
          exportGetters.push(() => `${JSON.stringify(exported)}: () => ${ns ? `${ns}[${JSON.stringify(local)}]` : exportRead(local)}`);
        }
        s.replace(node.start, node.end, "");
        return true;
      }
      case "ExportDefaultDeclaration": {
        const d = node.declaration;
        if ((d.type === "FunctionDeclaration" || d.type === "ClassDeclaration") && d.id) {
          s.replace(node.start, d.start, "");
          exportGetters.push(`"default": () => ${d.id.name}`);
          statementInList(d, ctx, node);
        } else {
          s.replace(node.start, d.start, `const ${n.default} = (`);
          s.after(d.end, ")");
          exportGetters.push(`"default": () => ${n.default}`);
          if (instrument) s.before(node.start, `${n.C}[${cover(node)}]++;`);
          visit(d, ctx, node);
        }
        return true;
      }
    }
    return false;
  }

  // ── statements ───────────────────────────────────────────────────────────────
  function isExecutable(node: AnyNode): boolean {
    return node.type !== "FunctionDeclaration" && node.type !== "EmptyStatement" && !node.directive;
  }

  /** A statement in a statement list: coverage point, then the statement. */
  function statementInList(node: AnyNode, ctx: FnCtx, parent: AnyNode | undefined): void {
    if (!ctx.node && moduleStatement(node, ctx)) return;
    if (instrument && isExecutable(node)) s.before(node.start, `${n.C}[${cover(node)}]++;`);
    visit(node, ctx, parent);
  }

  function statementList(list: AnyNode[], ctx: FnCtx, parent: AnyNode): void {
    for (const st of list) statementInList(st, ctx, parent);
  }

  /**
   * A statement in a position that is not a list (an `if` branch, a loop body): made a block so
   * that a coverage point (and `prefix`) can go in front of it.
   */
  function nestedStatement(node: AnyNode, ctx: FnCtx, parent: AnyNode, prefix = ""): void {
    if (node.type === "BlockStatement") {
      if (prefix) s.after(node.start + 1, prefix);
      visit(node, ctx, parent);
      return;
    }
    if (!instrument) {
      visit(node, ctx, parent);
      return;
    }
    s.before(node.start, "{" + prefix);
    s.after(node.end, "}");
    statementInList(node, ctx, parent);
  }

  // ── functions ────────────────────────────────────────────────────────────────
  function displayName(node: AnyNode, parent: AnyNode | undefined, outer: FnCtx, classStack: string[]): string {
    const own = functionName(node, parent);
    const cls = classStack.length ? classStack[classStack.length - 1] : null;
    if (parent && parent.type === "MethodDefinition") {
      if (parent.kind === "constructor") return `${cls ?? "<class>"}::new`;
      return `${cls ?? "<class>"}::${own ?? "<method>"}`;
    }
    if (own && (node.type === "FunctionDeclaration" || parent?.type === "VariableDeclarator" || parent?.type === "Property")) {
      return outer.node ? `${outer.display}::${own}` : own;
    }
    return outer.node || outer.display !== "<module>" ? `${outer.display}::{closure}` : own ?? "{closure}";
  }

  const classStack: string[] = [];

  function visitFunction(node: AnyNode, outer: FnCtx, parent: AnyNode | undefined, hoist: string[] | null): void {
    if (node.async) noPromises(node, "an async function");
    if (node.generator) unsupported(node, "a generator function", "kmiri compiles functions to generators itself");
    const info = analysis?.fnInfo.get(node);
    const gen = instrument && !!info && info.mayYield && !info.forcedSync;
    const body = node.body;
    const isBlock = body.type === "BlockStatement";
    const directives: AnyNode[] = isBlock ? body.body.filter((st: AnyNode) => st.directive !== undefined) : [];
    const unsafeFn = directives.some((d) => d.directive === "unsafe");
    const ctx: FnCtx = {
      node,
      gen,
      unsafe: outer.unsafe || unsafeFn,
      display: displayName(node, parent, outer, classStack),
      depth: 0,
      maxDepth: -1,
      maxFull: -1,
      tries: 0,
      noCalls: false,
    };
    // Its call counter (lcov's FN/FNDA records, coverage.functions). Nothing before the first
    // executable statement of the body can skip it (declarations are hoisted; the prologue only
    // stops the run), so its count is the calls.
    const entry = isBlock ? body.body.find((st: AnyNode) => isExecutable(st)) : body;
    const calls = instrument ? addFunction(node, ctx.display, entry) : -1;

    if (gen) {
      if (node.type === "FunctionDeclaration") {
        s.after(node.start + "function".length, "*");
        if (node.id) {
          const w = `${node.id.name} = ${n.wrap}(${node.id.name});`;
          if (hoist) hoist.push(w);
          else s.after(node.end, w);
        }
      } else if (node.type === "FunctionExpression") {
        const isMethod = parent && (parent.type === "MethodDefinition" || (parent.type === "Property" && (parent.method || parent.kind !== "init")));
        if (isMethod) {
          // `*` goes before the key (or its `[`); the class / object literal is wrapped by its visitor.
          let at = parent!.key.start;
          if (parent!.computed) at = js.lastIndexOf("[", at);
          s.before(at, "*");
        } else {
          s.before(node.start, `${n.wrap}(`);
          s.after(node.start + "function".length, "*");
          s.after(node.end, ")");
        }
      } else {
        arrowToGenerator(node);
      }
    }
    if (instrument && node.type === "ArrowFunctionExpression" && !isBlock) {
      // An expression body becomes a block, which gives the temporaries and a coverage point a
      // place. Inserted right after `=>` (before a parenthesised body), before any text the body's
      // own visit inserts there, with the temporaries filled in once the body has been walked.
      const arrow = js.indexOf("=>", node.params.length ? node.params[node.params.length - 1].end : node.start) + 2;
      const k = cover(body);
      const exit = exitWork(node, ctx, !!info?.ownsLocals);
      s.before(arrow, () => `{${prologue(node, ctx, calls, false, [], exit)}${n.C}[${k}]++;return `);
      s.after(node.end, exit ? `}finally{${exit.finally}}}` : "}");
      // The body is the returned value: a reference is retagged as the caller receives it (see
      // Machine.rv). (Registered after the closing above, so it lands before it; the body's own
      // texts, added when it is visited below, land inside.)
      ctx.maxDepth = Math.max(ctx.maxDepth, 0);
      s.before(body.start, `(${n.r}=(`);
      s.after(body.end, `),typeof ${n.r}!=="object"||${n.r}===null?${n.r}:${R}.rv(${n.r}))`);
    }

    // Parameters: walked for nested functions, without instrumenting calls (see FnCtx.noCalls).
    const paramCtx = { ...ctx, noCalls: true };
    for (const p of node.params) visit(p, paramCtx, node);

    const hoisted: string[] = [];
    if (isBlock) {
      const afterDirectives = directives.length ? directives[directives.length - 1].end : body.start + 1;
      const rest = body.body.filter((st: AnyNode) => st.directive === undefined);
      for (const st of rest) {
        if (st.type === "FunctionDeclaration") {
          if (instrument) {
            visitFunction(st, ctx, body, hoisted);
          } else visit(st, ctx, body);
        } else statementInList(st, ctx, body);
      }
      if (instrument) {
        const exit = exitWork(node, ctx, !!info?.ownsLocals);
        s.after(afterDirectives, prologue(node, ctx, calls, unsafeFn, hoisted, exit));
        if (exit) s.last(body.end - 1, `}finally{${exit.finally}}`);
      }
    } else {
      visit(body, ctx, node);
    }
  }

  /**
   * What a function must do when it returns, if anything: free its stack slots (it calls
   * `local`), end the protectors of its function-entry retags (it takes references). `entry` is
   * the prologue text that starts that work; `finally` the text of the `finally` block.
   */
  function exitWork(node: AnyNode, ctx: FnCtx, ownsLocals: boolean): { entry: string; finally: string } | null {
    const params = checkedParams(node);
    if (!ownsLocals && params.length === 0) return null;
    let entry = "";
    let fin = "";
    if (params.length) {
      // Rust retags reference arguments on entry, protected until the function returns: an
      // object argument other than a pointer goes to `$R.fa`, whose first retag opens the call's protector scope
      // (left in `$R.ft`; -1 while none is open). The parameter's own site: "<TAG> is this
      // argument" points at it.
      const fnSite = site(node, ctx);
      entry += `let ${n.fe}=-1;`;
      for (const p of params) {
        const x = p.name;
        entry += `typeof ${x}==="object"&&${x}!==null&&!(${x} instanceof ${n.P})&&(${x}=${R}.fa(${n.fe},${x},${fnSite},${site(p.node, ctx)}),${n.fe}=${R}.ft);`;
      }
      fin += `${n.fe}<0||${R}.fnExit(${n.fe});`;
    }
    if (ownsLocals) {
      entry += `const ${n.lo}=${R}.enterLocals();`;
      fin = `${R}.leaveLocals(${n.lo},${site(node, ctx)});` + fin;
    }
    return { entry, finally: fin };
  }

  /**
   * The text a function body starts with. With `exit` work, it opens the `try` whose `finally`
   * does it (frees the stack slots, ends the protectors); hoisted declarations go inside it.
   */
  function prologue(node: AnyNode, ctx: FnCtx, calls: number, unsafeFn: boolean, hoisted: string[], exit: { entry: string } | null = null): string {
    // Mark the caller's call site as a frame: the stack also holds the sites of calls whose
    // arguments are still being evaluated, and those are not frames of a backtrace.
    let p = `${R}.s[${R}.sp-1]|=${FRAME_MARK};`;
    if (calls >= 0) p += `${n.C}[${calls}]++;`;
    p += temporaries(ctx);
    if (unsafeFn) {
      // The caller's site must be in an unsafe region: checked inline, reported out of line.
      const region = addUnsafeRegion(node, "function");
      const fnSite = site(node, { ...ctx, unsafe: false });
      p += `${R}.u[${R}.s[${R}.sp-1]&${SITE_MASK}]===1||${R}.unsafeFn(${fnSite});${n.U}[${region}]++;`;
    }
    if (exit) p += `${exit.entry}try{`;
    return p + hoisted.join("");
  }

  /** The `let` of the temporaries the instrumented calls of a function use. */
  function temporaries(ctx: FnCtx): string {
    if (ctx.maxDepth < 0) return "";
    const temps = [n.r];
    for (let d = 0; d <= ctx.maxFull; d++) temps.push(n.o(d), n.f(d));
    return `let ${temps.join(",")};`;
  }

  /** `(a, b) => body` → `$wrap(function* (a, b) { body }[.bind(this)])`. */
  function arrowToGenerator(node: AnyNode): void {
    const lexical = scanLexical(node.body);
    if (lexical.args) unsupported(lexical.args, "`arguments` inside an arrow function", "pass the values as parameters");
    if (lexical.sup) unsupported(lexical.sup, "`super` inside an arrow function", "call the method outside the arrow function");
    const params = node.params;
    const arrowTok = js.indexOf("=>", params.length ? params[params.length - 1].end : node.start);
    // Added before the body's closing `}` (visitFunction), so it lands outside it.
    s.after(node.end, lexical.this ? ".bind(this))" : ")");
    if (params.length) {
      s.replace(node.start, params[0].start, "");
      s.before(params[0].start, `${n.wrap}(function*(`);
      s.replace(params[params.length - 1].end, arrowTok + 2, ")");
    } else {
      s.replace(node.start, arrowTok + 2, `${n.wrap}(function*()`);
    }
  }

  function scanLexical(body: AnyNode): { this: boolean; args?: AnyNode; sup?: AnyNode } {
    const out: { this: boolean; args?: AnyNode; sup?: AnyNode } = { this: false };
    const walk = (n: AnyNode) => {
      if (n.type === "FunctionExpression" || n.type === "FunctionDeclaration") return;
      if (n.type === "ThisExpression") out.this = true;
      else if (n.type === "Identifier" && n.name === "arguments") out.args ??= n;
      else if (n.type === "Super") out.sup ??= n;
      for (const c of childNodes(n)) walk(c);
    };
    walk(body);
    return out;
  }

  // ── calls ────────────────────────────────────────────────────────────────────
  /**
   * `x.then(...)`, `x.catch(...)`, `x.finally(...)`: when `x` is a real promise (one a built-in
   * made), the call would queue program code to run after the current job, after the thread (or
   * the run) ended, unchecked; the compiled call hands `x` (and the method's name) to `$then`
   * first, which reports it. Returns the method's name.
   */
  function promiseMethodCall(node: AnyNode): string | null {
    const c = node.callee;
    if (node.type !== "CallExpression" || c.type !== "MemberExpression" || c.object.type === "Super") return null;
    const name = c.computed ? (c.property.type === "Literal" ? c.property.value : null) : c.property.name;
    return name === "then" || name === "catch" || name === "finally" ? name : null;
  }

  function visitCall(node: AnyNode, ctx: FnCtx, parent: AnyNode | undefined): void {
    const callee = node.callee;
    // A direct `eval` sees the factory's scope: rejected in every mode and position.
    if (node.type === "CallExpression" && !node.optional && callee.type === "Identifier" && callee.name === "eval") {
      unsupported(node, "direct `eval`", "write the code out");
    }
    if (!instrument || ctx.noCalls) {
      for (const c of childNodes(node)) visit(c, ctx, node);
      return;
    }
    if (callee.type === "Super") {
      // `super(...)` in a constructor: a plain call.
      for (const c of childNodes(node)) visit(c, ctx, node);
      return;
    }
    const id = site(node, ctx);
    const d = ctx.depth;
    ctx.maxDepth = Math.max(ctx.maxDepth, d);
    ctx.depth++;
    const full = ctx.gen && node.type === "CallExpression" && analysis!.callYields(node);
    if (full) ctx.maxFull = Math.max(ctx.maxFull, d);
    const promiseCall = promiseMethodCall(node);
    const push = `${R}.s[${R}.sp++]=${id}`;
    if (node.type === "NewExpression") {
      s.before(node.start, `(${push},${n.r}=`);
      s.after(node.end, `,${R}.sp--,${n.r})`);
      for (const c of childNodes(node)) visit(c, ctx, node);
    } else if (!full) {
      // Only a callee that may be a program generator (see analyze.ts) can hand back a generator
      // object here, which must then run to completion; other calls return their value.
      const mayBeGenerator = analysis!.callYields(node);
      s.before(node.start, `(${push},${n.r}=`);
      // The receiver is checked after the push: a report is at this call.
      if (promiseCall) {
        s.before(callee.object.start, `${n.then}(`);
        s.after(callee.object.end, `,"${promiseCall}")`);
      }
      s.after(
        node.end,
        mayBeGenerator ? `,${n.r}=(${n.r} instanceof ${n.G}?${n.sync}(${n.r}):${n.r}),${R}.sp--,${n.r})` : `,${R}.sp--,${n.r})`,
      );
      for (const c of childNodes(node)) visit(c, ctx, node);
    } else {
      const argsOpen = js.indexOf("(", callee.end);
      const hasArgs = node.arguments.length > 0;
      const call = (fn: string, self: string | null) =>
        `,${push},${promiseCall && self ? `${n.then}(${self},"${promiseCall}"),` : ""}${n.r}=(${fn}[${n.GEN}]||${fn})${self ? `.call(${self}${hasArgs ? "," : ""}` : "("}`;
      const tail = `,${n.r}=(${n.r} instanceof ${n.G}?yield* ${n.r}:${R}.b<=0?yield ${n.r}:${n.r}),${R}.sp--,${n.r})`;
      const o = n.o(d);
      const f = n.f(d);
      if (callee.type === "MemberExpression") {
        const obj = callee.object;
        if (obj.type === "Super") {
          s.before(node.start, `(${f}=`);
          s.replace(argsOpen, argsOpen + 1, call(f, "this"));
          visit(callee.property, ctx, callee);
        } else {
          const sep = findChar(obj.end, callee.computed ? "[" : ".");
          s.before(node.start, `(${o}=`);
          if (callee.computed) {
            s.replace(sep, sep + 1, `,${f}=${o}[`);
            const close = js.indexOf("]", callee.property.end);
            s.replace(close, argsOpen + 1, `]${call(f, o)}`);
            visit(obj, ctx, callee);
            visit(callee.property, ctx, callee);
          } else {
            s.replace(sep, argsOpen + 1, `,${f}=${o}.${callee.property.name}${call(f, o)}`);
            visit(obj, ctx, callee);
          }
        }
      } else {
        s.before(node.start, `(${f}=`);
        s.replace(argsOpen, argsOpen + 1, call(f, null));
        visit(callee, ctx, node);
      }
      s.after(node.end, tail);
      for (const a of node.arguments) visit(a, ctx, node);
    }
    ctx.depth--;
  }

  // ── the walk ─────────────────────────────────────────────────────────────────
  function visit(node: AnyNode, ctx: FnCtx, parent: AnyNode | undefined): void {
    switch (node.type) {
      case "FunctionDeclaration":
        visitFunction(node, ctx, parent, null);
        return;
      case "FunctionExpression":
      case "ArrowFunctionExpression":
        visitFunction(node, ctx, parent, null);
        return;
      case "CallExpression":
      case "NewExpression":
        visitCall(node, ctx, parent);
        return;
      case "ChainExpression": {
        // `a?.b()` (only in .js programs: tsc lowers it): wrapping a call inside a chain would
        // change where the chain short-circuits, so calls there run uninstrumented.
        const inner: FnCtx = Object.create(ctx);
        inner.noCalls = true;
        visit(node.expression, inner, node);
        return;
      }
      case "ImportExpression":
        unsupported(node, "dynamic `import()`", "use a static import");
        return;
      case "MetaProperty":
        if (node.meta.name === "import") unsupported(node, "`import.meta`", "kmiri programs have no module URL");
        return;
      case "AwaitExpression":
        noPromises(node, "`await`");
        return;
      case "YieldExpression":
        unsupported(node, "`yield`", "kmiri compiles functions to generators itself");
        return;
      case "WithStatement":
        unsupported(node, "`with`", "it is not allowed in strict code");
        return;
      case "ForOfStatement":
        if (node.await) noPromises(node, "`for await`");
        break;
      case "BlockStatement":
      case "StaticBlock": {
        const hoisted: string[] = [];
        for (const st of node.body) {
          if (st.type === "FunctionDeclaration" && instrument) visitFunction(st, ctx, node, hoisted);
          else statementInList(st, ctx, node);
        }
        if (hoisted.length) s.after(node.start + 1 + (node.type === "StaticBlock" ? 6 : 0), hoisted.join(""));
        return;
      }
      case "SwitchCase":
        if (node.test) visit(node.test, ctx, node);
        statementList(node.consequent, ctx, node);
        return;
      case "IfStatement":
        visit(node.test, ctx, node);
        nestedStatement(node.consequent, ctx, node);
        if (node.alternate) {
          if (node.alternate.type === "IfStatement") visit(node.alternate, ctx, node);
          else nestedStatement(node.alternate, ctx, node);
        }
        return;
      case "LabeledStatement":
        if (node.label.name === "unsafe" && node.body.type === "BlockStatement") {
          const inner: FnCtx = Object.create(ctx);
          inner.unsafe = true;
          if (instrument) {
            const region = addUnsafeRegion(node, "block");
            s.after(node.body.start + 1, `${n.U}[${region}]++;`);
          }
          visit(node.body, inner, node);
          // depth bookkeeping lives on the prototype chain object; copy it back
          ctx.maxDepth = Math.max(ctx.maxDepth, inner.maxDepth);
          ctx.maxFull = Math.max(ctx.maxFull, inner.maxFull);
          return;
        }
        visit(node.body, ctx, node);
        return;
      case "TryStatement": {
        if (!instrument) break;
        const saved = n.sp(ctx.tries++);
        s.before(node.start, `{const ${saved}=${R}.sp;`);
        s.after(node.end, "}");
        visit(node.block, ctx, node);
        if (node.handler) {
          const h = node.handler;
          let param: string;
          if (!h.param) {
            s.after(h.start + "catch".length, `(${n.e})`);
            param = n.e;
          } else if (h.param.type === "Identifier") param = h.param.name;
          else {
            unsupported(h.param, "a destructuring `catch` parameter", "catch the error in a variable");
            param = "";
          }
          s.after(h.body.start + 1, `${R}.caught(${param},${saved});`);
          visit(h.body, ctx, h);
        }
        if (node.finalizer) {
          s.after(node.finalizer.start + 1, `if(${R}.stopped)throw ${R}.stopped;${R}.sp=${saved};`);
          visit(node.finalizer, ctx, node);
        }
        return;
      }
      case "ReturnStatement":
        if (instrument && node.argument && ctx.node) {
          // A returned reference is retagged as the caller receives it (see Machine.rv); a
          // primitive goes by without a call (through the temporary `$r`).
          ctx.maxDepth = Math.max(ctx.maxDepth, 0);
          s.before(node.argument.start, `(${n.r}=(`);
          s.after(node.argument.end, `),typeof ${n.r}!=="object"||${n.r}===null?${n.r}:${R}.rv(${n.r}))`);
        }
        if (node.argument) visit(node.argument, ctx, node);
        return;
      case "ThrowStatement":
        if (instrument) {
          const id = site(node, ctx);
          s.replace(node.start, node.argument.start, `throw ${R}.thrown(`);
          s.after(node.argument.end, `,${id})`);
        }
        visit(node.argument, ctx, node);
        return;
      case "ClassDeclaration":
      case "ClassExpression": {
        if (node.superClass) visit(node.superClass, ctx, node);
        classStack.push(node.id?.name ?? (parent?.type === "VariableDeclarator" ? parent.id.name : "<class>"));
        for (const m of node.body.body) visit(m, ctx, node.body);
        classStack.pop();
        if (instrument && hasGeneratorMethod(node.body.body)) {
          if (node.type === "ClassDeclaration") s.after(node.end, `${n.wrapClass}(${node.id.name});`);
          else {
            s.before(node.start, `${n.wrapClass}(`);
            s.after(node.end, ")");
          }
        }
        return;
      }
      case "ObjectExpression": {
        for (const p of node.properties) visit(p, ctx, node);
        if (instrument && hasGeneratorMethod(node.properties)) {
          s.before(node.start, `${n.wrapObj}(`);
          s.after(node.end, ")");
        }
        return;
      }
    }
    if (LOOP_TYPES.has(node.type)) {
      for (const c of childNodes(node)) {
        if (c === node.body) {
          const tick = instrument ? `if(--${R}.lb<0)${R}.loopTick(${site(node, ctx)});` : "";
          nestedStatement(c, ctx, node, tick);
        } else visit(c, ctx, node);
      }
      return;
    }
    for (const c of childNodes(node)) visit(c, ctx, node);
  }

  function hasGeneratorMethod(members: AnyNode[]): boolean {
    return members.some((m) => {
      const fn = m.type === "MethodDefinition" || m.type === "Property" ? m.value : null;
      if (!fn || !isFunction(fn)) return false;
      if (m.type === "Property" && !m.method) return false;
      const info = analysis?.fnInfo.get(fn);
      return !!info && info.mayYield && !info.forcedSync;
    });
  }

  // ── the module body ──────────────────────────────────────────────────────────
  const top: FnCtx = { gen: false, unsafe: false, display: "<module>", depth: 0, maxDepth: -1, maxFull: -1, tries: 0, noCalls: false };
  for (const st of mod.ast.body as AnyNode[]) {
    if (st.type === "FunctionDeclaration" && instrument) visitFunction(st, top, mod.ast, moduleWraps);
    else if (st.type === "ExportNamedDeclaration" && st.declaration?.type === "FunctionDeclaration" && instrument) {
      s.replace(st.start, st.declaration.start, "");
      exportGetters.push(`${JSON.stringify(st.declaration.id.name)}: () => ${st.declaration.id.name}`);
      visitFunction(st.declaration, top, st, moduleWraps);
    } else if (st.type === "ExportDefaultDeclaration" && st.declaration.type === "FunctionDeclaration" && st.declaration.id && instrument) {
      s.replace(st.start, st.declaration.start, "");
      exportGetters.push(`"default": () => ${st.declaration.id.name}`);
      visitFunction(st.declaration, top, st, moduleWraps);
    } else statementInList(st, top, mod.ast);
  }

  let pre = temporaries(top);
  pre += moduleWraps.join("");
  rewriteImportReferences(mod.ast, liveImports, s);
  pre += `${n.export}({${exportGetters.map((g) => (typeof g === "string" ? g : g())).join(",")}});`;
  pre += imports.join("");
  for (const ns of stars) pre += `${n.exportStar}(${ns});`;
  s.before(0, pre);
  const body = s.toString();
  // The factory's body (its parameters are `params`): line 1 of the module starts at this column
  // of it (no line break is added).
  const header = `"use strict";`;
  const code = `${header}${body}\n`;
  return {
    path: mod.path,
    displayPath: mod.displayPath,
    code,
    params: n.params,
    toJsOffset: (offset: number) => s.toOriginal(Math.max(0, offset - header.length)),
    coverageLines,
    unsafeLines,
    unsafeRegions,
    functions,
  };
}
