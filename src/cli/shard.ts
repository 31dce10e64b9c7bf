/**
 * The command-line side of test selection: the `--shard i/n` and `--include`/`--exclude GLOB`
 * values, and the line that says which shard ran (`shard 2/3: 5 of 14 tests`). What a shard is
 * and how files are selected is in `src/driver/test-selection.ts`.
 */
import { UsageError } from "./usage-error.js";
import { compileGlob } from "../driver/glob.js";
import type { Shard } from "../driver/test-selection.js";

/**
 * `--shard INDEX/COUNT` (1-based, as vitest's and Playwright's `--shard 2/3`).
 * @throws UsageError when it is not two integers with 1 ≤ INDEX ≤ COUNT.
 * @example
 * parseShard("2/3", "--shard") // { index: 2, count: 3 }
 */
export function parseShard(value: string, name: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value);
  if (!m) throw new UsageError(`invalid value \`${value}\` for \`${name}\`: expected \`INDEX/COUNT\`, e.g. \`${name} 2/3\` for the second of three shards`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (!Number.isSafeInteger(count) || count < 1) throw new UsageError(`invalid value \`${value}\` for \`${name}\`: the count of shards must be 1 or more`);
  if (!Number.isSafeInteger(index) || index < 1 || index > count) {
    throw new UsageError(`invalid value \`${value}\` for \`${name}\`: the shard index must be from 1 to ${count} (shards are numbered from 1)`);
  }
  return { index, count };
}

/**
 * A glob of `--include`/`--exclude`, checked here so that a malformed one is a usage error.
 * @throws UsageError when the glob is empty or has an unclosed `{`.
 */
export function parseGlob(value: string, name: string): string {
  try {
    compileGlob(value);
  } catch (e) {
    throw new UsageError(`invalid value \`${value}\` for \`${name}\`: ${(e as Error).message}`);
  }
  return value;
}

/**
 * The line a sharded `kmiri test` prints first, so that a CI log says what ran.
 * @example
 * shardTestLine({ index: 2, count: 3, total: 14 }, 5) // "shard 2/3: 5 of 14 tests"
 */
export function shardTestLine(shard: { index: number; count: number; total: number }, tests: number): string {
  return `shard ${shard.index}/${shard.count}: ${tests} of ${shard.total} ${shard.total === 1 ? "test" : "tests"}`;
}

/**
 * The line a sharded `kmiri run --many-seeds` prints first.
 * @example
 * shardSeedsLine({ index: 2, count: 3 }, { from: 2, to: 5 }, { from: 0, to: 8 }) // "shard 2/3: seeds 2..5, 3 of 8 seeds"
 */
export function shardSeedsLine(shard: Shard, part: { from: number; to: number }, whole: { from: number; to: number }): string {
  return `shard ${shard.index}/${shard.count}: seeds ${part.from}..${part.to}, ${part.to - part.from} of ${whole.to - whole.from} seeds`;
}
