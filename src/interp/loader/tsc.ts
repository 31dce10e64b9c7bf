/**
 * Compiling TypeScript to JavaScript with TypeScript 7's native `tsc`, cached by content.
 *
 * Caching scheme: every `.ts` file is compiled *in isolation* (its output depends on its own text
 * only), so its output is cached under `key = sha256(cache format + tsc version + tsc flags +
 * source text)` as `<cacheDir>/<key>.js` and `<cacheDir>/<key>.js.map`. A load of unchanged files
 * finds every key on disk and never starts tsc; a changed file gets a new key and only it is
 * compiled again. Cache files are written to a temporary name and renamed into place, so concurrent
 * loads (worker threads, parallel test files) see whole files or none; racing writers write the
 * same bytes. Stale entries are never deleted (they are small; delete the directory to reclaim).
 *
 * Isolation: tsc resolves imports among the files of one run even under `--noResolve` and then
 * elides re-exports of types (`export { T } from "./t.js"`), so the same file compiled alone and
 * together with its imports gives different JavaScript. To make output a function of the file's
 * text, each file of a batch is copied into its own directory of a staging area (`in/<n>/<name>`),
 * where its relative imports lead nowhere, and the whole batch is compiled in one tsc run with
 * `--isolatedModules` semantics, as esbuild, tsx and Node's type stripping do. Programs therefore
 * must re-export types with `export type`.
 */
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { LoadError } from "./errors.js";

/** Bump when the format of cached files changes. */
const CACHE_FORMAT = "kmiri-loader-1";

/**
 * The flags of every tsc run (besides `--outDir`/`--rootDir` and the files), part of the cache key.
 * `--target es2019` down-levels `?.`, `??` and class fields so that later stages see fewer syntax
 * forms; `--lib es5 --types ""` keep tsc from parsing large declaration files it does not need
 * (with `--noCheck` they do not change the output), which makes a run ~6x faster.
 */
export const TSC_FLAGS: readonly string[] = [
  "--ignoreConfig", // files on the command line + a tsconfig.json in cwd is otherwise error TS5112
  "--pretty", "false",
  "--noCheck",
  "--noResolve",
  "--isolatedModules",
  "--moduleDetection", "force", // every file is an ES module, like the runtime treats it
  "--sourceMap",
  "--newLine", "lf",
  "--target", "es2019",
  "--module", "esnext",
  "--useDefineForClassFields", "false",
  "--removeComments", "false",
  "--lib", "es5",
  "--types", "",
];

/** Counters of the work the compiler cache did in this process (for tests and `--stats`). */
export interface TscStats {
  /** tsc processes started. */
  runs: number;
  /** Files compiled by those runs. */
  filesCompiled: number;
  /** `.ts` files whose output came from the cache (disk or memory). */
  cacheHits: number;
  /** Milliseconds spent waiting for tsc. */
  tscMillis: number;
  /** tsc processes started to type-check programs (`typecheck.ts`; also counted in `runs`). */
  checks: number;
  /** Programs type-checked by those processes (a batch checks several). */
  programsChecked: number;
  /** Programs whose type check came from the cache. */
  checkHits: number;
}

/** The counters of this process; see {@link resetTscStats}. */
export const tscStats: TscStats = { runs: 0, filesCompiled: 0, cacheHits: 0, tscMillis: 0, checks: 0, programsChecked: 0, checkHits: 0 };

/** Zeroes {@link tscStats}. */
export function resetTscStats(): void {
  tscStats.runs = 0;
  tscStats.filesCompiled = 0;
  tscStats.cacheHits = 0;
  tscStats.tscMillis = 0;
  tscStats.checks = 0;
  tscStats.programsChecked = 0;
  tscStats.checkHits = 0;
}

interface TscInstall {
  version: string;
  /** The executable to spawn and the arguments before tsc's own. */
  command: string;
  prefix: string[];
}

let install: TscInstall | undefined;

/**
 * Finds the TypeScript install: its version, and how to run tsc. The native executable of the
 * `@typescript/typescript-<platform>-<arch>` package is spawned directly when present (saving a
 * Node start, ~0.1 s a run); otherwise `node <typescript>/bin/tsc`.
 */
export function tscInstall(): TscInstall {
  if (install !== undefined) return install;
  const require = createRequire(import.meta.url);
  let pkgJson: string;
  try {
    pkgJson = require.resolve("typescript/package.json");
  } catch {
    throw new LoadError(
      "cannot find the typescript package, which kmiri needs to compile .ts programs; install it next to kmiri (npm install typescript@7)",
      "tsc",
    );
  }
  const version = (require(pkgJson) as { version: string }).version;
  const tsDir = path.dirname(pkgJson);
  let command = process.execPath;
  let prefix = [path.join(tsDir, "bin", "tsc")];
  try {
    const native = createRequire(pkgJson).resolve(`@typescript/typescript-${process.platform}-${process.arch}/package.json`);
    const exe = path.join(path.dirname(native), "lib", process.platform === "win32" ? "tsc.exe" : "tsc");
    if (existsSync(exe)) {
      command = exe;
      prefix = [];
    }
  } catch {
    // no native package: go through the Node launcher
  }
  install = { version, command, prefix };
  return install;
}

/** The cache key of a `.ts` file's text (hex sha256). */
export function compileKey(source: string): string {
  const hash = createHash("sha256");
  hash.update(CACHE_FORMAT);
  hash.update("\0");
  hash.update(tscInstall().version);
  hash.update("\0");
  hash.update(TSC_FLAGS.join("\u0001"));
  hash.update("\0");
  hash.update(source);
  return hash.digest("hex");
}

/**
 * The default cache directory: `$KMIRI_CACHE_DIR`, else `<cwd>/node_modules/.cache/kmiri` when
 * `<cwd>/node_modules` exists, else `<tmpdir>/kmiri-cache`.
 */
export function defaultCacheDir(cwd: string): string {
  const fromEnv = process.env["KMIRI_CACHE_DIR"];
  if (fromEnv) return path.resolve(cwd, fromEnv);
  if (existsSync(path.join(cwd, "node_modules"))) return path.join(cwd, "node_modules", ".cache", "kmiri");
  return path.join(os.tmpdir(), "kmiri-cache");
}

/** The JavaScript and source map (JSON text) tsc produced for one file. */
export interface CompiledFile {
  js: string;
  map: string;
}

/** A located error tsc reported in a file of the batch. Line and column are 1-based. */
export interface TscDiagnostic {
  /** Absolute path of the original file. */
  file: string;
  line: number;
  column: number;
  /** E.g. `TS1005`. */
  code: string;
  message: string;
}

/** What compiling one file gave: its output, or the errors that stop it from loading. */
export type CompileResult = { ok: true; output: CompiledFile } | { ok: false; diagnostics: TscDiagnostic[] };

/** One file to compile. */
export interface CompileRequest {
  /** Absolute path (used in diagnostics and for the staged file's name). */
  path: string;
  source: string;
  /** {@link compileKey} of `source`. */
  key: string;
}

/** Reads a cached output, or undefined when the key is not (completely) in the cache. */
export async function readCached(cacheDir: string, key: string): Promise<CompiledFile | undefined> {
  try {
    // The map is renamed into place before the .js, so a present .js implies a present map.
    const js = await readFile(path.join(cacheDir, `${key}.js`), "utf8");
    const map = await readFile(path.join(cacheDir, `${key}.js.map`), "utf8");
    return { js, map };
  } catch {
    return undefined;
  }
}

/** Writes `text` to `file` through a temporary name and a rename: readers see the whole file or none. */
export async function writeAtomic(file: string, text: string): Promise<void> {
  const temp = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  await writeFile(temp, text);
  try {
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Stores an output in the cache (map first, then the .js; each atomically). Best effort. */
export async function writeCached(cacheDir: string, key: string, output: CompiledFile): Promise<void> {
  try {
    await mkdir(cacheDir, { recursive: true });
    await writeAtomic(path.join(cacheDir, `${key}.js.map`), output.map);
    await writeAtomic(path.join(cacheDir, `${key}.js`), output.js);
  } catch {
    // A read-only or full cache directory only costs speed.
  }
}

/** What a tsc process printed. */
export interface TscRun {
  code: number | null;
  stdout: string;
  stderr: string;
  error?: Error;
}

function run(command: string, args: string[], cwd: string): Promise<TscRun> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"], windowsHide: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", (error) => resolve({ code: null, stdout: "", stderr: "", error }));
    child.on("close", (code) =>
      resolve({ code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }),
    );
  });
}

/**
 * Runs tsc with these arguments (after the install's prefix) in `cwd`, counting it in
 * {@link tscStats} (`runs`, `tscMillis`).
 * @throws LoadError `"tsc"` when tsc cannot be started.
 */
export async function runTsc(args: readonly string[], cwd: string): Promise<TscRun> {
  const { command, prefix } = tscInstall();
  const started = performance.now();
  const result = await run(command, [...prefix, ...args], cwd);
  tscStats.tscMillis += performance.now() - started;
  tscStats.runs++;
  if (result.error !== undefined) {
    throw new LoadError(
      `cannot run tsc (${command}): ${result.error.message}; check that the typescript package (version 7) is installed correctly`,
      "tsc",
    );
  }
  return result;
}

const DIAGNOSTIC_RE = /^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/;

/** One error line of `tsc --pretty false`, its continuation lines joined; `file` as tsc printed it. */
export interface RawDiagnostic {
  file: string;
  line: number;
  column: number;
  code: string;
  message: string;
}

/**
 * The errors of `tsc --pretty false` output: located ones (`a.ts(2,10): error TS1109: ...`, with
 * indented continuation lines joined by a space) and the lines of errors tsc could not place in a
 * file (`error TS5023: ...`).
 */
export function parseTscOutput(text: string): { located: RawDiagnostic[]; unplaced: string[] } {
  const located: RawDiagnostic[] = [];
  const unplaced: string[] = [];
  let last: RawDiagnostic | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") continue;
    const m = DIAGNOSTIC_RE.exec(line);
    if (m) {
      last = { file: m[1]!, line: Number(m[2]), column: Number(m[3]), code: m[4]!, message: m[5]! };
      located.push(last);
    } else if (last !== undefined && /^\s/.test(line)) {
      last.message += ` ${line.trim()}`;
    } else if (/error TS\d+/.test(line)) {
      last = undefined;
      unplaced.push(line.trim());
    }
  }
  return { located, unplaced };
}

/** Removes tsc's trailing `//# sourceMappingURL=` comment (it names a file that is not there). */
function stripMapComment(js: string): string {
  return js.replace(/\/\/# sourceMappingURL=\S*\s*$/, "");
}

/**
 * Compiles the files with one tsc run (each in isolation, see the top of this file) and stores the
 * outputs of error-free files in the cache. Files with a located error get their diagnostics
 * instead; an error tsc cannot place in a file throws {@link LoadError} `"tsc"`. Requests with
 * equal keys are compiled once.
 */
export async function compileBatch(requests: readonly CompileRequest[], cacheDir: string): Promise<Map<string, CompileResult>> {
  const results = new Map<string, CompileResult>();
  const unique = new Map<string, CompileRequest>();
  for (const request of requests) if (!unique.has(request.key)) unique.set(request.key, request);
  if (unique.size === 0) return results;

  const stage = await mkdtemp(path.join(os.tmpdir(), "kmiri-tsc-"));
  try {
    const staged: { request: CompileRequest; input: string; output: string }[] = [];
    let n = 0;
    for (const request of unique.values()) {
      const dir = String(n++);
      const name = path.basename(request.path);
      await mkdir(path.join(stage, "in", dir), { recursive: true });
      await writeFile(path.join(stage, "in", dir, name), request.source);
      staged.push({
        request,
        input: `in/${dir}/${name}`,
        output: path.join(stage, "out", dir, name.replace(/\.ts$/, ".js")),
      });
    }
    const byInput = new Map(staged.map((s) => [s.input, s]));
    const args = [...TSC_FLAGS, "--outDir", "out", "--rootDir", "in", ...staged.map((s) => s.input)];
    const result = await runTsc(args, stage);
    tscStats.filesCompiled += staged.length;

    // Diagnostics: `in/3/a.ts(2,10): error TS1109: Expression expected.`, continuation lines indented.
    const diagnostics = new Map<string, TscDiagnostic[]>();
    const parsed = parseTscOutput(`${result.stdout}\n${result.stderr}`);
    const unplaced = parsed.unplaced;
    for (const d of parsed.located) {
      const target = byInput.get(d.file.replace(/\\/g, "/"));
      if (target === undefined) {
        unplaced.push(`${d.file}(${d.line},${d.column}): error ${d.code}: ${d.message}`);
        continue;
      }
      const list = diagnostics.get(target.request.key) ?? [];
      list.push({ ...d, file: target.request.path });
      diagnostics.set(target.request.key, list);
    }
    if (unplaced.length > 0) {
      throw new LoadError(
        `tsc failed while compiling ${staged.map((s) => s.request.path).join(", ")}: ${unplaced.join(" ")}; this is likely a problem of the TypeScript install or of kmiri, please report it`,
        "tsc",
      );
    }

    for (const { request, output } of staged) {
      const errors = diagnostics.get(request.key);
      if (errors !== undefined) {
        results.set(request.key, { ok: false, diagnostics: errors });
        continue;
      }
      let compiled: CompiledFile;
      try {
        compiled = { js: stripMapComment(await readFile(output, "utf8")), map: await readFile(`${output}.map`, "utf8") };
      } catch {
        throw new LoadError(
          `tsc (exit code ${result.code}) produced no output for ${request.path}: ${(result.stdout + result.stderr).trim() || "no message"}; this is likely a problem of the TypeScript install or of kmiri, please report it`,
          "tsc",
        );
      }
      await writeCached(cacheDir, request.key, compiled);
      results.set(request.key, { ok: true, output: compiled });
    }
    return results;
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}
