/**
 * Which parameters of a function are declared as references in the TypeScript source.
 *
 * Rust retags every reference argument when a function is entered (with a protector that lasts
 * until it returns). tsc erases the types, so the compiler reads them back from the `.ts` text:
 * starting at the function's source position, it finds the parameter list and reports, for each
 * JavaScript parameter, whether its type mentions `Ref<…>`, `RefMut<…>` or `Box<…>`. Only those
 * parameters pay for a retag; the runtime still checks the value's class, so a type alias or an
 * `any` can only miss a retag, never make a wrong one.
 */

/** How a reference parameter is retagged on entry. */
export type ParamRetag = "ref" | "box";

const REF_TYPE = /(^|[^\w$.])(?:[\w$]+\.)?(Ref|RefMut)\s*</;
const BOX_TYPE = /(^|[^\w$.])(?:[\w$]+\.)?Box\s*</;

/**
 * For each parameter of the function whose source starts at `offset` of `source`: `"ref"` or
 * `"box"` when its declared type is a reference or a `Box`, else `null`. `this` parameters (erased
 * by tsc) are skipped, so indexes match the JavaScript parameters. Returns `[]` when no
 * parameter list is found.
 */
export function referenceParams(source: string, offset: number): (ParamRetag | null)[] {
  const open = findParamList(source, offset);
  if (open < 0) return [];
  const params = splitParams(source, open);
  const out: (ParamRetag | null)[] = [];
  for (const p of params) {
    const text = p.trim();
    if (text === "") continue;
    if (/^this\s*[:?)]/.test(text) || text === "this") continue;
    const type = typeOf(text);
    // A function type (`(x: Ref<T>) => void`) mentions references it does not receive.
    if (type === null || type.includes("=>")) out.push(null);
    else out.push(REF_TYPE.test(type) ? "ref" : BOX_TYPE.test(type) ? "box" : null);
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
