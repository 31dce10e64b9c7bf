//@ flags: --preemption-rate 0
// A `static mut` statistics counter bumped on every CPU without a lock or an atomic.
import { spawn, static_, u64 } from "kmiri/rt";

const PAGE_FAULTS = static_(u64, 0n, { mut: true, name: "PAGE_FAULTS" });

function page_fault(): void {
  unsafe: {
    PAGE_FAULTS.write(PAGE_FAULTS.read() + 1n); //~ ERROR: data-race
  }
}

export function main(): void {
  const cpus = [spawn(page_fault), spawn(page_fault)];
  for (const c of cpus) c.join();
}
