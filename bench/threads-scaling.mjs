#!/usr/bin/env node
// Thread lifecycle through the engine: a program spawns N threads, each takes a spin lock, reads
// and writes a shared counter (non-atomic, so the race detector checks it), bumps a shared atomic
// and releases the lock; main then joins them all in spawn order and checks the counts. Spawn,
// termination and join must cost O(1) bookkeeping each on top of the vector clocks (a spawn copies
// the parent's clock and a join joins the child's final clock: O(threads) each, inherent), so the
// whole run should grow about as N² at worst, i.e. a 2N/N ratio of about 4, never the 8 of an
// O(N³) lifecycle.
//
//   npx tsc -p tsconfig.json && node bench/threads-scaling.mjs    # N = 1000, 2000, 4000
//   BENCH_NS=500,1000 BENCH_REPEAT=3 node bench/threads-scaling.mjs
//   BENCH_MODE=chain node bench/threads-scaling.mjs                 # spawn, join, spawn, join, …
//
// Modes: `all` (default) spawns every thread, then joins every thread; `chain` joins each thread
// before spawning the next (one alive at a time, like test/fixtures/limits/spawner.ts).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

// KMIRI_DIST=/other/dist compares another build (e.g. one made before a change) on the same program.
const { prepareFile } = await import(process.env.KMIRI_DIST ? pathToFileURL(path.join(process.env.KMIRI_DIST, "index.js")).href : "../dist/index.js");

const NS = (process.env.BENCH_NS ?? "1000,2000,4000").split(",").map(Number);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const MODE = process.env.BENCH_MODE ?? "all";

/** The program with N threads (baked in: programs do not see the host's environment). */
const program = (n, chain) => `
import { AtomicBool, AtomicU64, Box, spawn, spin_loop, static_, struct, u64 } from "kmiri/rt";

const N = ${n};
const CHAIN = ${chain};
const Shared = struct("Shared", { lock: AtomicBool, count: u64 });
const EVENTS = static_(AtomicU64, 0n, { name: "EVENTS" });

export function main(): void {
  const shared = Box.new(Shared, { lock: false, count: 0n });
  const worker = () => {
    unsafe: {
      const p = Box.into_raw(shared);
      const lock = p.field("lock").as_ref();
      while (!lock.compare_exchange(false, true, "Acquire", "Relaxed").ok) spin_loop();
      p.field("count").write(p.field("count").read() + 1n);
      lock.store(false, "Release");
      EVENTS.as_ref().fetch_add(1n, "Relaxed");
    }
  };
  if (CHAIN) {
    for (let i = 0; i < N; i++) spawn(worker).join();
  } else {
    const hs = [];
    for (let i = 0; i < N; i++) hs.push(spawn(worker));
    for (const h of hs) h.join();
  }
  console.log(Number(shared.read().count), Number(EVENTS.as_ref().load("Relaxed")));
  shared.drop();
}
`;

const pause = () => new Promise((r) => setTimeout(r, 50));

const dir = await mkdtemp(path.join(tmpdir(), "kmiri-threads-scaling-"));
try {
  const prepared = [];
  for (const n of NS) {
    const file = path.join(dir, `threads-${n}.ts`);
    await writeFile(file, program(n, MODE === "chain"));
    prepared.push(await prepareFile(file, { cwd: dir }));
  }
  const times = NS.map(() => Infinity);
  for (let r = 0; r < REPEAT; r++) {
    for (let k = 0; k < NS.length; k++) {
      const n = NS[k];
      await pause();
      const t0 = performance.now();
      const out = [];
      const res = prepared[k].run({ maxThreads: n, onOutput: (l) => out.push(l) });
      const ms = performance.now() - t0;
      if (res.ub?.length || res.panic) throw new Error(`N=${n} did not run clean: ${res.ub?.[0]?.message ?? res.panic?.message}`);
      if (out.at(-1) !== `${n} ${n}`) throw new Error(`N=${n}: unexpected output ${JSON.stringify(out.at(-1))}`);
      times[k] = Math.min(times[k], ms);
    }
  }
  const pad = (s, w) => String(s).padStart(w);
  console.log(`${pad("threads", 8)} ${pad("ms", 9)} ${pad("µs/thread", 10)} ${pad("ratio", 6)}`);
  for (let k = 0; k < NS.length; k++) {
    const ratio = k > 0 ? (times[k] / times[k - 1]).toFixed(2) : "";
    console.log(`${pad(NS[k], 8)} ${pad(times[k].toFixed(0), 9)} ${pad(((times[k] * 1000) / NS[k]).toFixed(0), 10)} ${pad(ratio, 6)}`);
  }
  console.log(`(mode ${MODE}; best of ${REPEAT} runs each; ratio: time at N / time at the previous N; node ${process.version})`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
