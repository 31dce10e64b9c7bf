//@ flags: --preemption-rate 0
// A spin lock built with Relaxed orderings: it excludes, but it does not order the critical
// sections, so the counter it protects is raced on. The lockdep annotations add no
// happens-before of their own: the lock's atomics must.
import { AtomicBool, alloc_zeroed, dealloc, lock_acquired, lock_released, spawn, spin_loop, struct, u64, type Ptr } from "kmiri/rt";

const Locked = struct("Locked", { lock: AtomicBool, count: u64 });
type LockedV = { lock: boolean; count: bigint };

function increment(l: Ptr<LockedV>): void {
  unsafe: {
    const lock = l.field("lock").as_ref();
    while (!lock.compare_exchange(false, true, "Relaxed", "Relaxed").ok) spin_loop();
    lock_acquired(lock);
    const count = l.field("count");
    count.write(count.read() + 1n); //~ ERROR: data-race
    lock_released(lock);
    lock.store(false, "Relaxed");
  }
}

export function main(): void {
  unsafe: {
    const l = alloc_zeroed(Locked);
    const a = spawn(() => increment(l));
    const b = spawn(() => increment(l));
    a.join();
    b.join();
    dealloc(l, Locked);
  }
}
