/**
 * The help text of the `kmiri` command and the short usage printed after an argument error.
 */

/** The short usage, printed under an argument error. */
export const SHORT_USAGE = `Usage: kmiri run FILE [--seed N] [--json] [--native] [--preemption-rate P | --pct D [--pct-steps K]] [--replay STRING] [--max-steps N] [--timeout S] [--max-threads N] [--memory-limit B] [--ignore-leaks] [--strict-provenance] [--no-weak-memory] [--no-race-check] [--borrow-model none|stacked] [--track-tag N] [--sarif FILE] [--no-typecheck] [--cpus N] [--ram SIZE] [--hostile]
       kmiri run FILE --many-seeds A..B [--workers N] [--shard I/N] [same options but --seed, --replay, --native, --sarif]
       kmiri test PATH... [-t|--filter TEXT]... [--include GLOB]... [--exclude GLOB]... [--shard I/N] [--seed N] [--json] [--native] [--pct D] [--replay STRING] [--lcov FILE] [--html DIR] [--sarif FILE] [--coverage-by file|dir] [--no-typecheck]
       kmiri test PATH... --many-seeds A..B [--workers N] [--shard I/N] [same options but --seed, --replay, --native, --sarif]
       kmiri corpus DIR [--seed N] [--json] [--no-typecheck]
For more information, try \`kmiri --help\`.`;

/**
 * The text of `kmiri --help`.
 * @param version - the package version, shown in the first line.
 */
export function helpText(version: string): string {
  return `kmiri ${version}: a Miri-style undefined-behaviour detector for OS-kernel code in TypeScript

Usage:
  kmiri run FILE [options]    run a program (its exported \`main\`) under the checks
  kmiri test PATH... [options]
                              run the \`ktest\`s found under each PATH (a file or a directory;
                              several: the union of their test files)
  kmiri corpus DIR [options]  check an annotated UB corpus: each \`//~ ERROR: KIND\` line must be
                              reported with that kind, nothing else; files without one run clean
  kmiri --help                print this help
  kmiri --version             print the version

Options:
  --seed N                 seed for every scheduling and allocation choice; the same seed
                           replays the same run
  --json                   print exactly one JSON object on stdout (program output included)
  --native                 run on plain Node without any check (the speed baseline)
  --preemption-rate P      probability, from 0 to 1, of a thread switch at a scheduling point
                           (an atomic, spawn, join, yield, output); default 0.1; 0: a thread
                           runs until it blocks or ends (round robin)
  --pct D                  schedule with PCT, bug depth D (1 or more) instead of random
                           preemption: random thread priorities, D-1 priority change points
  --pct-steps K            PCT's estimate of a run's steps, over which the change points are
                           drawn (default: the steps of a first run with seed 0 and depth 1)
  --replay STRING          replay the schedule of an earlier run exactly: the string every
                           concurrency report prints (it carries the seed)
  --many-seeds A..B        run: the program once per seed A, A+1, ..., B-1 on worker threads;
                           prints \`FAILING SEED: n\` and the first report of each failing seed,
                           then \`k/N SEEDS FAILED\` (a progress line on a terminal)
                           test: every test once per seed; a test passes only if every seed
                           passes; a failed test lists \`FAILING SEED: n\` and the first report
                           of each failing seed; coverage is merged over the seeds
  --workers N              --many-seeds: worker threads (default: the number of CPUs)
  --max-steps N            stop with a resource-exhaustion error when a loop starts iteration
                           N+1 (loop iterations of all threads, counted exactly; default
                           500000000)
  --timeout SECONDS        stop with a resource-exhaustion error when a run (each test, each
                           seed) takes more than SECONDS (fractions allowed; default: no
                           limit); checked at loop iterations and scheduling points (not
                           with --native)
  --max-threads N          stop with a resource-exhaustion error when the program spawns
                           thread N+1 (ended threads count; default 1000, at most 65535)
  --memory-limit BYTES     stop with a resource-exhaustion error when the program has more
                           than BYTES allocated at once (default 1 GiB); one allocation is
                           limited to 2 GiB - 1 bytes whatever the limit
  --ignore-leaks           do not report memory still allocated when \`main\` or a test ends
  --strict-provenance      reject integer-to-pointer casts (\`ptr_from_exposed\`) instead of
                           warning once, like Miri's -Zmiri-strict-provenance
  --no-weak-memory         atomic loads always read the latest store: no store buffers, no
                           weak behaviours (like -Zmiri-disable-weak-memory-emulation)
  --no-race-check          no data-race detection (and no weak memory), like
                           -Zmiri-disable-data-race-detector
  --borrow-model MODEL     the aliasing model: \`stacked\` (Stacked Borrows, the default) or
                           \`none\` (no aliasing checks, like -Zmiri-disable-stacked-borrows)
  --track-tag N            print a note at each event of borrow tag N: its creation and each
                           removal from a borrow stack (repeatable, or N,M; -Zmiri-track-pointer-tag)
  --tag-gc N               collect dead borrow tags every N tag creations at least (default
                           10000; 0: never; -Zmiri-provenance-gc); it never changes a verdict
  --cpus N                 Mirch: CPUs of the machine (each thread is one; default 4)
  --ram SIZE               Mirch: RAM of the machine (256M, 1G, 4G, ...; default 256M)
  --hostile                Mirch: every attached device is hostile (Iago values chosen by the
                           seed, double fetches); combine with --many-seeds to search seeds
  --sarif FILE             write the findings (and panics) to FILE as SARIF 2.1.0, for code
                           scanning tools
  --no-typecheck           do not type-check the program before it runs; by default tsc checks
                           its .ts files (strict, ES2022, kmiri/rt's types; cached by content)
                           and a type error stops it like a syntax error (exit status 2)
  -t, --filter TEXT        test: run only the tests whose \`module::name\` contains TEXT (repeatable: any of them)
  --include GLOB           test: only files whose path (relative to the working directory)
                           matches GLOB are test files (repeatable: any of them); \`**\`, \`*\`,
                           \`?\`, \`{a,b}\`, \`[a-z]\`; a GLOB without \`/\` matches a file or
                           directory name; a directory matched matches everything under it
  --exclude GLOB           test: files matching GLOB are not test files (repeatable; wins over
                           --include). Always skipped: node_modules, dist, dotted names, and a
                           compiled foo.js (or .mjs) beside its foo.ts (or .tsx, .mts)
  --shard I/N              test: run only the I-th (from 1) of N contiguous parts of the selected
                           tests (after --filter, in run order; with --many-seeds each test of the
                           part runs every seed); run --many-seeds: the I-th part of the seeds.
                           The shards are disjoint and together make the whole run; the output
                           starts with \`shard I/N: ...\` and the JSON has \`shard\`
  --lcov FILE              test: write line coverage to FILE in lcov format
  --html DIR               test: write an HTML report to DIR (index.html: summary, coverage,
                           findings; a page per file with coverage, unsafe regions, findings)
  --coverage-by file|dir   test: a coverage table row per file (the default) or per directory
                           (relative to the working directory; the files' counts and times summed)

Output: the program's output goes to stdout as it prints; findings go to stderr, as Miri's do.
Colour is used when the stream is a terminal and NO_COLOR is unset.

Exit status:
  0  clean: no undefined behaviour, no panic, every test passed
  1  undefined behaviour found, the program panicked, or a test failed
  2  the program could not be loaded (a syntax or type error, a missing file or import), the
     arguments are wrong, an output file (--lcov, --html, --sarif) could not be written, or kmiri
     itself failed

KMIRIFLAGS (as cargo miri's MIRIFLAGS): flags read from the environment, split at spaces and put
before the command line's arguments, which win where an option is given twice.
Set KMIRI_DEBUG=1 to see kmiri's own stack trace when it fails.`;
}
