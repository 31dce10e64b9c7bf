/**
 * Which parameters of a function are declared with a primitive type in the TypeScript source.
 *
 * Rust retags every reference argument when a function is entered (with a protector that lasts
 * until it returns). kmiri decides by the value (src/shims/checked/fn-entry.ts): the prologue
 * looks at each object argument. A parameter whose declared type is a primitive (`number`,
 * `bigint`, `boolean`, `string`, their unions and arrays) cannot hold a reference in a program
 * that type-checks, so the compiler leaves it out and its calls pay nothing. tsc erases the types,
 * so they are read back from the `.ts` text: starting at the function's source position, the
 * parameter list is found and each parameter's annotation read. Anything else — no annotation
 * (a closure's inferred parameter), an alias, `any`, an object type — is looked at at run time.
 */

/** A primitive type, a union of them, or an array of one: no reference can hide in it. */
const PRIMITIVE_TYPE = /^(?:\s*(?:number|bigint|boolean|string|undefined|null|void)(?:\s*\[\s*\])*\s*(?:\||$))+$/;

/**
 * For each JavaScript parameter of the function whose source starts at `offset` of `source`:
 * true when its declared type is primitive (see the module comment). `this` parameters (erased
 * by tsc) are skipped, so indexes match the JavaScript parameters. Returns `[]` when no parameter
 * list is found (every parameter is then looked at).
 */
export function primitiveParams(source: string, offset: number): boolean[] {
  const open = findParamList(source, offset);
  if (open < 0) return [];
  const params = splitParams(source, open);
  const out: boolean[] = [];
  for (const p of params) {
    const text = p.trim();
    if (text === "") continue;
    if (/^this\s*[:?)]/.test(text) || text === "this") continue;
    const type = typeOf(text);
    out.push(type !== null && PRIMITIVE_TYPE.test(type));
  }
  return out;
}

/** The offset of the `(` that opens the parameter list, skipping a name and type parameters. */
function findParamList(s: string, from: number): number {
  let angle = 0;
  for (let i = from; i < s.length && i < from + 2000; i++) {
    const c = s[i];
    if (c === "<") angle++;
    else if (c === ">" && s[i - 1] !== "=") angle = Math.max(0, angle - 1);
    else if (c === "(" && angle === 0) return i;
    else if ((c === "{" || c === ";") && angle === 0) return -1;
  }
  return -1;
}

/** The parameters' texts between `open` and its matching `)`, split at top-level commas. */
function splitParams(s: string, open: number): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open + 1; i < s.length; i++) {
    const c = s[i];
    if (c === "/" && s[i + 1] === "/") {
      i = s.indexOf("\n", i);
      if (i < 0) break;
      continue;
    }
    if (c === "/" && s[i + 1] === "*") {
      i = s.indexOf("*/", i + 2) + 1;
      if (i <= 0) break;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") {
      i = skipString(s, i);
      continue;
    }
    if (c === "(" || c === "[" || c === "{" || c === "<") depth++;
    else if (c === ")" || c === "]" || c === "}" || (c === ">" && s[i - 1] !== "=")) {
      if (depth === 0 && c === ")") {
        out.push(s.slice(start, i));
        return out;
      }
      depth = Math.max(0, depth - 1);
    } else if (c === "," && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  return out;
}

function skipString(s: string, i: number): number {
  const q = s[i];
  for (let j = i + 1; j < s.length; j++) {
    if (s[j] === "\\") j++;
    else if (s[j] === q) return j;
  }
  return s.length;
}

/** The type annotation of one parameter's text (`name?: Type = default`), or null. */
function typeOf(param: string): string | null {
  let depth = 0;
  let colon = -1;
  for (let i = 0; i < param.length; i++) {
    const c = param[i];
    if (c === "(" || c === "[" || c === "{" || c === "<") depth++;
    else if (c === ")" || c === "]" || c === "}" || (c === ">" && param[i - 1] !== "=")) depth = Math.max(0, depth - 1);
    else if (c === ":" && depth === 0 && colon < 0) colon = i;
    else if (c === "=" && depth === 0 && param[i + 1] !== ">" && colon >= 0) return param.slice(colon + 1, i);
  }
  return colon < 0 ? null : param.slice(colon + 1);
}
