/**
 * Which tests `kmiri test` runs: the test files under one or more paths, narrowed by
 * `--include`/`--exclude` globs, and `--shard i/n`, one of n deterministic parts of a run (of the
 * selected tests, or of a range of seeds), as vitest's and Playwright's `--shard`.
 *
 * Files: every path is a file or a directory; the union of their test files is de-duplicated and
 * sorted (segment by segment, as a directory walk visits them), so the order does not depend on
 * the order of the paths. A directory walk skips `node_modules`, `dist`, dotted names, and a
 * compiled `.js`/`.mjs` beside its source (`foo.js` next to `foo.ts`, `.tsx` or `.mts`). A file
 * given by name is taken as it is (but `include`/`exclude` still apply).
 *
 * Shards: the items (tests in run order, or seeds) are cut into `count` contiguous blocks whose
 * sizes differ by at most one, the larger ones last; shard `index` (1-based) is the index-th. So
 * the shards are disjoint, their union is the whole run, and each depends only on the items and
 * `index/count`.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { LoadError } from "../interp/loader/errors.js";
import { compileGlob, type Glob } from "./glob.js";
import type { TestRunResult } from "./results.js";

/** `--shard index/count`: the index-th (1-based) of `count` parts of a run. */
export interface Shard {
  /** 1 … count. */
  index: number;
  /** How many parts the run is cut into (1 or more). */
  count: number;
}

/** How {@link selectTestFiles} narrows the files. */
export interface FileSelection {
  /** The directory the paths and the globs are relative to (default `process.cwd()`). */
  cwd?: string;
  /** Globs (see glob.ts); when given, only the files matching one of them are test files. */
  include?: string | readonly string[];
  /** Globs; a file matching one of them is never a test file (exclude wins over include). */
  exclude?: string | readonly string[];
}

/** Sources whose compiled output sits beside them (`tsc` without `outDir`). */
const SOURCE_EXTENSIONS = [".ts", ".tsx", ".mts"];

/**
 * The program files that define `ktest`s under `paths` (each a file or a directory).
 * @param paths - one path or several, relative to `options.cwd`.
 * @param options - the working directory and the include/exclude globs.
 * @returns absolute paths, de-duplicated, in a deterministic order (see the module comment).
 * @throws LoadError (`missing-file`) when a path does not exist.
 * @throws SyntaxError when a glob is malformed.
 * @example
 * selectTestFiles(["src/mm", "src/dma"], { exclude: ["**\/legacy"] })
 */
export function selectTestFiles(paths: string | readonly string[], options: FileSelection = {}): string[] {
  const cwd = options.cwd ?? process.cwd();
  const include = globs(options.include);
  const exclude = globs(options.exclude);
  const rel = (full: string) => path.relative(cwd, full).split(path.sep).join("/");
  const excluded = (full: string) => exclude.some((g) => g.matches(rel(full)));
  const wanted = (full: string) => (include.length === 0 || include.some((g) => g.matches(rel(full)))) && !excluded(full);
  const found = new Set<string>();
  for (const p of typeof paths === "string" ? [paths] : paths) {
    const root = path.resolve(cwd, p);
    const st = statSync(root, { throwIfNoEntry: false });
    if (!st) throw new LoadError(`cannot find ${root}: no such file or directory`, "missing-file");
    if (st.isFile()) {
      if (wanted(root)) found.add(root);
      continue;
    }
    const walk = (dir: string) => {
      const entries = readdirSync(dir, { withFileTypes: true });
      const names = new Set(entries.map((e) => e.name));
      for (const e of entries) {
        if (e.name === "node_modules" || e.name === "dist" || e.name.startsWith(".")) continue;
        const full = path.join(dir, e.name);
        if (e.isDirectory()) {
          // A directory an exclude glob matches excludes everything under it: no need to walk it.
          if (!excluded(full)) walk(full);
          continue;
        }
        if (!/\.(ts|js|mjs)$/.test(e.name) || e.name.endsWith(".d.ts")) continue;
        // `foo.js` beside `foo.ts` is tsc's output of the source, not a module under test (its
        // tests would run twice, the second time without the source's lines).
        if (/\.m?js$/.test(e.name)) {
          const stem = e.name.replace(/\.m?js$/, "");
          if (SOURCE_EXTENSIONS.some((x) => names.has(stem + x))) continue;
        }
        if (wanted(full) && /\bktest\b/.test(readFileSync(full, "utf8"))) found.add(full);
      }
    };
    walk(root);
  }
  return [...found].sort(comparePaths);
}

/** Segment by segment, as a walk that sorts each directory's names visits the files. */
function comparePaths(a: string, b: string): number {
  const x = a.split(path.sep);
  const y = b.split(path.sep);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i]!.localeCompare(y[i]!) || (x[i]! < y[i]! ? -1 : 1);
  }
  return x.length - y.length;
}

function globs(list: string | readonly string[] | undefined): Glob[] {
  return (list === undefined ? [] : typeof list === "string" ? [list] : list).map(compileGlob);
}

/**
 * Throws when a shard is not `index/count` with 1 ≤ index ≤ count.
 * @throws RangeError naming what is wrong.
 */
export function checkShard(shard: Shard): void {
  const { index, count } = shard;
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`invalid shard ${index}/${count}: the count of shards must be 1 or more`);
  if (!Number.isSafeInteger(index) || index < 1 || index > count) {
    throw new RangeError(`invalid shard ${index}/${count}: the shard index must be from 1 to ${count}`);
  }
}

/**
 * The half-open range `[start, end)` of shard `shard` among `length` items: contiguous blocks,
 * sizes differing by at most one.
 * @example
 * shardBounds(14, { index: 2, count: 3 }) // [4, 9]
 */
export function shardBounds(length: number, shard: Shard): [number, number] {
  checkShard(shard);
  return [Math.floor(((shard.index - 1) * length) / shard.count), Math.floor((shard.index * length) / shard.count)];
}

/**
 * The items of one shard (all of them when `shard` is undefined), in their order.
 * @example
 * shardOf(["a", "b", "c", "d", "e"], { index: 1, count: 2 }) // ["a", "b"]
 */
export function shardOf<T>(items: readonly T[], shard: Shard | undefined): T[] {
  if (!shard) return [...items];
  const [start, end] = shardBounds(items.length, shard);
  return items.slice(start, end);
}

/**
 * The seeds of one shard of the range `from..to` (`to` excluded), as a range; it is empty when
 * there are fewer seeds than shards and this shard gets none.
 * @example
 * shardSeedRange(0, 8, { index: 3, count: 3 }) // { from: 5, to: 8 }
 */
export function shardSeedRange(from: number, to: number, shard: Shard): { from: number; to: number } {
  const [start, end] = shardBounds(to - from, shard);
  return { from: from + start, to: from + end };
}

/**
 * A test run's result with `shard` set (see `TestRunResult.shard`), unchanged without a shard.
 * @param total - the tests the whole (unsharded) run selects.
 */
export function withShard(result: TestRunResult, shard: Shard | undefined, total: number): TestRunResult {
  return shard ? { ...result, shard: { index: shard.index, count: shard.count, total } } : result;
}
