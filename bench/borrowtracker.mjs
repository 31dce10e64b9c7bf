#!/usr/bin/env node
// Micro benchmark of the borrow tracker (Stacked Borrows) on its own, the three workloads of its
// issue, each at N and 2N: the time must stay linear in the work (2N at most 2.2x the time of N).
//
//   npm run build && node bench/borrowtracker.mjs            # prints a table; exit 1 if a ratio > 2.2
//   BENCH_REPEAT=11 node bench/borrowtracker.mjs              # best of 11 runs instead of 7
//
// Times include the JavaScript engine's garbage collection (about a third of the `disjoint`
// workload, which keeps one stack per array element alive); runs are 50 ms apart, so that one
// run's garbage is swept before the next starts, and N and 2N alternate. `disjoint` uses a
// large N on purpose: below ~150,000 elements the 2N run crosses the engine's first full-GC
// thresholds and the N run does not, which measures V8's heap sizing rather than the tracker.
//
// 1. reborrows: a million reborrows of one location (`x = &mut *x` in a loop, a shared reborrow
//    read and popped each time), with the tag GC every 4096 iterations as an engine would run it.
// 2. hot-shared: a long-lived `&T` read in a hot loop while short-lived shared reborrows of it, raw
//    pointers and `&mut` borrows of the rest of the buffer come and go (the lookup cache's case).
// 3. disjoint: a large array under many disjoint borrows (`iter_mut`), read back, shared as a
//    whole, then written as a whole (splitting into one run per element, and merging back).
import { StackedBorrows } from "../dist/borrowtracker/index.js";

const REPEAT = Number(process.env.BENCH_REPEAT ?? 7);
const LIMIT = 2.2;


/** Fails loudly if a tracker call returned a finding: the workloads are clean programs. */
function ok(r) {
  if (r !== null && typeof r === "object") throw new Error(`unexpected finding: ${r.message}`);
  return r;
}

/** Workload 1: `reborrows` reborrows of one 4-byte location. */
function reborrows(reborrowCount) {
  const sb = new StackedBorrows();
  const root = sb.newAllocation(1, 4, "stack", 0);
  let cur = root;
  for (let i = 0; i < reborrowCount; i += 2) {
    const t = ok(sb.retag(1, cur, 0, 4, "unique", 1)); //   let t = &mut *cur;
    const s = ok(sb.retag(1, t, 0, 4, "shared", 2)); //     let s = &*t;
    ok(sb.access(1, s, 0, 4, "read", 3)); //                 *s
    ok(sb.access(1, t, 0, 4, "write", 4)); //                *t += 1;  (pops s)
    cur = t; //                                              cur = t;
    if ((i & 8191) === 8190) sb.gc(new Set([root, cur]));
  }
  return sb.stats();
}

/** Workload 2: a long-lived shared tag read `iterations` times while other borrows come and go. */
function hotShared(iterations) {
  const sb = new StackedBorrows();
  const root = sb.newAllocation(1, 64, "heap", 0);
  const buf = ok(sb.retag(1, root, 0, 64, "unique", 1)); //  let buf = &mut *boxed;
  const header = ok(sb.retag(1, buf, 0, 8, "shared", 2)); // let header = &buf.header;  (lives throughout)
  for (let i = 0; i < iterations; i++) {
    ok(sb.access(1, header, 0, 8, "read", 3)); //             header.len
    const t = ok(sb.retag(1, header, 0, 8, "shared", 4)); // let t = &*header;
    ok(sb.access(1, t, 4, 4, "read", 5)); //                  t.cap
    const r = ok(sb.retag(1, buf, 0, 8, "raw-shared", 6)); // let r = &raw const buf.header;
    ok(sb.access(1, r, 0, 8, "read", 7)); //                  r.read()
    const off = 8 + 4 * (i & 7);
    const m = ok(sb.retag(1, buf, off, 4, "unique", 8)); //  let m = &mut buf.data[i % 8];
    ok(sb.access(1, m, off, 4, "write", 9)); //               *m = i;
    ok(sb.access(1, header, 0, 8, "read", 10)); //            header.len again
    if ((i & 4095) === 4095) sb.gc(new Set([root, buf, header]));
  }
  return sb.stats();
}

/** Workload 3: an array of `n` u32 under `n` disjoint borrows. */
function disjoint(n) {
  const sb = new StackedBorrows();
  const root = sb.newAllocation(1, 4 * n, "heap", 0);
  const arr = ok(sb.retag(1, root, 0, 4 * n, "unique", 1)); // let arr = &mut *boxed;
  const elems = new Array(n);
  for (let i = 0; i < n; i++) {
    elems[i] = ok(sb.retag(1, arr, 4 * i, 4, "unique", 2)); // for e in arr.iter_mut()
    ok(sb.access(1, elems[i], 4 * i, 4, "write", 3)); //      *e = i;
  }
  for (let i = 0; i < n; i++) ok(sb.access(1, elems[i], 4 * i, 4, "read", 4)); // read back through each
  const all = ok(sb.retag(1, arr, 0, 4 * n, "shared", 5)); // let all = &*arr;  (disables every element)
  for (let i = 0; i < n; i++) ok(sb.access(1, all, 4 * i, 4, "read", 6)); // all[i]
  ok(sb.access(1, arr, 0, 4 * n, "write", 7)); //             arr.fill(0);  (merges back into one run)
  const stats = sb.stats();
  if (stats.runs !== 1) throw new Error(`expected one run after the final write, got ${stats.runs}`);
  return stats;
}

const workloads = [
  { name: "reborrows", what: "reborrows of one location", run: reborrows, n: 1_000_000 },
  { name: "hot-shared", what: "iterations (5 accesses, 3 retags each)", run: hotShared, n: 200_000 },
  { name: "disjoint", what: "array elements, each borrowed", run: disjoint, n: 400_000 },
];

/** Lets the engine finish the concurrent sweeping of earlier runs before the next one starts. */
const idle = () => new Promise((resolve) => setTimeout(resolve, 50));

/** The time of one run of `fn(n)`, in ms, started after a pause. */
async function time(fn, n) {
  await idle();
  const start = process.hrtime.bigint();
  fn(n);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Best times of REPEAT runs at n and at 2n, alternating, so that drift in the machine's load hits both alike. */
async function bestPair(fn, n) {
  let t1 = Infinity;
  let t2 = Infinity;
  for (let r = 0; r < REPEAT; r++) {
    t1 = Math.min(t1, await time(fn, n));
    t2 = Math.min(t2, await time(fn, 2 * n));
  }
  return [t1, t2];
}

// Warm up the JIT on small inputs first, so N is not charged for compilation.
for (const w of workloads) for (let i = 0; i < 3; i++) w.run(Math.max(1000, w.n / 50));

const rows = [];
for (const w of workloads) {
  const [t1, t2] = await bestPair(w.run, w.n);
  rows.push({ ...w, t1, t2, ratio: t2 / t1 });
}

const pad = (s, n) => String(s).padStart(n);
console.log(`${"workload".padEnd(11)} ${pad("N", 10)} ${pad("ms at N", 9)} ${pad("ms at 2N", 9)} ${pad("ratio", 6)}  what N counts`);
for (const r of rows) {
  console.log(
    `${r.name.padEnd(11)} ${pad(r.n.toLocaleString("en-US"), 10)} ${pad(r.t1.toFixed(1), 9)} ${pad(r.t2.toFixed(1), 9)} ${pad(r.ratio.toFixed(2), 6)}  ${r.what}`,
  );
}
const bad = rows.filter((r) => r.ratio > LIMIT);
if (bad.length > 0) {
  console.error(`not linear: ${bad.map((r) => `${r.name} (${r.ratio.toFixed(2)}x)`).join(", ")} exceeds ${LIMIT}x for twice the work`);
  process.exitCode = 1;
} else {
  console.log(`every workload stays linear: twice the work takes at most ${LIMIT}x the time (best of ${REPEAT} runs)`);
}
