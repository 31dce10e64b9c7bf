#!/usr/bin/env node
// Offline fuzzing of kmiri: many generated programs (test/fuzz/generator.ts), each run twice with
// the same seed (and once more replaying its schedule), on worker threads, against the built
// library (dist/, or --kmiri DIR). Reports every internal error, escaped exception, hang and
// nondeterminism, grouped by signature; saves the failing programs with --save DIR.
//
//   node scripts/fuzz.mjs --from 0 --count 10000             # needs `npm run build` first
//   node scripts/fuzz.mjs --from 0 --count 2000 --workers 2 --save /tmp/fuzz-failures --stats
//   node scripts/fuzz.mjs --seed 1234 --print                # one program: its text and result
//   node scripts/fuzz.mjs --count 5000 --known               # skip the features of the KNOWN findings, as the test does
//
// Options: --from N (0) --count N (1000) --seed N (= --from N --count 1) --workers N (CPUs)
//   --kmiri DIR (dist) --max-steps N (200000) --timeout MS (kmiri's own, 5000) --hang MS (a seed
//   that takes longer is a hang: its worker is killed, 60000) --disable a,b (generator features)
//   --known (disable the features of test/fuzz/fuzz.test.ts's KNOWN table) --no-replay --save DIR
//   --print --stats --json FILE --size N --intent valid|ub|misuse --mode main|test
//   --mirch / --no-mirch (every program / no program a `kmiri/mirch` one; default about one in five)
//   --typecheck (run kmiri's type check before each run; off by default. With it, a type error
//   is a load error: a generator bug, or kmiri's types diverging from the contract)
//   --debug (KMIRI_DEBUG=1: internal errors carry kmiri's stack; failures are grouped by its top frame)
//   --matrix (one program per misuse leaf feature, generator.ts's misuseLeaves(): seed i focuses
//   leaf i % leaves; --count defaults to the number of leaves) --attribute (with --matrix or
//   misuse runs: which misuse leaf features fail, and how) --focus F1,F2 (programs whose one mistake
//   is feature F1, F2, ... in turn, e.g. misuse.arg.Ptr.add.1.bigint; --count N for N programs)
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const GENERATOR = path.join(ROOT, "test/fuzz/generator.ts");

async function loadGenerator() {
  const { tsImport } = await import("tsx/esm/api");
  return tsImport(pathToFileURL(GENERATOR).href, import.meta.url);
}

/**
 * The features the fuzz test skips (its KNOWN table): the table's text in fuzz.test.ts, between
 * its "start of KNOWN" and "end of KNOWN" comments, evaluated as a module of its own.
 */
async function knownDisabled() {
  const text = readFileSync(path.join(ROOT, "test/fuzz/fuzz.test.ts"), "utf8");
  const from = text.indexOf("// start of KNOWN");
  const to = text.indexOf("// end of KNOWN");
  if (from < 0 || to < 0) throw new Error("fuzz: no KNOWN table in test/fuzz/fuzz.test.ts");
  const dir = mkdtempSync(path.join(tmpdir(), "kmiri-fuzz-known-"));
  const file = path.join(dir, "known.ts");
  writeFileSync(
    file,
    `import { BAD_VALUE_KINDS } from ${JSON.stringify(pathToFileURL(GENERATOR).href)};\nvoid BAD_VALUE_KINDS;\ntype Known = any;\ntype RunOptions = any;\n${text.slice(from, to)}\nexport { KNOWN };\n`,
  );
  try {
    const { tsImport } = await import("tsx/esm/api");
    const { KNOWN } = await tsImport(pathToFileURL(file).href, import.meta.url);
    return KNOWN.flatMap((k) => k.disable);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ───────────────────────────── worker ─────────────────────────────

async function workerMain() {
  const { kmiriDir, options } = workerData;
  const gen = await loadGenerator();
  const kmiri = await import(pathToFileURL(path.join(kmiriDir, "index.js")).href);
  const dir = mkdtempSync(path.join(tmpdir(), "kmiri-fuzz-"));
  parentPort.on("message", async (msg) => {
    if (msg.exit) {
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    }
    parentPort.postMessage(await fuzzOne(gen, kmiri, dir, msg.seed, options));
  });
  parentPort.postMessage({ ready: true });
}

/** The generator's options for `seed`. */
function genOptions(options, seed) {
  const o = { disable: options.disable, size: options.size, intent: options.intent, mode: options.mode, mirch: options.mirch };
  if (options.leaves) o.focus = options.leaves[seed % options.leaves.length];
  return o;
}

/** Runs one seed's program: the oracle. Returns plain data. */
async function fuzzOne(gen, kmiri, dir, seed, options) {
  const t0 = performance.now();
  const prog = gen.generateProgram(seed, genOptions(options, seed));
  const file = `fuzz-${seed}.ts`;
  writeFileSync(path.join(dir, file), prog.source);
  const runOptions = {
    cwd: dir,
    maxThreads: 32,
    memoryLimit: 16 * 1024 * 1024,
    ...prog.runOptions,
    maxSteps: options.maxSteps,
    timeoutMs: options.timeoutMs,
    // the oracle is about the Machine; misuse programs pass wrong values through `as any`
    typecheck: options.typecheck,
  };
  const run = (more = {}) =>
    prog.mode === "main" ? kmiri.runFile(file, { ...runOptions, ...more }) : kmiri.testPath(path.join(dir, file), { ...runOptions, ...more });
  const problems = [];
  const attempt = async (what, more) => {
    try {
      return await run(more);
    } catch (e) {
      const load = e instanceof kmiri.LoadError;
      problems.push({ kind: load ? "load-error" : "exception", what, detail: `${e?.name}: ${e?.message}`.slice(0, 500), stack: String(e?.stack ?? "").slice(0, 2000) });
      return undefined;
    }
  };
  const r1 = await attempt("run 1");
  let outcome = "error";
  if (r1) {
    outcome = gen.outcomeOf(r1);
    for (const i of gen.internalErrors(r1)) problems.push({ kind: "internal", what: "run 1", detail: i, where: kmiriFrames(r1) });
    for (const i of gen.nonDataPaths(r1).slice(0, 1)) problems.push({ kind: "non-data", what: "run 1", detail: i });
    const r2 = await attempt("run 2");
    // a run stopped by its time limit stops where the wall clock says: no comparison
    const timed = gen.hitTimeLimit(r1) || (r2 !== undefined && gen.hitTimeLimit(r2));
    if (timed) outcome += " (time limit)";
    if (r2 && !timed) {
      const d = gen.firstDifference(gen.comparableResult(r1), gen.comparableResult(r2));
      if (d !== null) problems.push({ kind: "nondeterminism", what: "run 2", detail: d });
    }
    if (options.replay && !timed && prog.mode === "main" && typeof r1.schedule === "string") {
      const r3 = await attempt("replay", { replay: r1.schedule });
      if (r3 && !gen.hitTimeLimit(r3)) {
        const strip = (r) => {
          const c = gen.comparableResult(r);
          delete c.pct;
          return c;
        };
        const d = gen.firstDifference(strip(r1), strip(r3));
        if (d !== null) problems.push({ kind: "replay-mismatch", what: "replay", detail: d });
      }
    }
  }
  return {
    seed,
    mode: prog.mode,
    intent: prog.intent,
    features: prog.features,
    outcome,
    first: r1 ? firstReport(r1) : undefined,
    problems,
    ms: Math.round(performance.now() - t0),
    steps: r1?.stats?.steps ?? 0,
    result: options.print ? JSON.parse(JSON.stringify(gen.comparableResult(r1) ?? null)) : undefined,
  };
}

/** With KMIRI_DEBUG=1 (--debug), the first frames of kmiri's own stack in an internal error's notes. */
function kmiriFrames(r) {
  const all = [...(r.ub ?? []), ...(r.tests ?? []).flatMap((t) => t.ub ?? [])];
  const u = all.find((x) => x.title === "internal error in kmiri");
  const stack = u?.notes?.find((n) => typeof n === "string" && /\n\s+at /.test(n));
  if (stack === undefined) return undefined;
  const frames = stack.split("\n").filter((l) => /^\s*at .*\/(src|dist)\//.test(l)).slice(0, 2);
  return frames.map((l) => l.trim().replace(/\(?(file:\/\/)?\/.*?\/(src|dist)\//, "$2/").replace(/\)$/, "").replace(/^at /, "")).join(" < ");
}

/** The first finding or panic of a result, in one line (for --json and statistics). */
function firstReport(r) {
  try {
    return firstReport1(r);
  } catch (e) {
    return `(unreadable: ${e})`;
  }
}

function firstReport1(r) {
  const ub = r.ub?.[0];
  if (ub) return `${ub.kind} ${ub.location?.line}:${ub.location?.column} ${ub.title}: ${ub.message}`.slice(0, 300);
  const panic = r.panic ?? r.tests?.find((t) => t.panic)?.panic;
  if (panic) return `panic ${panic.location?.line}: ${panic.message}`.slice(0, 300);
  const reason = r.tests?.find((t) => t.reason)?.reason;
  return reason ? `fail: ${reason}`.slice(0, 300) : undefined;
}

// ───────────────────────────── main thread ─────────────────────────────

function parseArgs(argv) {
  const o = {
    from: 0,
    count: 1000,
    workers: Math.max(1, availableParallelism()),
    kmiri: path.join(ROOT, "dist"),
    maxSteps: 200_000,
    timeoutMs: 5000,
    hang: 60_000,
    disable: [],
    replay: true,
    save: null,
    print: false,
    stats: false,
    json: null,
    size: undefined,
    intent: undefined,
    mode: undefined,
    matrix: false,
    attribute: false,
    countGiven: false,
    typecheck: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i];
    switch (a) {
      case "--from": o.from = Number(next()); break;
      case "--count": o.count = Number(next()); o.countGiven = true; break;
      case "--matrix": o.matrix = true; break;
      case "--focus": o.focus = next().split(",").filter(Boolean); break;
      case "--attribute": o.attribute = true; break;
      case "--seed": o.from = Number(next()); o.count = 1; break;
      case "--workers": o.workers = Number(next()); break;
      case "--kmiri": o.kmiri = path.resolve(next()); break;
      case "--max-steps": o.maxSteps = Number(next()); break;
      case "--timeout": o.timeoutMs = Number(next()); break;
      case "--hang": o.hang = Number(next()); break;
      case "--disable": o.disable.push(...next().split(",").filter(Boolean)); break;
      case "--known": o.known = true; break;
      case "--no-replay": o.replay = false; break;
      case "--typecheck": o.typecheck = true; break;
      case "--save": o.save = path.resolve(next()); break;
      case "--print": o.print = true; break;
      case "--stats": o.stats = true; break;
      case "--json": o.json = path.resolve(next()); break;
      case "--size": o.size = Number(next()); break;
      case "--intent": o.intent = next(); break;
      case "--mode": o.mode = next(); break;
      case "--mirch": o.mirch = true; break;
      case "--no-mirch": o.mirch = false; break;
      case "--debug": process.env.KMIRI_DEBUG = "1"; break;
      case "-h":
      case "--help":
        console.log(
          readFileSync(fileURLToPath(import.meta.url), "utf8")
            .split("\n")
            .slice(1)
            .filter((l, i, all) => all.slice(0, i + 1).every((x) => x.startsWith("//")))
            .map((l) => l.replace(/^\/\/ ?/, ""))
            .join("\n"),
        );
        process.exit(0);
      default:
        console.error(`fuzz: unknown argument ${a}`);
        process.exit(2);
    }
  }
  return o;
}

/** A failure's signature: its kind and its message without numbers and names of the program. */
function signature(p) {
  const msg = p.detail
    .replace(/^\$[^:]*: /, "")
    .replace(/fuzz-\d+\.ts:\d+:\d+/g, "FILE")
    .replace(/\b(alloc|p|r|b|l|h|v|x|ST|S|E|A|LOCK)\d+\b/g, "$1N")
    .replace(/\d+/g, "N")
    .slice(0, 160);
  return `${p.kind}: ${msg}${p.where ? `\n      in ${p.where}` : ""}`;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.known) o.disable.push(...(await knownDisabled()));
  const gen = await loadGenerator();
  const leaves = o.focus ?? (o.matrix ? gen.misuseLeaves() : undefined);
  if (leaves && !o.countGiven) o.count = leaves.length;
  const seeds = Array.from({ length: o.count }, (_, i) => o.from + i);
  const results = [];
  const options = { disable: o.disable, maxSteps: o.maxSteps, timeoutMs: o.timeoutMs, replay: o.replay, print: o.print, size: o.size, intent: o.intent, mode: o.mode, mirch: o.mirch, leaves, typecheck: o.typecheck };
  let next = 0;
  const t0 = performance.now();
  // Compile the programs ahead of the workers, a chunk per tsc run, into the loader's cache (one
  // tsc process per program would cost more than running it).
  const kmiriMain = await import(pathToFileURL(path.join(o.kmiri, "index.js")).href);
  const warmDir = mkdtempSync(path.join(tmpdir(), "kmiri-fuzz-warm-"));
  const CHUNK = 250;
  const warmed = [];
  const warm = async (k) => {
    const files = [];
    for (const seed of seeds.slice(k * CHUNK, (k + 1) * CHUNK)) {
      const prog = gen.generateProgram(seed, genOptions(options, seed));
      const file = path.join(warmDir, `fuzz-${seed}.ts`);
      writeFileSync(file, prog.source);
      files.push(file);
    }
    try {
      await kmiriMain.loadPrograms(files, { cwd: warmDir });
    } catch {
      /* a program that does not load is reported by its run */
    }
  };
  for (let k = 0; k * CHUNK < seeds.length; k++) warmed.push(k === 0 ? warm(0) : warmed[k - 1].then(() => warm(k)));
  const failures = [];
  const record = (r) => {
    results.push(r);
    if (r.problems.length) {
      failures.push(r);
      for (const p of r.problems) console.log(`FAIL seed ${r.seed} [${p.kind}] ${p.what}: ${p.detail.split("\n")[0]}${p.where ? ` (${p.where.split(" < ")[0]})` : ""}`);
      if (o.save) {
        mkdirSync(o.save, { recursive: true });
        const prog = gen.generateProgram(r.seed, genOptions(options, r.seed));
        const head = r.problems.map((p) => `// ${p.kind} (${p.what}): ${p.detail.replace(/\n/g, " ")}`).join("\n");
        writeFileSync(path.join(o.save, `seed-${r.seed}.ts`), `${head}\n// run options: ${JSON.stringify(prog.runOptions)}\n${prog.source}`);
        if (r.problems.some((p) => p.stack)) writeFileSync(path.join(o.save, `seed-${r.seed}.stack.txt`), r.problems.map((p) => p.stack ?? "").join("\n\n"));
      }
    }
    if (process.stderr.isTTY) process.stderr.write(`\r${results.length}/${seeds.length} seeds, ${failures.length} failing`);
  };

  await new Promise((resolve) => {
    let live = 0;
    const start = () => {
      if (next >= seeds.length) return;
      live++;
      const w = new Worker(fileURLToPath(import.meta.url), { workerData: { kmiriDir: o.kmiri, options } });
      let current = null;
      let started = 0;
      let finished = false;
      const timer = setInterval(() => {
        if (current !== null && performance.now() - started > o.hang) {
          const seed = current;
          current = null;
          finished = true;
          clearInterval(timer);
          record({ seed, mode: "?", intent: "?", features: [], outcome: "hang", problems: [{ kind: "hang", what: "run", detail: `no result after ${o.hang} ms` }], ms: o.hang, steps: 0 });
          w.terminate();
          live--;
          start();
          if (live === 0 && next >= seeds.length) resolve();
        }
      }, 250);
      const feed = async () => {
        if (next < seeds.length) await warmed[Math.floor(next / CHUNK)];
        if (next >= seeds.length) {
          finished = true;
          clearInterval(timer);
          w.postMessage({ exit: true });
          live--;
          if (live === 0) resolve();
          return;
        }
        current = seeds[next++];
        started = performance.now();
        w.postMessage({ seed: current });
      };
      w.on("message", (m) => {
        if (m.ready) return feed();
        if (current === null) return;
        current = null;
        record(m);
        if (o.print) {
          console.log(gen.generateProgram(m.seed, genOptions(options, m.seed)).source);
          console.log(JSON.stringify(m.result, (_k, v) => (typeof v === "bigint" ? `${v}n` : v), 2));
          console.log(`outcome: ${m.outcome}; features: ${m.features.join(" ")}`);
        }
        feed();
      });
      w.on("error", (e) => {
        if (finished) return;
        finished = true;
        clearInterval(timer);
        if (current !== null) {
          record({ seed: current, mode: "?", intent: "?", features: [], outcome: "crash", problems: [{ kind: "worker-crash", what: "run", detail: String(e?.stack ?? e) }], ms: 0, steps: 0 });
        }
        live--;
        start();
        if (live === 0 && next >= seeds.length) resolve();
      });
    };
    for (let i = 0; i < Math.min(o.workers, seeds.length); i++) start();
  });
  if (process.stderr.isTTY) process.stderr.write("\n");
  rmSync(warmDir, { recursive: true, force: true });

  const secs = (performance.now() - t0) / 1000;
  results.sort((a, b) => a.seed - b.seed);
  if (o.stats) {
    const table = new Map();
    for (const r of results) {
      const key = `${r.intent}/${r.mode}`;
      const row = table.get(key) ?? new Map();
      const oc = r.outcome.startsWith("ub:") && r.outcome.length > 30 ? r.outcome.slice(0, 30) : r.outcome;
      row.set(oc, (row.get(oc) ?? 0) + 1);
      table.set(key, row);
    }
    for (const [k, row] of [...table].sort()) {
      console.log(`${k}: ${[...row].sort((a, b) => b[1] - a[1]).map(([oc, n]) => `${oc}=${n}`).join(" ")}`);
    }
    const ms = results.map((r) => r.ms).sort((a, b) => a - b);
    console.log(`time per seed: median ${ms[Math.floor(ms.length / 2)]} ms, p95 ${ms[Math.floor(ms.length * 0.95)]} ms, max ${ms[ms.length - 1]} ms`);
    const feats = new Map();
    for (const r of results) for (const f of r.features) feats.set(f, (feats.get(f) ?? 0) + 1);
    console.log(`features used: ${feats.size}`);
  }
  const groups = new Map();
  for (const r of failures) {
    for (const p of r.problems) {
      const s = signature(p);
      const g = groups.get(s) ?? [];
      g.push(r.seed);
      groups.set(s, g);
    }
  }
  if (groups.size) {
    console.log(`\n${groups.size} distinct failure signatures:`);
    for (const [s, g] of [...groups].sort((a, b) => b[1].length - a[1].length)) {
      console.log(`  ${g.length}x ${s}\n      seeds: ${g.slice(0, 12).join(" ")}${g.length > 12 ? " ..." : ""}`);
    }
  }
  if (o.attribute || leaves) {
    // which misuse leaves failed: each misuse program has one deliberate mistake (main mode)
    const feat = new Map();
    for (const r of results) {
      if (r.mode !== "main") continue;
      const leavesUsed = r.features.filter((f) => f.startsWith("misuse.") && f.split(".").length > 2);
      for (const f of leavesUsed) {
        const e = feat.get(f) ?? { n: 0, fail: 0, sigs: new Set() };
        e.n++;
        if (r.problems.length) {
          e.fail++;
          for (const p of r.problems) e.sigs.add(signature(p).split("\n")[0].slice(0, 120));
        }
        feat.set(f, e);
      }
    }
    const failing = [...feat].filter(([, e]) => e.fail).sort();
    console.log(`\nmisuse features that failed (${failing.length} of ${feat.size} seen${leaves ? `, ${leaves.length} leaves` : ""}):`);
    for (const [f, e] of failing) console.log(`  ${f}: ${e.fail}/${e.n}  ${[...e.sigs].join(" | ")}`);
  }
  if (o.json) writeFileSync(o.json, JSON.stringify(results, (_k, v) => (typeof v === "bigint" ? `${v}n` : v)));
  console.log(`\n${failures.length}/${seeds.length} seeds failed (${secs.toFixed(1)} s, ${o.workers} workers)`);
  process.exit(failures.length ? 1 : 0);
}

if (isMainThread) await main();
else await workerMain();
