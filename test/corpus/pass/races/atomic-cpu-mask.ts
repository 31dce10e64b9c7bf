//@ flags: --many-seeds 0..20
// A CPU mask updated with `fetch_or` / `fetch_and` from every CPU (an `AtomicU64` bitmap, as OSTD's
// `AtomicCpuSet`), and an `AtomicBool` raised once by whoever gets there first (`swap`).
import { AtomicBool, AtomicU64, spawn, static_ } from "kmiri/rt";

const ONLINE = static_(AtomicU64, 0n, { name: "ONLINE" });
const FIRST_DONE = static_(AtomicBool, false, { name: "FIRST_DONE" });

export function main(): void {
  const cpus = [1, 2, 3, 4].map((cpu) =>
    spawn(() => {
      ONLINE.as_ref().fetch_or(1n << BigInt(cpu), "AcqRel");
      const first = !FIRST_DONE.as_ref().swap(true, "AcqRel");
      if (cpu === 4) ONLINE.as_ref().fetch_and(~(1n << 4n), "AcqRel");
      return first ? 1 : 0;
    }),
  );
  let firsts = 0;
  for (const c of cpus) firsts += c.join();
  console.log(ONLINE.as_ref().load("Acquire").toString(2), firsts);
}
