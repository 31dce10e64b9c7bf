// The race-checking benchmark program (bench/races.mjs): THREADS threads share ACCESSES memory
// accesses (bench/races.mjs writes a copy per thread count: programs cannot read the environment), each thread writing and reading its own buffer and reading
// a table main filled before the spawns; every 1024 accesses a thread bumps a shared atomic (a
// scheduling point: the threads interleave, and each bump starts a new epoch). With 1 thread,
// main does all the work and the race detector never wakes up.
import { AtomicU32, alloc_zeroed, array, dealloc, spawn, static_, u32 } from "kmiri/rt";

const THREADS = 2;
const ACCESSES = 3_000_000;
const Buf = array(u32, 64);
const TICKS = static_(AtomicU32, 0, { name: "TICKS" });

function work(table: ReturnType<typeof alloc_zeroed<number[]>>, accesses: number): number {
  unsafe: {
    const buf = alloc_zeroed(Buf);
    const own = buf.cast(u32);
    const shared = table.cast(u32);
    let sum = 0;
    for (let i = 0; i < accesses; i += 3) {
      const k = (i >> 2) & 63;
      const e = own.add(k);
      e.write(i & 0xffff);
      sum = (sum + e.read() + shared.add(k).read()) & 0xffffff;
      if ((i & 1023) < 3) TICKS.as_ref().fetch_add(1, "Relaxed");
    }
    dealloc(buf, Buf);
    return sum;
  }
}

export function main(): void {
  unsafe: {
    const table = alloc_zeroed(Buf);
    for (let k = 0; k < 64; k++) table.cast(u32).add(k).write(k);
    let sum = 0;
    if (THREADS <= 1) sum = work(table, ACCESSES);
    else {
      const hs = [];
      for (let t = 0; t < THREADS; t++) hs.push(spawn(() => work(table, Math.floor(ACCESSES / THREADS))));
      for (const h of hs) sum = (sum + h.join()) & 0xffffff;
    }
    console.log(THREADS, sum > 0);
    dealloc(table, Buf);
  }
}
