#!/usr/bin/env node
// The benchmark: each program under bench/programs runs natively (plain Node, the native
// runtime) and checked (on the Machine) in this one process, alternating, several times; the
// table shows the best time of each and their ratio. Usage: `npm run bench [-- NAME...]`
// (`npm run bench` builds first; `node bench/run.js` uses the existing dist/).
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runFile } from "../dist/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const programs = path.join(here, "programs");
const only = process.argv.slice(2);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);

const files = readdirSync(programs)
  .filter((f) => f.endsWith(".ts"))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const rows = [];
for (const f of files) {
  const file = path.join(programs, f);
  let native = Infinity;
  let checked = Infinity;
  let outN = null;
  let outC = null;
  for (let i = 0; i < REPEAT; i++) {
    const n = await runFile(file, { native: true });
    native = Math.min(native, n.stats.ms);
    outN = n.output.join("\n");
    const c = await runFile(file, {});
    if (c.ub.length || c.panic) {
      console.error(`${f}: the checked run did not end clean: ${c.ub[0]?.message ?? c.panic?.message}`);
      process.exitCode = 1;
    }
    checked = Math.min(checked, c.stats.ms);
    outC = c.output.join("\n");
  }
  if (outN !== outC) {
    console.error(`${f}: native and checked output differ`);
    process.exitCode = 1;
  }
  rows.push({ program: f.replace(/\.ts$/, ""), nativeMs: native, checkedMs: checked, ratio: checked / native });
}

const pad = (s, n) => String(s).padStart(n);
console.log(`${"program".padEnd(24)} ${pad("native ms", 10)} ${pad("checked ms", 11)} ${pad("ratio", 7)}`);
for (const r of rows) {
  console.log(
    `${r.program.padEnd(24)} ${pad(r.nativeMs.toFixed(1), 10)} ${pad(r.checkedMs.toFixed(1), 11)} ${pad(r.ratio.toFixed(1) + "x", 7)}`,
  );
}
console.log(`(best of ${REPEAT} runs each, node ${process.version}, ${new Date().toISOString().slice(0, 10)})`);
