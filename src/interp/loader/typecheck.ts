/**
 * Type-checking a program before it runs, with TypeScript 7's native `tsc`, cached by content.
 *
 * The loader compiles every file in isolation with `--noCheck` (tsc.ts), so it sees syntax errors
 * only. Before a program runs, the driver calls {@link typecheckProgram}: one `tsc` run checks the
 * program (its entry files and everything they import, type-only imports included) under
 * {@link TYPECHECK_COMPILER_OPTIONS}, with `kmiri/rt` and `kmiri/mirch` resolved to kmiri's own
 * declarations (`dist/shims/rt.d.ts` and `mirch.d.ts` in the package; when kmiri runs from
 * source, the declarations tsc emits from `src/shims/*.ts`, see {@link shimTypes}) and the globals
 * the Machine hands a program (`console`, the timers: see `compile/names.ts`) declared by
 * {@link PROGRAM_GLOBALS_DTS}. The errors in the program's files stop it with a {@link LoadError}
 * `"type"` (every error in `diagnostics`, the first one as `location`).
 *
 * Cache: the result (no error, or the list of errors) is stored as `<cacheDir>/<key>.types.json`,
 * in the loader's cache directory, under `key = sha256(format, tsc version, compiler options,
 * the globals' declarations, kmiri's declaration files (paths and text), the entry files, and the
 * path and text of every file of the program)`. Paths in the key are relative to the program's
 * common directory, so the same program written to another temporary directory (as
 * `createMachine().run({ source })` does) hits the same entry. The files of the program are found
 * without tsc, conservatively: every string literal of a file that starts with `./` or `../` (and
 * the specifiers of imports, `/// <reference path>` directives and `declare module`) is resolved
 * to every file tsc might pick for it (`x.ts`, `x.d.ts`, `x.js`, `x/index.ts`, ...), and the
 * files that exist join the program, recursively. A file that would change what tsc resolves
 * (a new `x.ts` next to an imported `x.js`) thus changes the key too. A program that names a
 * package (a bare specifier other than `kmiri/rt` and `kmiri/mirch`, which kmiri programs cannot
 * import anyway) could read files outside that set, so its result is not cached. A second check of
 * an unchanged program reads the files, hashes them and reads one small file: it starts no tsc.
 *
 * Batches: a tsc run costs ~0.2 s whatever it checks, and a corpus is ~200 one-file programs run
 * one after the other. So when a one-entry program misses the cache, the run also checks the other
 * programs of its directory (files that define `main` or `ktest`s, at most {@link MAX_SIBLINGS}),
 * each as its own program with its own cache entry: a corpus directory costs one tsc run. Every
 * file is a module (`moduleDetection: force`), so a file's errors do not depend on the other
 * programs of the batch (but for a `declare global`, which kernel programs have no use for). tsc skips the semantic check of every file when one file of the run has a
 * syntax error; a sentinel file with a known type error tells when that happened, and the run is
 * then repeated without the programs that had errors.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { LoadError, formatLocation, type LoadErrorDiagnostic } from "./errors.js";
import type { LoadOptions } from "./load.js";
import { defaultCacheDir, parseTscOutput, runTsc, tscInstall, tscStats, writeAtomic } from "./tsc.js";

/** Bump when the format of cached results, or what the key covers, changes. */
const CHECK_FORMAT = "kmiri-typecheck-1";

/**
 * The compiler options of the check: the strictness of `src/ostd-under-test/tsconfig.json` (the
 * kernel code's own settings: `strict`, ES2022, no DOM, no Node types), plus what kmiri's loader
 * assumes: `isolatedModules` (each file is compiled alone, so a type must be re-exported with
 * `export type`), class fields assigned as the loader compiles them (`useDefineForClassFields:
 * false`), and imports resolved as the loader resolves them (`./x.js` is `x.ts`, `./x.ts` and
 * `./x` are allowed). `.js` files of a program are read for their types but not checked.
 */
export const TYPECHECK_COMPILER_OPTIONS: Readonly<Record<string, unknown>> = Object.freeze({
  strict: true,
  target: "es2022",
  lib: ["es2022"],
  types: [],
  module: "esnext",
  moduleResolution: "bundler",
  moduleDetection: "force",
  isolatedModules: true,
  useDefineForClassFields: false,
  allowImportingTsExtensions: true,
  allowJs: true,
  checkJs: false,
  skipLibCheck: true,
  noEmit: true,
});

/**
 * The globals a program sees besides ES2022's: what the Machine hands every module
 * (`PROGRAM_GLOBALS` in `compile/names.ts`; `Math` and `Promise` are ES2022's). The timers and
 * `queueMicrotask` report `unsupported` on the Machine when called; they are declared so that this
 * stays a run-time report.
 */
export const PROGRAM_GLOBALS_DTS = `// The globals kmiri hands a program (src/interp/compile/names.ts), besides ES2022's.
interface KmiriProgramConsole {
  log(...data: unknown[]): void;
  error(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  info(...data: unknown[]): void;
}
declare var console: KmiriProgramConsole;
declare function queueMicrotask(callback: () => void): void;
declare function setTimeout(callback: (...args: any[]) => void, ms?: number, ...args: any[]): unknown;
declare function setInterval(callback: (...args: any[]) => void, ms?: number, ...args: any[]): unknown;
declare function setImmediate(callback: (...args: any[]) => void, ...args: any[]): unknown;
`;

/** A file with one known type error: when tsc does not report it, it skipped the semantic check. */
const SENTINEL_TS = `export const kmiriSentinel: number = "not a number";\n`;
const SENTINEL_CODE = "TS2322";

/** At most this many other programs of the directory join a check that missed the cache. */
export const MAX_SIBLINGS = 64;
/** At most this many `.ts` files of a directory are looked at for such programs. */
const MAX_SIBLING_CANDIDATES = 256;

/** Options of {@link typecheckProgram}: the loader's, and whether programs next to it are checked too. */
export interface TypecheckOptions extends LoadOptions {
  /**
   * On a cache miss of a one-entry program, also check the other programs of its directory (and
   * cache their results), in the same tsc run. Default true.
   */
  siblings?: boolean;
}

/** The builtin modules a program may import, resolved for tsc to kmiri's declarations. */
const SHIM_SPECIFIERS = ["kmiri/rt", "kmiri/mirch"] as const;

interface Declarations {
  /** `kmiri/rt` and `kmiri/mirch` → file. */
  paths: Record<string, string>;
  /** kmiri's root directory (the package's). */
  root: string;
  /** The files are kmiri's sources (`src/shims/*.ts`), not declaration files. */
  fromSource: boolean;
  /** Every file they reach (absolute) → its text. */
  files: Map<string, string>;
  /** Hash of their paths (relative to kmiri's root) and text. */
  hash: string;
  /** `mtime:size` of each file when hashed. */
  signature: string;
}

let declarations: Declarations | undefined;

function statSignature(files: Iterable<string>): string {
  const out: string[] = [];
  for (const file of files) {
    const st = statSync(file, { throwIfNoEntry: false });
    out.push(st ? `${st.mtimeMs}:${st.size}` : "-");
  }
  return out.join("|");
}

/**
 * kmiri's declarations of its builtin modules: `dist/shims/*.d.ts` when kmiri runs from the built
 * package, `src/shims/*.ts` when it runs from source (as the tests do). Hashed once per process,
 * again when a file changed.
 */
function shimDeclarations(): Declarations {
  if (declarations !== undefined && statSignature(declarations.files.keys()) === declarations.signature) return declarations;
  const here = fileURLToPath(import.meta.url);
  // src/interp/loader/typecheck.ts and dist/interp/loader/typecheck.js are three levels below the root.
  const root = path.resolve(path.dirname(here), "../../..");
  const fromSource = here.endsWith(".ts");
  const pick = (name: string): string => {
    const built = path.join(root, "dist", "shims", `${name}.d.ts`);
    const source = path.join(root, "src", "shims", `${name}.ts`);
    for (const file of fromSource ? [source, built] : [built, source]) if (isFile(file)) return file;
    throw new LoadError(
      `cannot find kmiri's declarations of kmiri/${name} (looked for ${built} and ${source}), which the type check needs; reinstall kmiri, or turn the type check off with --no-typecheck`,
      "tsc",
    );
  };
  const paths = { "kmiri/rt": pick("rt"), "kmiri/mirch": pick("mirch") };
  const closure = collectFiles(Object.values(paths));
  const hash = createHash("sha256");
  for (const [file, text] of [...closure.files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    hash.update(path.relative(root, file).split(path.sep).join("/"));
    hash.update("\0");
    hash.update(text);
    hash.update("\0");
  }
  const files = closure.files;
  declarations = { paths, root, fromSource, files, hash: hash.digest("hex"), signature: statSignature(files.keys()) };
  return declarations;
}

/** What the check resolves the builtin modules to, and what the key covers of it. */
interface ShimTypes {
  /** `kmiri/rt` and `kmiri/mirch` → the file tsc reads. */
  paths: Record<string, string>;
  /** Hash of the declarations (part of every program's key). */
  hash: string;
  /** kmiri's own files (a program's errors are never reported in them). */
  files: ReadonlySet<string>;
}

/** Declarations emitted from kmiri's sources, by directory (see {@link shimTypes}). */
const emitted = new Map<string, Promise<{ paths: Record<string, string>; hash: string } | undefined>>();

/** The flags of the declaration emit from kmiri's sources (part of the directory's name). */
const EMIT_FLAGS: readonly string[] = [
  "--ignoreConfig",
  "--pretty", "false",
  "--declaration",
  "--emitDeclarationOnly",
  "--noCheck",
  "--removeComments",
  "--skipLibCheck",
  "--target", "es2022",
  "--module", "nodenext",
  "--moduleResolution", "nodenext",
  "--types", "",
];

/**
 * kmiri's declarations of `kmiri/rt` and `kmiri/mirch` for the check. From the built package,
 * its `.d.ts` files. From source, the declarations tsc emits from `src/shims/` (comments removed)
 * once per change of those sources, into `<cacheDir>/shims-<hash of the sources>/`: the check then
 * reads declarations rather than checking kmiri's sources again for every program (twice as fast),
 * and the programs' keys cover the declarations only, so a change to kmiri's implementation that
 * leaves its types alone does not void the cached results. When the emit fails, the sources
 * themselves are used.
 */
async function shimTypes(cacheDir: string): Promise<ShimTypes> {
  const decls = shimDeclarations();
  const files = new Set(decls.files.keys());
  if (!decls.fromSource) return { paths: decls.paths, hash: decls.hash, files };
  const dir = path.join(cacheDir, `shims-${createHash("sha256").update(decls.hash).update(EMIT_FLAGS.join(" ")).update(tscInstall().version).digest("hex").slice(0, 32)}`);
  let pending = emitted.get(dir);
  if (pending === undefined) {
    pending = emitDeclarations(decls, dir).catch(() => undefined);
    emitted.set(dir, pending);
  }
  const emit = await pending;
  return emit ? { ...emit, files } : { paths: decls.paths, hash: decls.hash, files };
}

/** Reads the files under `dir` (relative path → text), sorted. */
async function readTree(dir: string, prefix = ""): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for (const entry of readdirSync(path.join(dir, prefix), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await readTree(dir, rel)));
    else if (entry.name.endsWith(".d.ts")) out.push([rel, await readFile(path.join(dir, rel), "utf8")]);
  }
  return out;
}

async function emitDeclarations(decls: Declarations, dir: string): Promise<{ paths: Record<string, string>; hash: string } | undefined> {
  const src = path.join(decls.root, "src");
  if ([...decls.files.keys()].some((file) => relativeTo(src, file).startsWith("../"))) return undefined;
  const paths: Record<string, string> = {};
  for (const [specifier, file] of Object.entries(decls.paths)) paths[specifier] = path.join(dir, relativeTo(src, file).replace(/\.ts$/, ".d.ts"));
  const hashFile = path.join(dir, "declarations.sha256");
  if (isFile(hashFile)) return { paths, hash: (await readFile(hashFile, "utf8")).trim() };
  await mkdir(path.dirname(dir), { recursive: true });
  const temp = await mkdtemp(`${dir}.tmp-`);
  try {
    // tsc exits with errors here (kmiri's sources import Node's modules, whose types it is not
    // given); the declarations are written all the same.
    await runTsc([...EMIT_FLAGS, "--rootDir", src, "--outDir", temp, ...Object.values(decls.paths)], os.tmpdir());
    for (const file of Object.values(paths)) if (!isFile(path.join(temp, path.relative(dir, file)))) return undefined;
    const hash = createHash("sha256");
    for (const [rel, text] of await readTree(temp)) {
      hash.update(rel);
      hash.update("\0");
      hash.update(text);
      hash.update("\0");
    }
    const digest = hash.digest("hex");
    await writeFile(path.join(temp, "declarations.sha256"), `${digest}\n`);
    try {
      await rename(temp, dir);
    } catch {
      // Another process put the same declarations there first.
      if (!isFile(hashFile)) return undefined;
    }
    return { paths, hash: digest };
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

// Every string literal that starts like a relative path: a superset of a file's relative imports.
const RELATIVE_STRING = /(["'])(\.\.?\/[^"'\r\n\\]*)\1/g;
// Specifiers in import positions (also in comments and strings: it only has to miss none).
const FROM_SPECIFIER = /(?:^|[^\w$.])(?:import|export)\s*[\w$*{][^;'"]*?\bfrom\s*(["'])([^"'\s]+)\1/g;
const CALL_SPECIFIER = /(?:^|[^\w$.])(?:import\s*\(?|require\s*\(|declare\s+module)\s*(["'])([^"'\s]+)\1/g;
const REFERENCE = /^\s*\/\/\/\s*<reference\s+(path|types)\s*=\s*(["'])([^"']*)\2/gm;

const SCANNED_EXTENSIONS = [".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"];
const CANDIDATE_EXTENSIONS = [".ts", ".tsx", ".d.ts", ".mts", ".d.mts", ".cts", ".d.cts", ".js", ".jsx", ".mjs", ".cjs", ".json"];
const JS_TO_TS: Record<string, string[]> = {
  ".js": [".ts", ".tsx", ".d.ts"],
  ".jsx": [".tsx", ".d.ts"],
  ".mjs": [".mts", ".d.mts"],
  ".cjs": [".cts", ".d.cts"],
};

/**
 * Every file tsc might read for a relative specifier (existing or not); a directory's
 * `package.json` only for a specifier in an import position (`withPackage`).
 */
function candidates(base: string, withPackage: boolean): string[] {
  const out = [base];
  const ext = path.extname(base);
  for (const to of JS_TO_TS[ext] ?? []) out.push(base.slice(0, -ext.length) + to);
  for (const e of CANDIDATE_EXTENSIONS) out.push(base + e);
  for (const e of CANDIDATE_EXTENSIONS) out.push(path.join(base, `index${e}`));
  if (withPackage) out.push(path.join(base, "package.json"));
  return out;
}

interface Collected {
  /** Absolute path → text of every file of the program (the entries first). */
  files: Map<string, string>;
  /** False when some file names a package, whose files the set does not cover. */
  closed: boolean;
}

/** The files a program may consist of, from its entries (see the top of this file). */
function collectFiles(entries: readonly string[]): Collected {
  const files = new Map<string, string>();
  let closed = true;
  const queue: string[] = [];
  const add = (file: string, scan: boolean) => {
    if (files.has(file) || !isFile(file)) return;
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      return;
    }
    files.set(file, text);
    if (path.basename(file) === "package.json") {
      // A directory import through a package.json can lead anywhere.
      if (/"(?:types|typings|main|exports|typesVersions|imports)"\s*:/.test(text)) closed = false;
      return;
    }
    if (scan && SCANNED_EXTENSIONS.some((e) => file.endsWith(e))) queue.push(file);
  };
  for (const entry of entries) add(path.resolve(entry), true);
  while (queue.length > 0) {
    const file = queue.shift()!;
    const text = files.get(file)!;
    const dir = path.dirname(file);
    const resolveRelative = (specifier: string, imported: boolean) => {
      for (const candidate of candidates(path.resolve(dir, specifier), imported)) add(candidate, true);
    };
    const specifier = (s: string, imported: boolean) => {
      if (s === "." || s === ".." || s.startsWith("./") || s.startsWith("../")) resolveRelative(s, imported);
      else if (imported && !(SHIM_SPECIFIERS as readonly string[]).includes(s)) closed = false;
    };
    for (const re of [RELATIVE_STRING, FROM_SPECIFIER, CALL_SPECIFIER]) {
      re.lastIndex = 0;
      for (let m = re.exec(text); m !== null; m = re.exec(text)) specifier(m[2]!, re !== RELATIVE_STRING);
    }
    REFERENCE.lastIndex = 0;
    for (let m = REFERENCE.exec(text); m !== null; m = REFERENCE.exec(text)) {
      if (m[1] === "types") closed = false;
      else resolveRelative(m[3]!.startsWith(".") ? m[3]! : `./${m[3]!}`, true);
    }
  }
  return { files, closed };
}

/** A program to check: its entries, files and cache key. */
interface Program {
  entries: string[];
  files: Map<string, string>;
  closed: boolean;
  /** Whether it has a `.ts` file to check (a program of `.js` files only has none). */
  hasTypeScript: boolean;
  /** The common directory of its files: paths in the key and the cache are relative to it. */
  base: string;
  key: string;
}

function commonDirectory(files: Iterable<string>): string {
  let common: string | undefined;
  for (const file of files) {
    const dir = path.dirname(file);
    if (common === undefined) {
      common = dir;
      continue;
    }
    while (common !== path.dirname(common) && path.relative(common, dir).startsWith("..")) common = path.dirname(common);
  }
  return common ?? path.parse(process.cwd()).root;
}

function relativeTo(base: string, file: string): string {
  return path.relative(base, file).split(path.sep).join("/");
}

/** The files of the program made of `entries`, and whether it has a `.ts` file to check. */
function programFiles(entries: readonly string[]): Collected & { entries: string[]; hasTypeScript: boolean } {
  const absolute = entries.map((e) => path.resolve(e));
  const { files, closed } = collectFiles(absolute);
  const hasTypeScript = [...files.keys()].some((f) => /\.(?:ts|tsx|mts|cts)$/.test(f) && !/\.d\.(?:ts|mts|cts)$/.test(f));
  return { entries: absolute, files, closed, hasTypeScript };
}

function describeProgram(found: ReturnType<typeof programFiles>, decls: ShimTypes): Program {
  const { entries, files } = found;
  const base = commonDirectory(files.keys());
  const hash = createHash("sha256");
  for (const part of [CHECK_FORMAT, tscInstall().version, JSON.stringify(TYPECHECK_COMPILER_OPTIONS), PROGRAM_GLOBALS_DTS, decls.hash]) {
    hash.update(part);
    hash.update("\0");
  }
  hash.update(JSON.stringify(entries.map((e) => relativeTo(base, e)).sort()));
  hash.update("\0");
  for (const file of [...files.keys()].sort()) {
    hash.update(relativeTo(base, file));
    hash.update("\0");
    hash.update(files.get(file)!);
    hash.update("\0");
  }
  return { ...found, base, key: hash.digest("hex") };
}

/** A type error as cached: `file` relative to the program's common directory. */
interface StoredDiagnostic {
  file: string;
  line: number;
  column: number;
  code: string;
  message: string;
}

interface StoredResult {
  format: string;
  diagnostics: StoredDiagnostic[];
}

async function readResult(cacheDir: string, key: string): Promise<StoredDiagnostic[] | undefined> {
  try {
    const stored = JSON.parse(await readFile(path.join(cacheDir, `${key}.types.json`), "utf8")) as StoredResult;
    return stored.format === CHECK_FORMAT && Array.isArray(stored.diagnostics) ? stored.diagnostics : undefined;
  } catch {
    return undefined;
  }
}

async function writeResult(cacheDir: string, key: string, diagnostics: StoredDiagnostic[]): Promise<void> {
  try {
    await mkdir(cacheDir, { recursive: true });
    const stored: StoredResult = { format: CHECK_FORMAT, diagnostics };
    await writeAtomic(path.join(cacheDir, `${key}.types.json`), `${JSON.stringify(stored)}\n`);
  } catch {
    // A read-only or full cache directory only costs speed.
  }
}

const ENTRY_LIKE = /\bexport\s+(?:async\s+)?function\s*\*?\s*main\b|\bexport\s+(?:const|let|var)\s+main\b|\bktest\s*\(/;

/** The other programs of `entry`'s directory: `.ts` files that define `main` or `ktest`s. */
function siblingEntries(entry: string): string[] {
  const dir = path.dirname(entry);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(".ts") && !n.endsWith(".d.ts")).sort();
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of names.slice(0, MAX_SIBLING_CANDIDATES)) {
    const file = path.join(dir, name);
    if (file === entry || out.length >= MAX_SIBLINGS) continue;
    try {
      if (ENTRY_LIKE.test(readFileSync(file, "utf8"))) out.push(file);
    } catch {
      // unreadable: not a sibling
    }
  }
  return out;
}

/** A diagnostic of one program, absolute path. */
interface ProgramDiagnostic {
  file: string;
  line: number;
  column: number;
  code: string;
  message: string;
}

/**
 * One tsc run over the programs (their entries as roots). Returns each program's errors (located
 * in its own files, not in kmiri's declarations), by key; when tsc skipped the semantic check
 * (the sentinel's error is missing), `complete` is false.
 */
async function runCheck(
  programs: readonly Program[],
  decls: ShimTypes,
): Promise<{ complete: boolean; results: Map<string, ProgramDiagnostic[]>; output: string }> {
  const stage = await mkdtemp(path.join(os.tmpdir(), "kmiri-check-"));
  try {
    const globals = path.join(stage, "kmiri-globals.d.ts");
    const sentinel = path.join(stage, "kmiri-sentinel.ts");
    await writeFile(globals, PROGRAM_GLOBALS_DTS);
    await writeFile(sentinel, SENTINEL_TS);
    const roots = [...new Set(programs.flatMap((p) => p.entries))];
    const paths: Record<string, string[]> = {};
    for (const [specifier, file] of Object.entries(decls.paths)) paths[specifier] = [file];
    const config = { compilerOptions: { ...TYPECHECK_COMPILER_OPTIONS, paths }, files: [globals, sentinel, ...roots] };
    await writeFile(path.join(stage, "tsconfig.json"), JSON.stringify(config, null, 2));
    const result = await runTsc(["-p", "tsconfig.json", "--pretty", "false"], stage);
    tscStats.checks++;
    tscStats.programsChecked += programs.length;
    const output = `${result.stdout}\n${result.stderr}`;
    const { located } = parseTscOutput(output);
    let complete = false;
    const byFile = new Map<string, ProgramDiagnostic[]>();
    for (const d of located) {
      const file = path.resolve(stage, d.file);
      if (file === sentinel) {
        if (d.code === SENTINEL_CODE) complete = true;
        continue;
      }
      const list = byFile.get(file) ?? [];
      list.push({ ...d, file });
      byFile.set(file, list);
    }
    const results = new Map<string, ProgramDiagnostic[]>();
    for (const program of programs) {
      const own: ProgramDiagnostic[] = [];
      for (const file of program.files.keys()) if (!decls.files.has(file)) own.push(...(byFile.get(file) ?? []));
      own.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column));
      results.set(program.key, own);
    }
    return { complete, results, output };
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

/**
 * Checks `primary` (and the programs of `batch`, which may be dropped) in one tsc run, then again
 * without the others when a syntax error somewhere stopped tsc's semantic check. Stores the
 * results of closed programs; returns the primary's errors.
 */
async function checkBatch(primary: Program, batch: readonly Program[], decls: ShimTypes, cacheDir: string): Promise<ProgramDiagnostic[]> {
  let programs = [primary, ...batch];
  for (;;) {
    let run: Awaited<ReturnType<typeof runCheck>> | undefined;
    try {
      run = await runCheck(programs, decls);
    } catch (error) {
      // A run with others failed: the primary alone decides (and reports its own failure).
      if (programs.length > 1) {
        programs = [primary];
        continue;
      }
      throw error;
    }
    const { complete, results, output } = run;
    if (!complete && programs.length > 1) {
      // Keep the programs without errors (the errors tsc reported are the syntax errors that
      // stopped it); the primary stays.
      const kept = programs.filter((p) => p === primary || results.get(p.key)!.length === 0);
      programs = kept.length < programs.length && results.get(primary.key)!.length === 0 ? kept : [primary];
      continue;
    }
    const own = results.get(primary.key)!;
    if (!complete && own.length === 0) {
      throw new LoadError(
        `tsc did not type-check ${primary.entries.join(", ")}: ${output.trim().split(/\r?\n/).slice(0, 5).join(" ") || "no message"}; this is likely a problem of the TypeScript install or of kmiri, please report it (or turn the type check off with --no-typecheck)`,
        "tsc",
      );
    }
    for (const program of programs) {
      if (!program.closed) continue;
      const diagnostics = results.get(program.key)!.map((d) => ({ ...d, file: relativeTo(program.base, d.file) }));
      await writeResult(cacheDir, program.key, diagnostics);
    }
    return own;
  }
}

/**
 * The type errors of the program made of `entries` (absolute, or relative to `options.cwd`) and
 * the files they import, from the cache or from one tsc run (see the top of this file). Paths in
 * the result are relative to the working directory. A program of `.js` files only has none.
 * @throws LoadError `"tsc"` when tsc cannot run or fails.
 */
export async function checkProgramTypes(entries: readonly string[], options: TypecheckOptions = {}): Promise<LoadErrorDiagnostic[]> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const cacheDir = options.cacheDir !== undefined ? path.resolve(cwd, options.cacheDir) : defaultCacheDir(cwd);
  const found = programFiles(entries.map((e) => path.resolve(cwd, e)));
  if (!found.hasTypeScript) return [];
  const decls = await shimTypes(cacheDir);
  const program = describeProgram(found, decls);
  const display = (file: string) => path.relative(cwd, file).split(path.sep).join("/") || path.basename(file);
  if (program.closed) {
    const cached = await readResult(cacheDir, program.key);
    if (cached !== undefined) {
      tscStats.checkHits++;
      return cached.map((d) => ({ ...d, file: display(path.resolve(program.base, d.file)) }));
    }
  }
  const batch: Program[] = [];
  if (program.entries.length === 1 && options.siblings !== false) {
    const keys = new Set([program.key]);
    for (const sibling of siblingEntries(program.entries[0]!)) {
      const files = programFiles([sibling]);
      if (!files.closed || !files.hasTypeScript) continue;
      const other = describeProgram(files, decls);
      if (keys.has(other.key)) continue;
      keys.add(other.key);
      if ((await readResult(cacheDir, other.key)) === undefined) batch.push(other);
    }
  }
  const errors = await checkBatch(program, batch, decls, cacheDir);
  return errors.map((d) => ({ ...d, file: display(d.file) }));
}

/** At most this many further errors are listed in the message of a type error. */
const LISTED = 5;

/**
 * Type-checks the program before it runs: returns when it has no type error (or no `.ts` file).
 * @param entries - the program's entry files (absolute, or relative to `options.cwd`).
 * @throws LoadError `"type"`: the program has type errors; `diagnostics` lists them (file, line,
 *   column, code, message), `location` is the first one's.
 * @throws LoadError `"tsc"` when tsc cannot run or fails.
 */
export async function typecheckProgram(entries: readonly string[], options: TypecheckOptions = {}): Promise<void> {
  const diagnostics = await checkProgramTypes(entries, options);
  if (diagnostics.length === 0) return;
  const [first, ...rest] = diagnostics as [LoadErrorDiagnostic, ...LoadErrorDiagnostic[]];
  const location = { file: first.file, line: first.line, column: first.column };
  const describe = (d: LoadErrorDiagnostic) => `${formatLocation(d)}: ${d.message} (${d.code})`;
  let more = "";
  if (rest.length > 0) {
    const listed = rest.slice(0, LISTED).map(describe).join("; ");
    const unlisted = rest.length > LISTED ? `; and ${rest.length - LISTED} more` : "";
    more = ` (and ${rest.length} more type error${rest.length > 1 ? "s" : ""}: ${listed}${unlisted})`;
  }
  throw new LoadError(
    `type error in ${describe(first)}${more}; fix the program's types, or turn the type check off (\`--no-typecheck\`) to run it anyway`,
    "type",
    location,
    diagnostics,
  );
}
