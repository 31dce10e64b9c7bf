#!/usr/bin/env node
// Stacked Borrows through the engine: the three workloads of bench/programs/sb-*.ts, each at N and
// 2N (a copy of the program with `const N = 2N`), checked with Stacked Borrows on, best of several
// runs; the ratio 2N/N must stay at most 2.2 (linear in the work). A column with
// `--borrow-model none` shows what Stacked Borrows itself costs.
//
//   npm run build && node bench/sb-scaling.mjs          # prints a table; exit 1 if a ratio > 2.2
//   BENCH_REPEAT=7 node bench/sb-scaling.mjs             # best of 7 instead of 5
//
// Runs of N and 2N alternate, each on a fresh Machine of one compiled program; 50 ms pass between
// runs so that one run's garbage is collected before the next starts.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { prepareFile } from "../dist/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const LIMIT = 2.2;

/** [program, N, what N counts]. */
const WORKLOADS = [
  ["sb-reborrows", 1_000_000, "reborrows of one location"],
  ["sb-hot-shared", 1_000_000, "iterations around a long-lived shared tag"],
  ["sb-disjoint", 200_000, "disjoint element borrows of one array"],
];

const pause = () => new Promise((r) => setTimeout(r, 50));

const copies = mkdtempSync(path.join(os.tmpdir(), "kmiri-sb-"));

/** The program `name` prepared with `const N = n` (a copy in a temporary directory unless n is its own). */
async function prepareAt(name, n, own) {
  const file = path.join(here, "programs", `${name}.ts`);
  if (n === own) return prepareFile(file);
  const text = readFileSync(file, "utf8").replace(/^const N = [0-9_]+;/m, `const N = ${n};`);
  const copy = path.join(copies, `${name}-${n}.ts`);
  writeFileSync(copy, text);
  return prepareFile(copy);
}

/** Best time of `REPEAT` runs of each prepared program of `byN` (interleaved), with these options. */
async function best(byN, options) {
  const times = byN.map(() => Infinity);
  for (let r = 0; r < REPEAT; r++) {
    for (let k = 0; k < byN.length; k++) {
      const [n, prepared] = byN[k];
      await pause();
      const res = prepared.run(options);
      if (res.ub.length || res.panic) throw new Error(`${prepared.file} (N=${n}) did not run clean: ${res.ub[0]?.message ?? res.panic?.message}`);
      times[k] = Math.min(times[k], res.stats.ms);
    }
  }
  return times;
}

const rows = [];
for (const [name, n, what] of WORKLOADS) {
  const atN = [n, await prepareAt(name, n, n)];
  const at2N = [2 * n, await prepareAt(name, 2 * n, n)];
  const [t1, t2] = await best([atN, at2N], {});
  const [off] = await best([atN], { borrowModel: "none" });
  rows.push({ name, n, what, t1, t2, ratio: t2 / t1, off });
}

const pad = (s, w) => String(s).padStart(w);
console.log(`${"workload".padEnd(16)} ${pad("N", 9)} ${pad("N ms", 8)} ${pad("2N ms", 8)} ${pad("2N/N", 6)} ${pad("none ms", 8)}  N counts`);
for (const r of rows) {
  console.log(
    `${r.name.padEnd(16)} ${pad(r.n.toLocaleString("en"), 9)} ${pad(r.t1.toFixed(0), 8)} ${pad(r.t2.toFixed(0), 8)} ${pad(r.ratio.toFixed(2), 6)} ${pad(r.off.toFixed(0), 8)}  ${r.what}`,
  );
}
console.log(`(best of ${REPEAT} runs each; "none ms": the same program at N with --borrow-model none; node ${process.version})`);
const bad = rows.filter((r) => r.ratio > LIMIT);
if (bad.length) {
  console.error(`not linear: ${bad.map((r) => `${r.name} ${r.ratio.toFixed(2)}x`).join(", ")} (limit ${LIMIT}x)`);
  process.exitCode = 1;
}
