/**
 * Loading a program: from entry files to parsed modules with source maps.
 *
 * A load runs in rounds. Each round takes the modules reached so far whose compiled output is not
 * known yet, follows their imports as a regex pre-pass over the source ({@link scanImportHints})
 * to guess the rest of the program, looks every guessed `.ts` file up in the content-keyed cache
 * (see `tsc.ts`) and compiles all misses in one tsc run. Then the modules of the round are parsed
 * with acorn and their imports read from the AST decide, exactly, what comes next; only a file the
 * pre-pass missed costs another round (and tsc run). A load of unchanged files starts no tsc.
 */
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import { parse, type Node, type Program } from "acorn";
import { formatLocation, LoadError, type LoadErrorLocation } from "./errors.js";
import {
  collectImports,
  findDynamicImport,
  findFile,
  isProgramFile,
  isRelativeSpecifier,
  isTypeScriptFile,
  PROGRAM_EXTENSIONS,
  resolveSpecifier,
  scanImportHints,
  type ResolvedImport,
} from "./resolve.js";
import { createPositionMapper, decodeSourceMap, identityMapper, type MappingTables, type PositionMapper, type SourcePosition } from "./source-map.js";
import { compileBatch, compileKey, defaultCacheDir, readCached, tscStats, type CompileResult, type TscDiagnostic } from "./tsc.js";
import { GUEST_API_NAMES } from "../../shims/manifest.js";

/** One module of a program: its source, the JavaScript that runs, and the way back. */
export interface SourceModule {
  /** Absolute path of the module's source file (.ts or .js). */
  path: string;
  /** Path relative to the working directory (cwd option), with `/` separators: what reports print. */
  displayPath: string;
  /** The JavaScript that runs (tsc output for .ts; the file itself for .js/.mjs). */
  js: string;
  /** acorn AST of `js`: ecmaVersion "latest", sourceType "module", locations: true, ranges: true. A fresh tree per load: later stages may rewrite it. */
  ast: Program;
  /**
   * Maps a position in `js` (line 1-based, column 0-based, as acorn's loc gives) to the source
   * file's position (line 1-based, column 1-based). Synchronous and O(log n). Falls back to the
   * nearest earlier mapping on the same or previous lines. Identity (+1 on column) for .js files.
   */
  toSource(line: number, column: number): SourcePosition;
  /** The original source text (the .ts), for report snippets. */
  source: string;
  /** Each import/export-from specifier in this module (as written in the JS), resolved. */
  imports: Map<string, ResolvedImport>;
}

/** A loaded program: its entry and every module reachable from it. */
export interface SourceProgram {
  entry: SourceModule;
  /** Every module reachable from the entry, by absolute path. */
  modules: Map<string, SourceModule>;
}

/** Options of {@link loadProgram} and {@link loadPrograms}. */
export interface LoadOptions {
  /** Working directory for displayPath (and relative entry paths); default process.cwd(). */
  cwd?: string;
  /**
   * Where compiled output is cached; default: $KMIRI_CACHE_DIR, else
   * <cwd>/node_modules/.cache/kmiri if <cwd>/node_modules exists, else os.tmpdir()/kmiri-cache.
   */
  cacheDir?: string;
}

/** Decoded source maps by cache key, shared by the loads of this process (they never change). */
const tablesByKey = new Map<string, MappingTables>();
const MAX_TABLES = 4096;

async function tablesFor(key: string, map: string): Promise<MappingTables> {
  let tables = tablesByKey.get(key);
  if (tables === undefined) {
    tables = await decodeSourceMap(map);
    if (tablesByKey.size >= MAX_TABLES) tablesByKey.delete(tablesByKey.keys().next().value!);
    tablesByKey.set(key, tables);
  }
  return tables;
}

interface SourceFile {
  path: string;
  source: string;
  /** Cache key, for `.ts` files. */
  key?: string;
}

const KMIRI_IMPORTS = `kmiri programs may import other program files (relative paths such as "./util.js") and the guest APIs ${[...GUEST_API_NAMES].map((n) => JSON.stringify(n)).join(", ")}`;

class Loader {
  readonly modules = new Map<string, SourceModule>();
  private readonly files = new Map<string, Promise<SourceFile | undefined>>();
  private readonly outputs = new Map<string, CompileResult>();

  constructor(
    readonly cwd: string,
    readonly cacheDir: string,
  ) {}

  displayPath(file: string): string {
    return path.relative(this.cwd, file).split(path.sep).join("/") || path.basename(file);
  }

  /** Reads a file once per load; undefined when it cannot be read. */
  private readSource(file: string): Promise<SourceFile | undefined> {
    let pending = this.files.get(file);
    if (pending === undefined) {
      pending = readFile(file, "utf8").then(
        (source) => ({ path: file, source, key: isTypeScriptFile(file) ? compileKey(source) : undefined }),
        () => undefined,
      );
      this.files.set(file, pending);
    }
    return pending;
  }

  /** Resolves an entry argument (relative to cwd) to an existing program file. */
  resolveEntry(entry: string): string {
    const base = path.resolve(this.cwd, entry);
    const found = findFile(base);
    if (found === undefined) {
      throw new LoadError(
        `cannot find the program file "${entry}" (looked for ${this.displayPath(base)} and the same with ${PROGRAM_EXTENSIONS.join(", ")}, /index.ts and /index.js); check the path, which is relative to ${this.cwd}`,
        "missing-file",
      );
    }
    if (!isProgramFile(found)) {
      throw new LoadError(
        `cannot load "${this.displayPath(found)}": kmiri runs .ts, .js and .mjs program files (not declaration files or other kinds); pass the program's .ts entry file instead`,
        "unsupported",
      );
    }
    return found;
  }

  /**
   * Makes sure every `.ts` file among `files`, and among the files their sources appear to import,
   * has its compiled output: from the cache, or from one tsc run for all misses.
   */
  async ensureCompiled(files: readonly string[]): Promise<void> {
    const batch = new Map<string, { path: string; source: string; key: string }>();
    const visited = new Set<string>();
    let wave = [...new Set(files)];
    while (wave.length > 0) {
      for (const file of wave) visited.add(file);
      const next = new Set<string>();
      await Promise.all(
        wave.map(async (file) => {
          const info = await this.readSource(file);
          if (info === undefined) return;
          if (info.key !== undefined && !this.outputs.has(info.key)) {
            const cached = await readCached(this.cacheDir, info.key);
            if (cached !== undefined) {
              if (!this.outputs.has(info.key)) tscStats.cacheHits++;
              this.outputs.set(info.key, { ok: true, output: cached });
            } else if (!batch.has(info.key)) {
              batch.set(info.key, { path: file, source: info.source, key: info.key });
            }
          }
          for (const specifier of scanImportHints(info.source)) {
            if (!isRelativeSpecifier(specifier)) continue;
            const target = findFile(path.resolve(path.dirname(file), specifier));
            if (target !== undefined && isProgramFile(target) && !visited.has(target) && !this.modules.has(target)) next.add(target);
          }
        }),
      );
      wave = [...next];
    }
    if (batch.size === 0) return;
    const results = await compileBatch([...batch.values()], this.cacheDir);
    for (const [key, result] of results) this.outputs.set(key, result);
  }

  /** True when `file` is a `.ts` file whose compiled output this load does not have yet. */
  async needsCompile(file: string): Promise<boolean> {
    const info = await this.readSource(file);
    return info?.key !== undefined && !this.outputs.has(info.key);
  }

  private syntaxError(file: string, diagnostics: TscDiagnostic[]): LoadError {
    const first = diagnostics[0]!;
    const location = { file: this.displayPath(file), line: first.line, column: first.column };
    const more = diagnostics.length > 1 ? ` (and ${diagnostics.length - 1} more error${diagnostics.length > 2 ? "s" : ""} in this file)` : "";
    const isSyntax = /^TS1\d{3}$/.test(first.code);
    return new LoadError(
      `${isSyntax ? "syntax error" : "TypeScript error"} in ${formatLocation(location)}: ${first.message} (${first.code})${more}; fix the source and run kmiri again`,
      isSyntax ? "syntax" : "tsc",
      location,
    );
  }

  /** Builds the module of `file` (whose output, for `.ts`, is known): parse, check, resolve imports. */
  async buildModule(file: string): Promise<SourceModule> {
    const info = await this.readSource(file);
    if (info === undefined) {
      throw new LoadError(`cannot read the program file ${this.displayPath(file)}; check that it exists and is readable`, "missing-file");
    }
    const displayPath = this.displayPath(file);
    let js: string;
    let toSource: PositionMapper;
    if (info.key !== undefined) {
      const result = this.outputs.get(info.key);
      if (result === undefined) throw new Error(`kmiri loader: ${displayPath} was not compiled`);
      if (!result.ok) throw this.syntaxError(file, result.diagnostics);
      js = result.output.js;
      toSource = createPositionMapper(await tablesFor(info.key, result.output.map));
    } else {
      js = info.source;
      toSource = identityMapper;
    }
    const where = (node: Node): LoadErrorLocation => {
      const start = node.loc!.start;
      return { file: displayPath, ...toSource(start.line, start.column) };
    };

    let ast: Program;
    try {
      ast = parse(js, { ecmaVersion: "latest", sourceType: "module", locations: true, ranges: true });
    } catch (error) {
      const loc = (error as { loc?: { line: number; column: number } }).loc;
      const location = loc ? { file: displayPath, ...toSource(loc.line, loc.column) } : undefined;
      const message = (error as Error).message.replace(/\s*\(\d+:\d+\)$/, "");
      throw new LoadError(
        `syntax error in ${location ? formatLocation(location) : displayPath}: ${message}${info.key !== undefined ? " (in the JavaScript tsc produced)" : ""}; fix the source and run kmiri again`,
        "syntax",
        location,
      );
    }

    const dynamic = findDynamicImport(ast, js);
    if (dynamic !== undefined) {
      const location = where(dynamic);
      throw new LoadError(
        `dynamic import() at ${formatLocation(location)} is not supported: kmiri loads the whole program before running it; use a static import declaration instead`,
        "unsupported",
        location,
      );
    }

    const imports = new Map<string, ResolvedImport>();
    for (const { specifier, node } of collectImports(ast)) {
      if (imports.has(specifier)) continue;
      const resolved = resolveSpecifier(specifier, file);
      if (resolved === undefined) {
        const location = where(node);
        const what = isRelativeSpecifier(specifier)
          ? `cannot find module "${specifier}" imported from ${formatLocation(location)}`
          : `cannot import "${specifier}" in ${formatLocation(location)}: packages and Node builtins are not available to programs`;
        throw new LoadError(`${what}; ${KMIRI_IMPORTS}`, "unknown-import", location);
      }
      if (resolved.kind === "module" && !isProgramFile(resolved.path)) {
        const location = where(node);
        throw new LoadError(
          `cannot import "${specifier}" (${this.displayPath(resolved.path)}) in ${formatLocation(location)}: kmiri loads .ts, .js and .mjs program files only; ${KMIRI_IMPORTS}`,
          "unsupported",
          location,
        );
      }
      imports.set(specifier, resolved);
    }

    return { path: file, displayPath, js, ast, toSource, source: info.source, imports };
  }

  /** Loads the modules reachable from the (already resolved) entry files. */
  async load(entries: readonly string[]): Promise<void> {
    let level = [...new Set(entries)];
    while (level.length > 0) {
      const needed = await Promise.all(level.map((file) => this.needsCompile(file)));
      if (needed.some((x) => x)) await this.ensureCompiled(level);
      const built = await Promise.all(level.map((file) => this.buildModule(file)));
      const next = new Set<string>();
      for (const module of built) {
        this.modules.set(module.path, module);
        for (const target of module.imports.values()) {
          if (target.kind === "module" && !this.modules.has(target.path)) next.add(target.path);
        }
      }
      level = [...next].filter((file) => !this.modules.has(file));
    }
  }
}

function makeLoader(options: LoadOptions | undefined): Loader {
  const cwd = path.resolve(options?.cwd ?? process.cwd());
  const cacheDir = options?.cacheDir !== undefined ? path.resolve(cwd, options.cacheDir) : defaultCacheDir(cwd);
  return new Loader(cwd, cacheDir);
}

/** Loads several entry files (e.g. all test files under a directory) into one program sharing modules. */
export async function loadPrograms(
  entries: string[],
  options?: LoadOptions,
): Promise<{ entries: SourceModule[]; modules: Map<string, SourceModule> }> {
  const loader = makeLoader(options);
  const resolved = entries.map((entry) => loader.resolveEntry(entry));
  await loader.load(resolved);
  return { entries: resolved.map((file) => loader.modules.get(file)!), modules: loader.modules };
}

/** Loads the entry file and every program module it imports (transitively). Throws LoadError. */
export async function loadProgram(entry: string, options?: LoadOptions): Promise<SourceProgram> {
  const { entries, modules } = await loadPrograms([entry], options);
  return { entry: entries[0]!, modules };
}

