/**
 * The names compiled code gives its own bindings, chosen so that no program name can collide with
 * them.
 *
 * A module factory has parameters (the Machine, the import and export functions, the coverage
 * arrays, the generator helpers) and its body declares temporaries (`$r`, `$o0`, the import
 * namespaces, ...). If the program could name one of them, a parameter `$R` would shadow the
 * Machine (or reach it), a top-level `const $C` would break the factory with a SyntaxError.
 * Renaming the program's identifiers instead would have to be exact about every way JavaScript
 * binds a name, and would change what a program sees (`f.name`, a shorthand property, an
 * exported name). So the compiler renames its own: every internal name is one *prefix* followed
 * by a fixed suffix, and the prefix is chosen per module so that it occurs nowhere in the
 * module's text, and no identifier of the module (after unicode escapes: `\u0024R` is `$R`)
 * starts with it. No identifier the program writes can then equal an internal name. Direct
 * `eval`, the one way to name a binding from a string computed at run time, is rejected by the
 * compiler.
 *
 * The prefix is `$` when the module contains no `$` at all (most programs without template
 * literals: the compiled code then reads as the comments describe it, `$R.s[$R.sp++]`), else the
 * first of `$1_`, `$2_`, ... that the module does not contain.
 *
 * The globals the program is meant to see through a factory parameter ({@link PROGRAM_GLOBALS}:
 * the Machine's `console` and seeded `Math`, the reporting `Promise`, ...) keep their names, but
 * only when the module does not declare that name itself at its top level: a module's own
 * `const Math = ...` shadows the global on plain Node, and does here too.
 */
import type { AnyNode } from "./walk.js";
import { childNodes, isFunction, patternNames } from "./walk.js";

/**
 * Parameters of every module factory, in order: internal ones by role (`$R` stands for the
 * module's prefix followed by `R`: see {@link internalNames}), then the program's globals.
 */
export const FACTORY_PARAMS = [
  "$R", "$import", "$export", "$exportStar", "$C", "$U", "$GEN", "$G", "$wrap", "$wrapClass", "$wrapObj",
  "$sync", "$then", "$P",
  "console", "Math", "Promise", "queueMicrotask", "setTimeout", "setInterval", "setImmediate",
] as const;

/**
 * Globals the compiled module receives as factory parameters, visible to the program under their
 * own names: `console` (the Machine's output), `Math` (`random()` seeded by the run), and the ways
 * to queue work for later (`Promise`, `queueMicrotask`, the timers), which report `unsupported`
 * on the Machine.
 */
export const PROGRAM_GLOBALS = ["console", "Math", "Promise", "queueMicrotask", "setTimeout", "setInterval", "setImmediate"] as const;

/** The internal names of one module. */
export interface InternalNames {
  prefix: string;
  /** The factory's parameter names, in {@link FACTORY_PARAMS} order. */
  params: string[];
  R: string;
  import: string;
  export: string;
  exportStar: string;
  C: string;
  U: string;
  GEN: string;
  G: string;
  wrap: string;
  wrapClass: string;
  wrapObj: string;
  sync: string;
  then: string;
  default: string;
  r: string;
  e: string;
  fe: string;
  lo: string;
  /** The runtime's pointer class (a factory parameter: function-entry checks skip pointers, see instrument.ts). */
  P: string;
  /** Import namespace `n`, the object / function temporaries of call depth `d`, the saved stack depth of `try` `n`. */
  i(n: number): string;
  o(d: number): string;
  f(d: number): string;
  sp(n: number): string;
}

/** The internal names of a module whose JavaScript is `js`, parsed as `ast`. */
export function internalNames(js: string, ast: AnyNode): InternalNames {
  const prefix = choosePrefix(js, ast);
  const p = (suffix: string) => prefix + suffix;
  const declared = moduleScopeNames(ast);
  const params = FACTORY_PARAMS.map((role) => (role.startsWith("$") ? p(role.slice(1)) : declared.has(role) ? p(`global_${role}`) : role));
  return {
    prefix,
    params,
    R: p("R"),
    import: p("import"),
    export: p("export"),
    exportStar: p("exportStar"),
    C: p("C"),
    U: p("U"),
    GEN: p("GEN"),
    G: p("G"),
    wrap: p("wrap"),
    wrapClass: p("wrapClass"),
    wrapObj: p("wrapObj"),
    sync: p("sync"),
    then: p("then"),
    default: p("default"),
    r: p("r"),
    e: p("e"),
    fe: p("fe"),
    lo: p("lo"),
    P: p("P"),
    i: (n) => p(`i${n}`),
    o: (d) => p(`o${d}`),
    f: (d) => p(`f${d}`),
    sp: (n) => p(`sp${n}`),
  };
}

/** `$` if the module has no `$`, else the first `$N_` that neither its text nor its identifiers contain. */
function choosePrefix(js: string, ast: AnyNode): string {
  const names: string[] = [];
  const walk = (n: AnyNode) => {
    if ((n.type === "Identifier" || n.type === "PrivateIdentifier") && typeof n.name === "string") names.push(n.name);
    for (const c of childNodes(n)) walk(c);
  };
  walk(ast);
  const free = (prefix: string) => !js.includes(prefix) && !names.some((n) => n.includes(prefix));
  if (free("$")) return "$";
  for (let k = 1; ; k++) if (free(`$${k}_`)) return `$${k}_`;
}

/**
 * The names a module declares in its own scope: top-level `let`/`const`/`class`/`function`,
 * `var`s anywhere outside functions (they hoist to the module), and imported names.
 */
export function moduleScopeNames(ast: AnyNode): Set<string> {
  const out = new Set<string>();
  for (let st of ast.body as AnyNode[]) {
    if (st.type === "ImportDeclaration") {
      for (const sp of st.specifiers) out.add(sp.local.name);
      continue;
    }
    if ((st.type === "ExportNamedDeclaration" || st.type === "ExportDefaultDeclaration") && st.declaration) st = st.declaration;
    if (st.type === "VariableDeclaration") {
      for (const d of st.declarations) for (const n of patternNames(d.id)) out.add(n);
    } else if ((st.type === "ClassDeclaration" || st.type === "FunctionDeclaration") && st.id) out.add(st.id.name);
  }
  const vars = (n: AnyNode) => {
    if (isFunction(n)) return;
    if (n.type === "VariableDeclaration" && n.kind === "var") {
      for (const d of n.declarations) for (const name of patternNames(d.id)) out.add(name);
    }
    for (const c of childNodes(n)) vars(c);
  };
  vars(ast);
  return out;
}

/**
 * The first `arguments` that is not inside a non-arrow function: at a module's top level (or in
 * an arrow function there) it would name the factory's arguments, the Machine among them. An ES
 * module has no `arguments` binding, so the compiler rejects it.
 */
export function moduleLevelArguments(ast: AnyNode): AnyNode | undefined {
  let found: AnyNode | undefined;
  const walk = (n: AnyNode, parent: AnyNode | undefined) => {
    if (found) return;
    if (n.type === "FunctionExpression" || n.type === "FunctionDeclaration") return;
    if (n.type === "Identifier" && n.name === "arguments" && !isNonReference(n, parent)) {
      found = n;
      return;
    }
    for (const c of childNodes(n)) walk(c, n);
  };
  walk(ast, undefined);
  return found;
}

/** An identifier that is a property name or a label, not a reference to a binding. */
function isNonReference(id: AnyNode, parent: AnyNode | undefined): boolean {
  if (!parent) return false;
  switch (parent.type) {
    case "MemberExpression":
      return parent.property === id && !parent.computed;
    case "Property":
    case "MethodDefinition":
    case "PropertyDefinition":
      return parent.key === id && !parent.computed && !(parent.type === "Property" && parent.shorthand);
    case "LabeledStatement":
    case "BreakStatement":
    case "ContinueStatement":
      return parent.label === id;
    case "ExportSpecifier":
      return parent.exported === id && parent.local !== id;
    default:
      return false;
  }
}
