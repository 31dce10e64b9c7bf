//@ flags: --many-seeds 0..20
// Each CPU fills its own slice of a shared table; main sums the table after joining them all. The
// joins are the only synchronisation, and they are enough: each thread's writes happen before
// main's reads. Neighbouring slices share no byte, so they never race (per-byte precision).
import { alloc_zeroed, array, dealloc, spawn, u32 } from "kmiri/rt";

const Table = array(u32, 8);

export function main(): void {
  unsafe: {
    const t = alloc_zeroed(Table);
    const cpus = [0, 1, 2, 3].map((cpu) =>
      spawn(() => {
        unsafe: {
          for (let i = 2 * cpu; i < 2 * cpu + 2; i++) t.index(i).write(i * i);
        }
      }),
    );
    for (const c of cpus) c.join();
    console.log(t.read().reduce((a, b) => a + b, 0));
    dealloc(t, Table);
  }
}
