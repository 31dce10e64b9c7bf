/**
 * Live import bindings. An ES import is a live view of the exporting module's variable: a
 * `let` it reassigns, a class it defines after a cycle of imports reached back to it. The
 * compiler keeps that by rewriting each reference to an imported name into a read of the
 * exporting module's namespace (`bump` → `$i0["bump"]`, whose getter reads the variable).
 *
 * Only references that really resolve to the import are rewritten: the walk keeps the chain of
 * scopes (function parameters and `var`s, block `let`/`const`/`class`/`function`, loop heads,
 * `catch` parameters) and leaves a name alone where a nearer declaration shadows it.
 */
import type { Splicer } from "./edit.js";
import type { AnyNode } from "./walk.js";
import { childNodes, isFunction, patternNames } from "./walk.js";

type Scope = ReadonlySet<string>;

/**
 * Rewrites the references to `imports` (local name → expression reading it live) in `program`.
 * Declarations themselves, property keys, labels and the import/export statements are left alone.
 */
export function rewriteImportReferences(program: AnyNode, imports: Map<string, string>, s: Splicer): void {
  if (imports.size === 0) return;

  const shadowed = (name: string, scopes: Scope[]) => scopes.some((sc) => sc.has(name));

  const reference = (id: AnyNode, scopes: Scope[]) => {
    const live = imports.get(id.name);
    if (live !== undefined && !shadowed(id.name, scopes)) s.replace(id.start, id.end, live);
  };

  /** A binding pattern: its identifiers are declarations; defaults and computed keys are expressions. */
  const pattern = (p: AnyNode | null, scopes: Scope[]) => {
    if (!p) return;
    switch (p.type) {
      case "Identifier":
        return;
      case "ObjectPattern":
        for (const prop of p.properties) {
          if (prop.type === "RestElement") pattern(prop.argument, scopes);
          else {
            if (prop.computed) expr(prop.key, scopes);
            pattern(prop.value, scopes);
          }
        }
        return;
      case "ArrayPattern":
        for (const el of p.elements) pattern(el, scopes);
        return;
      case "RestElement":
        return pattern(p.argument, scopes);
      case "AssignmentPattern":
        pattern(p.left, scopes);
        return expr(p.right, scopes);
      default:
        // A member expression as an assignment target (`[o.x] = …`).
        return expr(p, scopes);
    }
  };

  const expr = (node: AnyNode | null, scopes: Scope[]): void => {
    if (!node) return;
    switch (node.type) {
      case "Identifier":
        return reference(node, scopes);
      case "ImportDeclaration":
      case "ExportAllDeclaration":
      case "LabeledStatement":
        if (node.type === "LabeledStatement") expr(node.body, scopes);
        return;
      case "ExportNamedDeclaration":
        // `export { a }` is handled where the exports are built; a declaration is walked.
        if (node.declaration) expr(node.declaration, scopes);
        return;
      case "BreakStatement":
      case "ContinueStatement":
      case "MetaProperty":
        return;
      case "MemberExpression":
        expr(node.object, scopes);
        if (node.computed) expr(node.property, scopes);
        return;
      case "Property":
        if (node.computed) expr(node.key, scopes);
        if (node.shorthand && node.value.type === "Identifier") {
          const live = imports.get(node.value.name);
          if (live !== undefined && !shadowed(node.value.name, scopes)) {
            s.replace(node.start, node.end, `${node.key.name}: ${live}`);
          }
          return;
        }
        if (node.value.type.endsWith("Pattern")) return pattern(node.value, scopes);
        return expr(node.value, scopes);
      case "MethodDefinition":
      case "PropertyDefinition":
        if (node.computed) expr(node.key, scopes);
        return expr(node.value, scopes);
      case "VariableDeclaration":
        for (const d of node.declarations) {
          pattern(d.id, scopes);
          expr(d.init, scopes);
        }
        return;
      case "AssignmentExpression":
        if (node.left.type.endsWith("Pattern")) pattern(node.left, scopes);
        else expr(node.left, scopes);
        return expr(node.right, scopes);
      case "FunctionDeclaration":
      case "FunctionExpression":
      case "ArrowFunctionExpression":
        return fn(node, scopes);
      case "ClassDeclaration":
      case "ClassExpression": {
        const inner = node.type === "ClassExpression" && node.id ? [...scopes, new Set([node.id.name])] : scopes;
        expr(node.superClass, inner);
        for (const m of node.body.body) expr(m, inner);
        return;
      }
      case "BlockStatement":
      case "StaticBlock":
        return block(node.body, scopes);
      case "SwitchStatement": {
        expr(node.discriminant, scopes);
        const inner = [...scopes, lexicalNames(node.cases.flatMap((c: AnyNode) => c.consequent))];
        for (const c of node.cases) {
          expr(c.test, inner);
          for (const st of c.consequent) expr(st, inner);
        }
        return;
      }
      case "ForStatement":
      case "ForInStatement":
      case "ForOfStatement": {
        const head = node.type === "ForStatement" ? node.init : node.left;
        const inner = head && head.type === "VariableDeclaration" && head.kind !== "var"
          ? [...scopes, new Set<string>(head.declarations.flatMap((d: AnyNode) => patternNames(d.id)))]
          : scopes;
        for (const c of childNodes(node)) {
          if (c === head && c.type !== "VariableDeclaration" && node.type !== "ForStatement") pattern(c, inner);
          else expr(c, inner);
        }
        return;
      }
      case "CatchClause": {
        const inner = [...scopes, new Set(patternNames(node.param))];
        pattern(node.param, inner);
        return block(node.body.body, inner);
      }
    }
    for (const c of childNodes(node)) expr(c, scopes);
  };

  /** A statement list: its lexical declarations are in scope for all of it. */
  const block = (body: AnyNode[], scopes: Scope[]) => {
    const inner = [...scopes, lexicalNames(body)];
    for (const st of body) expr(st, inner);
  };

  const fn = (node: AnyNode, scopes: Scope[]) => {
    const names = new Set<string>();
    if (node.type === "FunctionExpression" && node.id) names.add(node.id.name);
    for (const p of node.params) for (const n of patternNames(p)) names.add(n);
    if (node.type !== "ArrowFunctionExpression") names.add("arguments");
    if (node.body.type === "BlockStatement") {
      for (const n of varNames(node.body)) names.add(n);
      for (const n of lexicalNames(node.body.body)) names.add(n);
    }
    const inner = [...scopes, names];
    for (const p of node.params) pattern(p, inner);
    if (node.body.type === "BlockStatement") for (const st of node.body.body) expr(st, inner);
    else expr(node.body, inner);
  };

  // Module scope: imports are declared here, and nothing at the top level can share their names.
  for (const st of program.body as AnyNode[]) expr(st, []);
}

/** `let`, `const`, `class` and (block-scoped, in strict code) `function` declared directly in a list. */
function lexicalNames(body: AnyNode[]): Set<string> {
  const out = new Set<string>();
  for (let st of body) {
    if (st.type === "ExportNamedDeclaration" && st.declaration) st = st.declaration;
    if (st.type === "VariableDeclaration" && st.kind !== "var") {
      for (const d of st.declarations) for (const n of patternNames(d.id)) out.add(n);
    } else if ((st.type === "ClassDeclaration" || st.type === "FunctionDeclaration") && st.id) out.add(st.id.name);
  }
  return out;
}

/** `var`s declared anywhere in a function body (not in nested functions): they are function-scoped. */
function varNames(body: AnyNode): Set<string> {
  const out = new Set<string>();
  const walk = (n: AnyNode) => {
    if (isFunction(n)) return;
    if (n.type === "VariableDeclaration" && n.kind === "var") {
      for (const d of n.declarations) for (const name of patternNames(d.id)) out.add(name);
    }
    for (const c of childNodes(n)) walk(c);
  };
  for (const c of childNodes(body)) walk(c);
  return out;
}
