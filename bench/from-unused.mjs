#!/usr/bin/env node
// The yardstick: OSTD's `Frame::from_unused` racing the last `Drop` (pre-#1752 protocol,
// test/corpus/fail/races/race-from-unused-drop.ts) and the fixed protocol of Asterinas PR #1752
// (test/corpus/pass/races/race-free-from-unused-1752.ts), each run on seeds 0..N-1 (default 200)
// with the default schedule (random preemption, rate 0.1) and with PCT of depth 2 and 3.
// Usage: `npm run build && node bench/from-unused.mjs [N]` (it imports dist/).
//
// For the race: the share of seeds whose run reports the `data-race`, the first such seed, and the
// median number of seeds to the first report: over every starting seed s, how many seeds
// s, s+1, … (wrapping around) are run until one reports it, the median of those counts. For the
// fix: how many seeds run clean.
import { prepareFile } from "../dist/index.js";

const N = Number(process.argv[2] ?? 200);
const RACE = "test/corpus/fail/races/race-from-unused-drop.ts";
const FIXED = "test/corpus/pass/races/race-free-from-unused-1752.ts";
const schedules = [
  ["random preemption 0.1 (default)", {}],
  ["PCT depth 2", { pct: 2 }],
  ["PCT depth 3", { pct: 3 }],
];

function medianSeedsToReport(found) {
  const n = found.length;
  const counts = [];
  for (let s = 0; s < n; s++) {
    let k = 1;
    while (k <= n && !found[(s + k - 1) % n]) k++;
    counts.push(k);
  }
  counts.sort((a, b) => a - b);
  return counts[(n - 1) >> 1];
}

const race = await prepareFile(RACE);
const fixed = await prepareFile(FIXED);
console.log(`| schedule | from_unused race found (seeds 0..${N - 1}) | first seed | median seeds to a report | #1752 protocol clean |`);
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const [name, opts] of schedules) {
  const found = [];
  let clean = 0;
  let other = 0;
  for (let seed = 0; seed < N; seed++) {
    const r = race.run({ ...opts, seed });
    const hit = r.ub.some((u) => u.kind === "data-race");
    if (!hit && (r.ub.length || r.panic)) other++;
    found.push(hit);
    const f = fixed.run({ ...opts, seed });
    if (f.ub.length === 0 && !f.panic) clean++;
  }
  const hits = found.filter(Boolean).length;
  const first = found.indexOf(true);
  console.log(
    `| ${name} | ${hits}/${N} (${((100 * hits) / N).toFixed(1)}%) | ${first} | ${hits ? medianSeedsToReport(found) : "-"} | ${clean}/${N} |` +
      (other ? ` (${other} runs reported something else)` : ""),
  );
}
