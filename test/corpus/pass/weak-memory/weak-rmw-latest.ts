//@ flags: --many-seeds 0..32
// Read-modify-writes always read the newest store, whatever the weak memory emulation lets plain
// loads see: four threads each take 25 tickets with a Relaxed `fetch_add`; every ticket is taken
// exactly once (no two RMWs read the same value) and the counter ends at exactly 100. A Relaxed
// load in between may see an older count, but never more than the final one.
import { AtomicU64, AtomicU8, alloc_zeroed, assert, assert_eq, dealloc, spawn, array, type JoinHandle } from "kmiri/rt";

const THREADS = 4;
const EACH = 25;
const Taken = array(AtomicU8, THREADS * EACH);

export function main(): void {
  unsafe: {
    const counter = alloc_zeroed(AtomicU64);
    const taken = alloc_zeroed(Taken);
    const handles: JoinHandle<void>[] = [];
    for (let t = 0; t < THREADS; t++) {
      handles.push(
        spawn(() => {
          unsafe: {
            for (let i = 0; i < EACH; i++) {
              const ticket = counter.as_ref().fetch_add(1n, "Relaxed");
              // The ticket's slot was never taken: a second taker would find 1 here.
              assert_eq(taken.cast(AtomicU8).add(Number(ticket)).as_ref().swap(1, "Relaxed"), 0);
              assert(counter.as_ref().load("Relaxed") <= BigInt(THREADS * EACH));
            }
          }
        }),
      );
    }
    for (const h of handles) h.join();
    assert_eq(counter.as_ref().load("Relaxed"), BigInt(THREADS * EACH));
    console.log(counter.as_ref().load("Relaxed"));
    dealloc(counter, AtomicU64);
    dealloc(taken, Taken);
  }
}
