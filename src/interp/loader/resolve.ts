/**
 * Import resolution and import discovery.
 *
 * kmiri programs may import other program files by relative path, plus the two builtin modules
 * `kmiri/rt` and `kmiri/mirch`; nothing else. Discovery comes in two strengths: a regex pre-pass
 * over the TypeScript source ({@link scanImportHints}, only a hint used to batch compilation) and
 * the exact list from the acorn AST of the compiled JavaScript ({@link collectImports}), which
 * alone decides what the program imports.
 */
import { statSync } from "node:fs";
import * as path from "node:path";
import type { Node, Program } from "acorn";
import { GUEST_API_NAMES } from "../../shims/manifest.js";

/** Where an import specifier leads. */
export type ResolvedImport =
  | { kind: "module"; path: string }
  | { kind: "builtin"; name: string };

/** The names of the builtin modules a program may import: the guest APIs of the manifest. */
export const BUILTIN_MODULES: ReadonlySet<string> = GUEST_API_NAMES;

/** Extensions of program files kmiri loads: `.ts` goes through tsc, `.js`/`.mjs` are parsed as is. */
export const PROGRAM_EXTENSIONS: readonly string[] = [".ts", ".js", ".mjs"];

/** True for a file kmiri compiles with tsc (`.ts`, but not a `.d.ts` declaration file). */
export function isTypeScriptFile(file: string): boolean {
  return file.endsWith(".ts") && !file.endsWith(".d.ts");
}

/** True for a file kmiri can load as a program module. */
export function isProgramFile(file: string): boolean {
  return isTypeScriptFile(file) || file.endsWith(".js") || file.endsWith(".mjs");
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The files a path may denote, in the order tried: for `x.js`, `x.ts` first (the TypeScript ESM
 * convention), then `x.js`; then the exact path; then `x.ts`, `x.js`, `x.mjs`; then `x/index.ts`,
 * `x/index.js`.
 */
export function candidateFiles(base: string): string[] {
  const candidates: string[] = [];
  if (base.endsWith(".js")) candidates.push(base.slice(0, -3) + ".ts");
  candidates.push(base);
  for (const ext of PROGRAM_EXTENSIONS) candidates.push(base + ext);
  candidates.push(path.join(base, "index.ts"), path.join(base, "index.js"));
  return candidates;
}

/**
 * Finds the file a path denotes (see {@link candidateFiles}). Returns the absolute path of the
 * first existing regular file, which may have an extension kmiri does not load (the caller checks
 * with {@link isProgramFile}), or undefined.
 */
export function findFile(base: string): string | undefined {
  for (const candidate of candidateFiles(path.resolve(base))) {
    if (isFile(candidate)) return candidate;
  }
  return undefined;
}

/** True for `./x`, `../x`, `.` and `..`. */
export function isRelativeSpecifier(specifier: string): boolean {
  return specifier === "." || specifier === ".." || specifier.startsWith("./") || specifier.startsWith("../");
}

/**
 * Resolves an import specifier of the file `importer` (absolute). Returns undefined when the
 * specifier is neither a builtin nor a relative path to an existing file. A found file may still
 * have an unsupported extension (check with {@link isProgramFile}).
 */
export function resolveSpecifier(specifier: string, importer: string): ResolvedImport | undefined {
  if (BUILTIN_MODULES.has(specifier)) return { kind: "builtin", name: specifier };
  if (!isRelativeSpecifier(specifier)) return undefined;
  const found = findFile(path.resolve(path.dirname(importer), specifier));
  return found === undefined ? undefined : { kind: "module", path: found };
}

// `import … from "x"`, `export … from "x"` (statements may span lines), `import "x"`.
// `import type` / `export type` are skipped: tsc erases them.
const FROM_RE = /(?:^|[^\w$.])(?:import|export)(?!\s+type[\s{*])\s*[\w$*{][^;'"]*?\bfrom\s*(["'])([^"'\n]+)\1/g;
const BARE_RE = /(?:^|[^\w$.])import\s*(["'])([^"'\n]+)\1/g;

/**
 * The relative and builtin specifiers a TypeScript (or JavaScript) source appears to import, found
 * by regular expressions. Only a hint for batching compilation: it may see imports inside comments
 * or strings and miss exotic forms; it never throws.
 */
export function scanImportHints(source: string): string[] {
  const found = new Set<string>();
  for (const re of [FROM_RE, BARE_RE]) {
    re.lastIndex = 0;
    for (let m = re.exec(source); m !== null; m = re.exec(source)) found.add(m[2]!);
  }
  return [...found];
}

/** One import or re-export found in the AST of a compiled module. */
export interface ImportSite {
  specifier: string;
  /** The statement that imports (its `loc` is a position in the compiled JS). */
  node: Node;
}

/**
 * The static imports of a module: `import … from`, `import "…"`, `export … from` and
 * `export * from`, in source order.
 */
export function collectImports(ast: Program): ImportSite[] {
  const sites: ImportSite[] = [];
  for (const statement of ast.body) {
    if (
      statement.type === "ImportDeclaration" ||
      statement.type === "ExportAllDeclaration" ||
      (statement.type === "ExportNamedDeclaration" && statement.source != null)
    ) {
      const source = statement.source;
      if (source != null && typeof source.value === "string") sites.push({ specifier: source.value, node: statement });
    }
  }
  return sites;
}

/**
 * The first dynamic `import()` in the AST, if any (kmiri loads the whole program before it runs,
 * so it cannot follow dynamic imports). `js` is the module's text, used to skip the walk when it
 * cannot contain one.
 */
export function findDynamicImport(ast: Program, js: string): Node | undefined {
  if (!/\bimport\s*\(/.test(js)) return undefined;
  const stack: unknown[] = [ast];
  let first: Node | undefined;
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) {
      for (const item of value) stack.push(item);
    } else if (value !== null && typeof value === "object" && typeof (value as { type?: unknown }).type === "string") {
      const node = value as Node & Record<string, unknown>;
      if (node.type === "ImportExpression" && (first === undefined || node.start < first.start)) first = node;
      for (const key in node) {
        if (key === "loc" || key === "range") continue;
        const child = node[key];
        if (child !== null && typeof child === "object") stack.push(child);
      }
    }
  }
  return first;
}
