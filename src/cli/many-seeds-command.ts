/**
 * `kmiri run FILE --many-seeds A..B`: the program once per seed in A … B−1 on worker threads
 * (`runManySeeds`), as Miri's `-Zmiri-many-seeds`. Program output is not printed. On stderr: a
 * progress line while it runs (only on a terminal, updated in place with `\r`), then for each
 * failing seed, in order, `FAILING SEED: n` and the seed's first report (or its panic), rendered
 * as `kmiri run` renders it, and last `k/N SEEDS FAILED`. With `--json`, one object on stdout:
 * the contract fields (`seed` is A, `ub` every seed's findings in seed order, `stats` summed)
 * plus `seeds: { seed, exitCode, ub, panic?, schedule? }[]` and `failed: number[]`.
 * Exit status 1 when some seed failed (2 when kmiri itself failed on one).
 *
 * With `--shard i/n` only the i-th of n contiguous parts of the seeds runs (`shardSeedRange`): the
 * text starts with `shard i/n: seeds C..D, k of N seeds`, and the JSON adds
 * `shard: { index, count, from, to }` (the part that ran; `seed` stays A, `seeds` lists the part's).
 */
import type { RunFlags } from "./args.js";
import type { CliIO } from "./io.js";
import { cachedSources } from "./io.js";
import { engineOptions } from "./options.js";
import { renderPanic, renderReport } from "../driver/render/render.js";
import { palette, shouldColor } from "../driver/render/render-style.js";
import type { KmiriJson } from "../driver/render/json.js";
import type { ManySeedsOptions, SeedRun } from "../driver/many-seeds.js";
import { ProgressLine, elapsed } from "./progress-line.js";
import { shardSeedRange } from "../driver/test-selection.js";
import { shardSeedsLine } from "./shard.js";

/** The JSON object of `kmiri run --many-seeds --json`. */
export interface ManySeedsJson extends KmiriJson {
  /** One entry per seed, in seed order. */
  seeds: { seed: number; exitCode: 0 | 1 | 2; ub: SeedRun["ub"]; panic?: SeedRun["panic"]; schedule?: string }[];
  /** The failing seeds, in order. */
  failed: number[];
  /** Only with `--shard`: which shard ran, and its seeds `from..to` (`to` excluded). */
  shard?: { index: number; count: number; from: number; to: number };
}

/**
 * Runs `kmiri run --many-seeds`.
 * @param file - the program.
 * @param flags - the parsed flags (`manySeeds` set).
 * @param io - the process.
 * @returns the exit status.
 */
export async function manySeedsCommand(file: string, flags: RunFlags, io: CliIO): Promise<number> {
  const engine = await io.engine();
  if (!engine.runManySeeds) throw new Error("this engine cannot run many seeds");
  const whole = flags.manySeeds!;
  // `--shard i/n`: this shard's part of the seeds (the argument parser made sure it has some).
  const range = flags.shard ? shardSeedRange(whole.from, whole.to, flags.shard) : whole;
  const { onOutput: _o, native: _n, seed: _s, replay: _r, ...base } = engineOptions(flags, io);
  const options: ManySeedsOptions = { ...base, from: range.from, to: range.to };
  if (flags.workers !== undefined) options.workers = flags.workers;
  const progress = new ProgressLine(io, !flags.json);
  const t0 = Date.now();
  if (progress.active) {
    options.onProgress = (p) => progress.show(`many seeds: ${p.done}/${p.total} done, ${p.failed} failed, ${elapsed(Date.now() - t0)}`);
  }
  let result;
  try {
    result = await engine.runManySeeds(file, options);
  } finally {
    progress.clear();
  }

  if (flags.json) {
    const json: ManySeedsJson = {
      seed: whole.from,
      ub: result.seeds.flatMap((s) => s.ub),
      stats: result.stats,
      exitCode: result.exitCode,
      seeds: result.seeds.map((s) => {
        const e: ManySeedsJson["seeds"][number] = { seed: s.seed, exitCode: s.exitCode, ub: s.ub };
        if (s.panic) e.panic = s.panic;
        if (s.schedule !== undefined) e.schedule = s.schedule;
        return e;
      }),
      failed: result.failed,
    };
    if (flags.shard) json.shard = { index: flags.shard.index, count: flags.shard.count, from: range.from, to: range.to };
    io.stdout(`${JSON.stringify(json)}\n`);
    return result.exitCode;
  }

  const color = shouldColor(io.stderrIsTTY, io.env);
  const p = palette(color);
  const render = { color, readSource: cachedSources(io) };
  const blocks: string[] = [];
  if (flags.shard) blocks.push(shardSeedsLine(flags.shard, range, whole));
  for (const s of result.seeds) {
    if (s.exitCode === 0) continue;
    const first = s.ub[0] ? renderReport(s.ub[0], render) : s.panic ? renderPanic(s.panic, render) : "";
    blocks.push(`${p.strong(`FAILING SEED: ${s.seed}`)}${first ? `\n${first}` : ""}`);
  }
  const total = result.to - result.from;
  blocks.push(p.strong(`${result.failed.length}/${total} SEEDS FAILED`));
  io.stderr(`${blocks.join("\n\n")}\n`);
  return result.exitCode;
}
