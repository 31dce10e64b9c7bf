//@ flags: --many-seeds 0..32
// A spin lock built from a compare-exchange (Acquire on success) and a Release store, protecting a
// plain counter: the relaxed peeks while waiting may read older stores of the lock word (weak
// memory), but the compare-exchange reads the newest, so the lock excludes and its
// release/acquire pair orders the critical sections: no race, and the count is exact.
import { AtomicBool, alloc_zeroed, assert_eq, dealloc, spawn, spin_loop, struct, u64, type JoinHandle } from "kmiri/rt";

const Locked = struct("Locked", { locked: AtomicBool, count: u64 });
const THREADS = 3;
const ROUNDS = 10;

export function main(): void {
  unsafe: {
    const s = alloc_zeroed(Locked);
    const lock = (): void => {
      unsafe: {
        while (!s.field("locked").as_ref().compare_exchange(false, true, "Acquire", "Relaxed").ok) {
          while (s.field("locked").as_ref().load("Relaxed")) spin_loop();
        }
      }
    };
    const unlock = (): void => {
      unsafe: {
        s.field("locked").as_ref().store(false, "Release");
      }
    };
    const handles: JoinHandle<void>[] = [];
    for (let t = 0; t < THREADS; t++) {
      handles.push(
        spawn(() => {
          for (let i = 0; i < ROUNDS; i++) {
            lock();
            unsafe: {
              s.field("count").write(s.field("count").read() + 1n);
            }
            unlock();
          }
        }),
      );
    }
    for (const h of handles) h.join();
    assert_eq(s.field("count").read(), BigInt(THREADS * ROUNDS));
    console.log(s.field("count").read());
    dealloc(s, Locked);
  }
}
