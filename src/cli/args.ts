import { replaySeed } from "../concurrency/scheduler.js";
import { MAX_CPUS, checkMirchOptions, parseRamSize } from "../interp/mirch/mirch-machine.js";
import type { Shard } from "../driver/test-selection.js";
import { parseGlob, parseShard } from "./shard.js";
import { UsageError } from "./usage-error.js";

/**
 * The `kmiri` command line, parsed by hand (no dependency). Options take their value as the next
 * argument or after `=` (`--seed 3`, `--seed=3`); `--` ends the options. Anything wrong becomes a
 * {@link UsageError}, which the CLI prints with the short usage and exit status 2.
 */

/** Options shared by `run` and `test`. */
export interface CommonFlags {
  seed?: number;
  json: boolean;
  native: boolean;
  preemptionRate?: number;
  maxSteps?: number;
  /** `--timeout SECONDS`: wall-clock time a run may take, in milliseconds. */
  timeoutMs?: number;
  /** `--max-threads N`: threads a run may spawn. */
  maxThreads?: number;
  /** Bytes the program may have live at once. */
  memoryLimit?: number;
  /** Do not report memory leaks. */
  ignoreLeaks?: boolean;
  /** Integer-to-pointer casts are unsupported. */
  strictProvenance?: boolean;
  /** `--no-weak-memory`: atomic loads always read the latest store (Miri's `-Zmiri-disable-weak-memory-emulation`). */
  noWeakMemory?: boolean;
  /** `--no-race-check`: no data-race detection (Miri's `-Zmiri-disable-data-race-detector`). */
  noRaceCheck?: boolean;
  /** Where to write the findings as SARIF 2.1.0. */
  sarif?: string;
  /** Schedule with PCT of this bug depth. */
  pct?: number;
  /** PCT's step estimate (default: from a first run). */
  pctSteps?: number;
  /** Replay this schedule (a replay string); its seed is the run's. */
  replay?: string;
  /** The aliasing model (`--borrow-model none|stacked`, default stacked). */
  borrowModel?: "stacked" | "none";
  /** Borrow tags whose events are printed as notes (`--track-tag N`, repeatable, or `N,M`). */
  trackTags?: number[];
  /** Minimum tag creations between two tag GCs (`--tag-gc N`, 0: off). */
  tagGc?: number;
  /** `--no-typecheck`: do not type-check the program before it runs. */
  noTypecheck?: boolean;
  /** `--cpus N`: Mirch's CPUs (default 4). */
  cpus?: number;
  /** `--ram SIZE`: Mirch's RAM in bytes (default 256 MiB). */
  ram?: number;
  /** `--hostile`: every device attached on Mirch is hostile. */
  hostile?: boolean;
}

/** Options of `kmiri run` only. */
export interface RunFlags extends CommonFlags {
  /** `--many-seeds A..B`: run once per seed in [from, to). */
  manySeeds?: { from: number; to: number };
  /** Worker threads for `--many-seeds` (default: the number of CPUs). */
  workers?: number;
  /** `--shard i/n` (with `--many-seeds`): run only the i-th of n contiguous parts of the seeds. */
  shard?: Shard;
}

/** Options of `kmiri test` only. */
export interface TestFlags extends CommonFlags {
  /** `--filter TEXT` (repeatable: a list when given more than once). */
  filter?: string | string[];
  /** `--include GLOB` (repeatable): only matching files are test files. */
  include?: string[];
  /** `--exclude GLOB` (repeatable): matching files are not test files; wins over `--include`. */
  exclude?: string[];
  /** `--shard i/n`: run only the i-th of n contiguous parts of the selected tests. */
  shard?: Shard;
  /** Where to write lcov coverage. */
  lcov?: string;
  /** `--html DIR`: where to write the HTML report. */
  html?: string;
  /** `--coverage-by file|dir`: rows of the coverage table (default `file`). */
  coverageBy?: "file" | "dir";
  /** `--many-seeds A..B`: every test once per seed in [from, to). */
  manySeeds?: { from: number; to: number };
  /** Worker threads for `--many-seeds` (default: the number of CPUs). */
  workers?: number;
}

/** A parsed command line. */
export type Command =
  | { command: "help" }
  | { command: "version" }
  | { command: "run"; file: string; flags: RunFlags }
  /** `path`: a list when several are given (`kmiri test PATH...`), as `filter`. */
  | { command: "test"; path: string | string[]; flags: TestFlags }
  | { command: "corpus"; dir: string; flags: CommonFlags };

export { UsageError };

type Parser = (value: string, name: string) => number | string;

const integer = (min: number): Parser => (value, name) => {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < min) {
    throw new UsageError(`invalid value \`${value}\` for \`${name}\`: expected an integer${min > 0 ? ` of at least ${min}` : " of at least 0"}`);
  }
  return Number(value);
};

/** An integer from `min` to `max`. */
const integerIn = (min: number, max: number): Parser => (value, name) => {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`invalid value \`${value}\` for \`${name}\`: expected an integer from ${min} to ${max}`);
  }
  return Number(value);
};

/** Seconds (a positive number, fractions allowed), as milliseconds. */
const seconds: Parser = (value, name) => {
  const n = Number(value);
  if (!/^\s*(\d+\.?\d*|\.\d+)\s*$/.test(value) || !Number.isFinite(n) || n <= 0 || n * 1000 > 2 ** 31) {
    throw new UsageError(`invalid value \`${value}\` for \`${name}\`: expected a number of seconds greater than 0 (e.g. 30 or 0.5)`);
  }
  return Math.max(1, Math.round(n * 1000));
};

const ramSize: Parser = (value, name) => {
  const n = parseRamSize(value);
  try {
    if (Number.isNaN(n)) throw new RangeError("");
    checkMirchOptions({ ramBytes: n });
  } catch {
    throw new UsageError(`invalid value \`${value}\` for \`${name}\`: expected a size of RAM such as 256M, 1G or 4G (a multiple of 4 KiB from 4 MiB to 1 TiB)`);
  }
  return n;
};

const probability: Parser = (value, name) => {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new UsageError(`invalid value \`${value}\` for \`${name}\`: expected a number from 0 to 1`);
  }
  return n;
};

const text: Parser = (value) => value;

const coverageBy = (value: string, name: string): "file" | "dir" => {
  if (value !== "file" && value !== "dir") {
    throw new UsageError(`invalid value \`${value}\` for \`${name}\`: expected \`file\` (a row per file, the default) or \`dir\` (a row per directory)`);
  }
  return value;
};

const borrowModel = (value: string, name: string): "stacked" | "none" => {
  if (value !== "stacked" && value !== "none") {
    throw new UsageError(`invalid value \`${value}\` for \`${name}\`: expected \`stacked\` (Stacked Borrows, the default) or \`none\``);
  }
  return value;
};

/** `N` or `N,M,…`: borrow tags (positive integers). */
const tagList = (value: string, name: string): number[] =>
  value.split(",").map((t) => {
    if (!/^\s*\d+\s*$/.test(t) || Number(t) < 1 || !Number.isSafeInteger(Number(t))) {
      throw new UsageError(`invalid value \`${value}\` for \`${name}\`: expected a borrow tag (a positive integer) or a comma-separated list of them`);
    }
    return Number(t);
  });

const replayString: Parser = (value, name) => {
  try {
    replaySeed(value);
  } catch (e) {
    throw new UsageError(`invalid value for \`${name}\`: ${(e as Error).message}`);
  }
  return value.trim();
};

/** `A..B` (the seeds A … B−1, as a Rust range and Miri's `-Zmiri-many-seeds`), or `..B` from 0. */
const seedRange = (value: string, name: string): { from: number; to: number } => {
  const m = /^(\d*)\.\.(\d+)$/.exec(value);
  const from = m ? Number(m[1] || "0") : NaN;
  const to = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(from) || !Number.isSafeInteger(to) || to > 0x1_0000_0000) {
    throw new UsageError(`invalid value \`${value}\` for \`${name}\`: expected a range of seeds \`A..B\` (A included, B excluded)`);
  }
  if (from >= to) throw new UsageError(`invalid value \`${value}\` for \`${name}\`: the range is empty`);
  return { from, to };
};

type AnyFlags = TestFlags & RunFlags;

interface OptionSpec {
  /** Key in the flags object. */
  key: keyof AnyFlags;
  /** Parser of the value; absent for a switch. */
  parse?: (value: string, name: string) => unknown;
  /** Only for `kmiri test`. */
  testOnly?: boolean;
  /** Only for `kmiri run`. */
  runOnly?: boolean;
  /** For `kmiri run` and `kmiri test`, not `kmiri corpus`. */
  notCorpus?: boolean;
}

const OPTIONS: Record<string, OptionSpec> = {
  "--seed": { key: "seed", parse: integer(0) },
  "--json": { key: "json" },
  "--native": { key: "native" },
  "--preemption-rate": { key: "preemptionRate", parse: probability },
  "--max-steps": { key: "maxSteps", parse: integer(1) },
  "--timeout": { key: "timeoutMs", parse: seconds },
  "--max-threads": { key: "maxThreads", parse: integerIn(0, 65535) },
  "--memory-limit": { key: "memoryLimit", parse: integer(1) },
  "--ignore-leaks": { key: "ignoreLeaks" },
  "--strict-provenance": { key: "strictProvenance" },
  "--no-weak-memory": { key: "noWeakMemory" },
  "--no-race-check": { key: "noRaceCheck" },
  "--borrow-model": { key: "borrowModel", parse: borrowModel },
  "--track-tag": { key: "trackTags", parse: tagList },
  "--tag-gc": { key: "tagGc", parse: integer(0) },
  "--no-typecheck": { key: "noTypecheck" },
  "--cpus": { key: "cpus", parse: integerIn(1, MAX_CPUS) },
  "--ram": { key: "ram", parse: ramSize },
  "--hostile": { key: "hostile" },
  "--filter": { key: "filter", parse: text, testOnly: true },
  "--lcov": { key: "lcov", parse: text, testOnly: true },
  "--html": { key: "html", parse: text, testOnly: true },
  "--sarif": { key: "sarif", parse: text },
  "--pct": { key: "pct", parse: integer(1), notCorpus: true },
  "--pct-steps": { key: "pctSteps", parse: integer(1), notCorpus: true },
  "--replay": { key: "replay", parse: replayString, notCorpus: true },
  "--coverage-by": { key: "coverageBy", parse: coverageBy, testOnly: true },
  "--many-seeds": { key: "manySeeds", parse: seedRange, notCorpus: true },
  "--workers": { key: "workers", parse: integer(1), notCorpus: true },
  "--include": { key: "include", parse: parseGlob, testOnly: true },
  "--exclude": { key: "exclude", parse: parseGlob, testOnly: true },
  "--shard": { key: "shard", parse: parseShard, notCorpus: true },
};

/** Short aliases of long options. */
const SHORT_OPTIONS: Record<string, string> = { "-t": "--filter" };

/**
 * `; did you mean \`--seed\`?` for a mistyped option: the known option nearest to `name` by edit
 * distance, when it is close (at most a third of its length, and 3), else nothing.
 */
export function didYouMean(name: string): string {
  let best = "";
  let bestDistance = Infinity;
  for (const known of [...Object.keys(OPTIONS), ...Object.keys(SHORT_OPTIONS)]) {
    const d = editDistance(name, known);
    if (d < bestDistance) {
      best = known;
      bestDistance = d;
    }
  }
  const limit = Math.min(3, Math.max(1, Math.floor(best.length / 3)));
  return bestDistance <= limit ? `; did you mean \`${best}\`?` : "";
}

/** Levenshtein distance (insertions, deletions, substitutions). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** Options that make no sense together: the first message that applies. */
function checkConflicts(flags: AnyFlags, given: ReadonlySet<string>): void {
  const both = (a: string, b: string, why: string) => {
    if (given.has(a) && given.has(b)) throw new UsageError(`\`${a}\` and \`${b}\` cannot be used together: ${why}`);
  };
  both("--replay", "--pct", "a replay string fixes the whole schedule");
  both("--replay", "--pct-steps", "a replay string fixes the whole schedule");
  both("--replay", "--preemption-rate", "a replay string fixes the whole schedule");
  both("--replay", "--many-seeds", "a replay string is one run");
  both("--pct", "--preemption-rate", "PCT decides at every scheduling point, by priorities");
  both("--many-seeds", "--seed", "`--many-seeds` chooses the seeds");
  both("--many-seeds", "--native", "a native run has no schedule to vary");
  both("--many-seeds", "--sarif", "write SARIF for one seed with `--seed N --sarif FILE`");
  if (given.has("--pct-steps") && !given.has("--pct")) throw new UsageError("`--pct-steps` needs `--pct DEPTH`");
  if (given.has("--workers") && !given.has("--many-seeds")) throw new UsageError("`--workers` needs `--many-seeds A..B`");
  both("--shard", "--replay", "a replay string is one run");
  if (flags.replay !== undefined && flags.seed !== undefined && replaySeed(flags.replay) !== flags.seed) {
    throw new UsageError(`\`--seed ${flags.seed}\` does not match the seed of the replay string (${replaySeed(flags.replay)}); a replay string carries its seed, leave \`--seed\` out`);
  }
}

/**
 * Parses the arguments after `kmiri`.
 * @param argv - the arguments (`process.argv.slice(2)`).
 * @returns the command to run.
 * @throws UsageError when the arguments are wrong.
 * @example
 * parseArgs(["run", "examples/hello.ts", "--seed", "3"])
 * // { command: "run", file: "examples/hello.ts", flags: { json: false, native: false, seed: 3 } }
 */
export function parseArgs(argv: readonly string[]): Command {
  if (argv.length === 0) throw new UsageError("no command given");
  if (argv.includes("--help") || argv.includes("-h") || argv[0] === "help") return { command: "help" };
  if (argv[0] === "--version" || argv[0] === "-V") return { command: "version" };
  const [command, ...restArgs] = argv;
  let rest = restArgs;
  if (command !== "run" && command !== "test" && command !== "corpus") {
    throw new UsageError(command!.startsWith("-") ? `unknown option \`${command}\`` : `unknown command \`${command}\``);
  }

  const flags: AnyFlags = { json: false, native: false };
  const given = new Set<string>();
  const positional: string[] = [];
  let optionsEnded = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (!optionsEnded && arg in SHORT_OPTIONS) {
      // A short alias (`-t NAME`, vitest's and cargo test's habit): its long option's value follows.
      rest = [...rest.slice(0, i), SHORT_OPTIONS[arg]!, ...rest.slice(i + 1)];
      i--;
      continue;
    }
    if (optionsEnded || !arg.startsWith("--") || arg === "-") {
      if (!optionsEnded && arg.startsWith("-") && arg !== "-") throw new UsageError(`unknown option \`${arg}\`${didYouMean(arg)}`);
      positional.push(arg);
      continue;
    }
    if (arg === "--") {
      optionsEnded = true;
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg : arg.slice(0, eq);
    const spec = OPTIONS[name];
    if (!spec) throw new UsageError(`unknown option \`${name}\`${didYouMean(name)}`);
    if (spec.testOnly && command !== "test") throw new UsageError(`option \`${name}\` is only for \`kmiri test\``);
    if (spec.runOnly && command !== "run") throw new UsageError(`option \`${name}\` is only for \`kmiri run\``);
    if (spec.notCorpus && command === "corpus") throw new UsageError(`option \`${name}\` is only for \`kmiri run\` and \`kmiri test\``);
    given.add(name);
    if (!spec.parse) {
      if (eq >= 0) throw new UsageError(`option \`${name}\` takes no value`);
      (flags as unknown as Record<string, unknown>)[spec.key] = true;
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = rest[++i];
      if (value === undefined) throw new UsageError(`option \`${name}\` needs a value`);
    }
    const parsed = spec.parse(value, name);
    // `--track-tag` may be given several times: the tags add up.
    if (spec.key === "trackTags" && flags.trackTags) flags.trackTags = [...flags.trackTags, ...(parsed as number[])];
    // So may `--filter`: a test runs when it matches any of them.
    else if (spec.key === "filter" && flags.filter !== undefined) flags.filter = [...[flags.filter].flat(), parsed as string];
    // `--include` and `--exclude` too: always a list.
    else if (spec.key === "include" || spec.key === "exclude") flags[spec.key] = [...(flags[spec.key] ?? []), parsed as string];
    else (flags as unknown as Record<string, unknown>)[spec.key] = parsed;
  }

  checkConflicts(flags, given);
  const what = command === "run" ? "FILE" : command === "corpus" ? "DIR" : "PATH";
  if (positional.length === 0) throw new UsageError(`\`kmiri ${command}\` needs a ${what}`);
  // `kmiri test PATH...` takes several paths (the union of their tests); the others one.
  if (positional.length > 1 && command !== "test") throw new UsageError(`unexpected argument \`${positional[1]}\`: \`kmiri ${command}\` takes one ${what}`);
  if (command === "run") {
    const { filter: _f, lcov: _l, coverageBy: _c, include: _i, exclude: _e, ...common } = flags;
    if (common.shard && !common.manySeeds) throw new UsageError("`--shard` for `kmiri run` needs `--many-seeds A..B`: it splits the seeds");
    if (common.shard && common.manySeeds && common.shard.count > common.manySeeds.to - common.manySeeds.from) {
      const { from, to } = common.manySeeds;
      throw new UsageError(`\`--shard ${common.shard.index}/${common.shard.count}\` splits the seeds of \`--many-seeds ${from}..${to}\` into more shards than there are seeds (${to - from})`);
    }
    return { command, file: positional[0]!, flags: common };
  }
  if (command === "corpus") {
    const { filter: _f, lcov: _l, sarif: _s, coverageBy: _c, manySeeds: _m, workers: _w, include: _i, exclude: _e, shard: _h, ...common } = flags;
    return { command, dir: positional[0]!, flags: common };
  }
  return { command, path: positional.length === 1 ? positional[0]! : positional, flags };
}
