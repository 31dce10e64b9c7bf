#!/usr/bin/env node
// Micro benchmark of the race detector: the cost per checked access, at 2, 4, 8 and 16 threads.
// Usage: `npm run build && node bench/race-detector.mjs` (it imports dist/).
//
// Columns (ns per access, best of BENCH_REPEAT runs, threads interleaved round robin with a
// burst of 16 accesses each, as a preempting scheduler would):
// - own u64:      each thread reads and writes its own 8-byte allocation (FastTrack's same-epoch case);
// - own buffer:   each thread reads and writes 8-byte elements of its own 4 KiB buffer in order
//                 (one run per element after the first pass, found by the last-run cache);
// - read-shared:  every thread reads one 8-byte location written by main before the spawns (read vector);
// - new epochs:   as "own u64", but each thread releases a lock every 16 accesses, so the first
//                 access of every burst starts a new epoch (FastTrack's exclusive cases);
// - buffer epochs: as "own buffer" with a lock release per burst: element-wise accesses in a new
//                 epoch split runs (and compaction merges them back): the detector's slow path;
// - baseline:     the same loop calling an empty function instead of the detector.
import { RaceDetector, VectorClock } from "../dist/concurrency/index.js";

const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const ACCESSES = Number(process.env.BENCH_ACCESSES ?? 2_000_000);
const BURST = 16;

function setup(threads) {
  const d = new RaceDetector();
  const shared = d.allocate(8, 0, 1);
  d.write(shared, 0, 8, 0, 2);
  const ids = [];
  for (let i = 0; i < threads; i++) ids.push(d.spawn(0));
  const own = ids.map((t) => d.allocate(8, t, 3));
  const bufs = ids.map((t) => d.allocate(4096, t, 4));
  const locks = ids.map(() => new VectorClock());
  return { d, shared, ids, own, bufs, locks };
}

function time(fn) {
  let best = Infinity;
  for (let r = 0; r < REPEAT; r++) {
    const t0 = process.hrtime.bigint();
    const sink = fn();
    const ns = Number(process.hrtime.bigint() - t0);
    if (sink !== null && sink !== 0) throw new Error(`unexpected race in the benchmark: ${JSON.stringify(sink)}`);
    best = Math.min(best, ns);
  }
  return best / ACCESSES;
}

const scenarios = {
  "own u64": (s) => () => {
    const { d, ids, own } = s;
    const n = ids.length;
    let race = null;
    for (let i = 0; i < ACCESSES; ) {
      const k = (i / BURST) % n | 0;
      const t = ids[k];
      const x = own[k];
      for (let j = 0; j < BURST; j += 2, i += 2) {
        race ??= d.write(x, 0, 8, t, 10);
        race ??= d.read(x, 0, 8, t, 11);
      }
    }
    return race;
  },
  "own buffer": (s) => {
    const pos = new Array(s.ids.length).fill(0);
    return () => {
      const { d, ids, bufs } = s;
      const n = ids.length;
      let race = null;
      for (let i = 0; i < ACCESSES; ) {
        const k = (i / BURST) % n | 0;
        const t = ids[k];
        const b = bufs[k];
        let p = pos[k];
        for (let j = 0; j < BURST; j += 2, i += 2) {
          race ??= d.write(b, p, 8, t, 12);
          race ??= d.read(b, p, 8, t, 13);
          p = (p + 8) & 4095;
        }
        pos[k] = p;
      }
      return race;
    };
  },
  "read-shared": (s) => () => {
    const { d, ids, shared } = s;
    const n = ids.length;
    let race = null;
    for (let i = 0; i < ACCESSES; ) {
      const t = ids[(i / BURST) % n | 0];
      for (let j = 0; j < BURST; j++, i++) race ??= d.read(shared, 0, 8, t, 14);
    }
    return race;
  },
  "new epochs": (s) => () => {
    const { d, ids, own, locks } = s;
    const n = ids.length;
    let race = null;
    for (let i = 0; i < ACCESSES; ) {
      const k = (i / BURST) % n | 0;
      const t = ids[k];
      const x = own[k];
      d.lockRelease(locks[k], t);
      for (let j = 0; j < BURST; j += 2, i += 2) {
        race ??= d.write(x, 0, 8, t, 10);
        race ??= d.read(x, 0, 8, t, 11);
      }
    }
    return race;
  },
  "buffer epochs": (s) => {
    const pos = new Array(s.ids.length).fill(0);
    return () => {
      const { d, ids, bufs, locks } = s;
      const n = ids.length;
      let race = null;
      for (let i = 0; i < ACCESSES; ) {
        const k = (i / BURST) % n | 0;
        const t = ids[k];
        const b = bufs[k];
        let p = pos[k];
        d.lockRelease(locks[k], t);
        for (let j = 0; j < BURST; j += 2, i += 2) {
          race ??= d.write(b, p, 8, t, 12);
          race ??= d.read(b, p, 8, t, 13);
          p = (p + 8) & 4095;
        }
        pos[k] = p;
      }
      return race;
    };
  },
  baseline: (s) => () => {
    const { ids, own } = s;
    const n = ids.length;
    const nop = (x, o, z, t, site) => (x === null && site < 0 ? x : null);
    let race = null;
    for (let i = 0; i < ACCESSES; ) {
      const k = (i / BURST) % n | 0;
      const t = ids[k];
      const x = own[k];
      for (let j = 0; j < BURST; j += 2, i += 2) {
        race ??= nop(x, 0, 8, t, 10);
        race ??= nop(x, 0, 8, t, 11);
      }
    }
    return race;
  },
};

const names = Object.keys(scenarios);
const rows = [];
for (const threads of [2, 4, 8, 16]) {
  const row = { threads };
  for (const name of names) {
    const s = setup(threads);
    row[name] = time(scenarios[name](s));
  }
  rows.push(row);
}

console.log(`race detector: ns per access (${ACCESSES.toLocaleString("en")} accesses, best of ${REPEAT}, Node ${process.version})`);
console.log("");
console.log(`| threads | ${names.join(" | ")} |`);
console.log(`| ---: | ${names.map(() => "---:").join(" | ")} |`);
for (const r of rows) console.log(`| ${r.threads} | ${names.map((n) => r[n].toFixed(1)).join(" | ")} |`);
