/** Generic ESTree helpers: enumerate the child nodes of any node, in source order. */

/** Any acorn node, with the fields the compiler reads loosely typed. */
export type AnyNode = { type: string; start: number; end: number; [key: string]: any };

const SKIP_KEYS = new Set(["type", "start", "end", "loc", "range", "raw", "regex", "bigint"]);

/** The child nodes of `node`, in source order. */
export function childNodes(node: AnyNode): AnyNode[] {
  const out: AnyNode[] = [];
  for (const key in node) {
    if (SKIP_KEYS.has(key)) continue;
    const v = node[key];
    if (v === null || typeof v !== "object") continue;
    if (Array.isArray(v)) {
      for (const c of v) if (c && typeof c.type === "string") out.push(c);
    } else if (typeof v.type === "string") {
      out.push(v);
    }
  }
  out.sort((a, b) => a.start - b.start);
  return out;
}

/** True for the three kinds of function node. */
export function isFunction(node: AnyNode): boolean {
  return (
    node.type === "FunctionDeclaration" ||
    node.type === "FunctionExpression" ||
    node.type === "ArrowFunctionExpression"
  );
}

/** Collects the identifiers a binding pattern declares (`{ a, b: [c] }` → a, c). */
export function patternNames(p: AnyNode | null, out: string[] = []): string[] {
  if (!p) return out;
  switch (p.type) {
    case "Identifier":
      out.push(p.name);
      break;
    case "ObjectPattern":
      for (const prop of p.properties) patternNames(prop.type === "RestElement" ? prop.argument : prop.value, out);
      break;
    case "ArrayPattern":
      for (const el of p.elements) patternNames(el, out);
      break;
    case "RestElement":
      patternNames(p.argument, out);
      break;
    case "AssignmentPattern":
      patternNames(p.left, out);
      break;
  }
  return out;
}
