// Two CPUs bump a shared statistics counter: one with an atomic, one with a plain read and write.
// The plain access races with the atomic one; kmiri reports both accesses and both backtraces.
// Try `npx kmiri run examples/data-race.ts`, then with `--replay <STRING>` from the report.
import { alloc_zeroed, dealloc, spawn, AtomicU32, u32 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const hits = alloc_zeroed(AtomicU32);
    const irq = spawn(() => {
      unsafe: {
        hits.as_ref().fetch_add(1, "Relaxed");
      }
    });
    const timer = spawn(() => {
      unsafe: {
        // Bug: a non-atomic update of an atomic counter.
        const plain = hits.cast(u32);
        plain.write(plain.read() + 1);
      }
    });
    irq.join();
    timer.join();
    console.log("hits:", hits.as_ref().load("SeqCst"));
    dealloc(hits, AtomicU32);
  }
}
