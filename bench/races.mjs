#!/usr/bin/env node
// The cost of race checking through the engine: bench/race-programs/threads.ts with 1, 2, 4, 8 and
// 16 threads sharing 3 million accesses (a third of them reads of a table shared by every thread),
// natively, checked with the race detector off (`dataRaceDetector: false`) and checked with it on.
// Usage: `npm run build && node bench/races.mjs` (it imports dist/). BENCH_REPEAT runs (default 5),
// best of each.
//
// Columns: native ms; checked ms without and with race checking; the race detector's cost per
// access, (with − without) / accesses, in ns.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { prepareFile, runFile } from "../dist/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const source = readFileSync(path.join(here, "race-programs", "threads.ts"), "utf8");
const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const ACCESSES = Number(process.env.KMIRI_BENCH_ACCESSES ?? 3_000_000);
// Programs cannot read the environment: a copy per thread count, with the numbers written in.
const copies = mkdtempSync(path.join(os.tmpdir(), "kmiri-races-"));
process.on("exit", () => rmSync(copies, { recursive: true, force: true }));

const rows = [];
for (const n of [1, 2, 4, 8, 16]) {
  const file = path.join(copies, `threads-${n}.ts`);
  writeFileSync(file, source.replace(/^const THREADS = \d+;/m, `const THREADS = ${n};`).replace(/^const ACCESSES = [0-9_]+;/m, `const ACCESSES = ${ACCESSES};`));
  const prepared = await prepareFile(file);
  let native = Infinity;
  let off = Infinity;
  let on = Infinity;
  for (let r = 0; r < REPEAT; r++) {
    native = Math.min(native, (await runFile(file, { native: true })).stats.ms);
    const a = prepared.run({ dataRaceDetector: false });
    const b = prepared.run({});
    for (const x of [a, b]) {
      if (x.ub.length || x.panic) throw new Error(`threads=${n}: not clean: ${x.ub[0]?.message ?? x.panic?.message}`);
    }
    off = Math.min(off, a.stats.ms);
    on = Math.min(on, b.stats.ms);
  }
  rows.push({ n, native, off, on, ns: ((on - off) * 1e6) / ACCESSES });
}
const pad = (s, w) => String(s).padStart(w);
console.log(`${"threads".padEnd(8)} ${pad("native ms", 10)} ${pad("no races ms", 12)} ${pad("races ms", 10)} ${pad("ns/access", 10)}`);
for (const r of rows) {
  console.log(`${String(r.n).padEnd(8)} ${pad(r.native.toFixed(1), 10)} ${pad(r.off.toFixed(1), 12)} ${pad(r.on.toFixed(1), 10)} ${pad(r.n === 1 ? "-" : r.ns.toFixed(1), 10)}`);
}
console.log(`(${ACCESSES} accesses, best of ${REPEAT}, node ${process.version}, ${new Date().toISOString().slice(0, 10)})`);
