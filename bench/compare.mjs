#!/usr/bin/env node
// Compares the checked times of two builds of kmiri on bench/programs: `node bench/compare.mjs
// BEFORE_DIR AFTER_DIR [NAME...]`, each directory a checkout with its dist/ built (e.g. a
// `git worktree` of the commit before a change, with node_modules linked). Each program runs in
// fresh processes, alternating before / after (ROUNDS processes each, RUNS runs per process, the
// best run of a process kept); the table shows the median of the processes and the ratio.
// Separate processes, because alternating two builds in one process biases whichever runs second
// (shared JIT and GC state): single-digit differences need this.
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 12);
const RUNS = Number(process.env.BENCH_RUNS ?? 2);
const self = fileURLToPath(import.meta.url);

if (process.env.KMIRI_BENCH_CHILD) {
  // Child: `DIR NAME`, the best checked time of RUNS runs of one program with one build.
  const [dir, name] = args;
  const { runFile } = await import(path.join(dir, "dist/index.js"));
  let best = Infinity;
  for (let i = 0; i < RUNS; i++) best = Math.min(best, (await runFile(path.join(dir, "bench/programs", `${name}.ts`), {})).stats.ms);
  console.log(best);
  process.exit(0);
}

const [before, after, ...only] = args;
if (!before || !after) {
  console.error("usage: node bench/compare.mjs BEFORE_DIR AFTER_DIR [NAME...]");
  process.exit(2);
}
const best = (dir, name) =>
  Number(execFileSync(process.execPath, [self, path.resolve(dir), name], { env: { ...process.env, KMIRI_BENCH_CHILD: "1" }, encoding: "utf8" }));
const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const names = readdirSync(path.join(after, "bench/programs"))
  .filter((f) => f.endsWith(".ts"))
  .map((f) => f.slice(0, -3))
  .filter((n) => only.length === 0 || only.some((o) => n.includes(o)))
  .sort();
console.log(`${"program".padEnd(20)} ${"before ms".padStart(10)} ${"after ms".padStart(10)} ${"after/before".padStart(13)}`);
for (const name of names) {
  const a = [];
  const b = [];
  for (let i = 0; i < ROUNDS; i++) {
    a.push(best(before, name));
    b.push(best(after, name));
  }
  const ma = median(a);
  const mb = median(b);
  console.log(`${name.padEnd(20)} ${ma.toFixed(1).padStart(10)} ${mb.toFixed(1).padStart(10)} ${(mb / ma).toFixed(3).padStart(13)}`);
}
console.log(`(median over ${ROUNDS} processes per build of the best of ${RUNS} runs, node ${process.version})`);
