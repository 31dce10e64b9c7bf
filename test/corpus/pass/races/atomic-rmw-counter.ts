//@ flags: --many-seeds 0..20
// Four CPUs count events with `fetch_add`; atomics never race with each other (same size), and the
// joins order every increment before main's read.
import { AtomicU64, spawn, static_ } from "kmiri/rt";

const EVENTS = static_(AtomicU64, 0n, { name: "EVENTS" });

export function main(): void {
  const cpus = [];
  for (let c = 0; c < 4; c++) {
    cpus.push(
      spawn(() => {
        for (let i = 0; i < 5; i++) EVENTS.as_ref().fetch_add(1n, "Relaxed");
      }),
    );
  }
  for (const c of cpus) c.join();
  console.log(EVENTS.as_ref().load("Relaxed"));
}
