//@ flags: --many-seeds 0..30
// OSTD's kind of spin lock, built from an `AtomicBool` (Acquire compare-exchange to take it, Release
// store to free it) and annotated for lockdep, protects a plain counter on three CPUs.
import { AtomicBool, alloc_zeroed, dealloc, lock_acquired, lock_released, spawn, spin_loop, struct, u64, type Ptr } from "kmiri/rt";

const Locked = struct("Locked", { lock: AtomicBool, count: u64 });
type LockedV = { lock: boolean; count: bigint };

function increment(l: Ptr<LockedV>): void {
  unsafe: {
    const lock = l.field("lock").as_ref();
    while (!lock.compare_exchange_weak(false, true, "Acquire", "Relaxed").ok) spin_loop();
    lock_acquired(lock, "counter_lock");
    const count = l.field("count");
    count.write(count.read() + 1n);
    lock_released(lock);
    lock.store(false, "Release");
  }
}

export function main(): void {
  unsafe: {
    const l = alloc_zeroed(Locked);
    const cpus = [0, 1, 2].map(() => spawn(() => { for (let i = 0; i < 3; i++) increment(l); }));
    for (const c of cpus) c.join();
    console.log(l.field("count").read());
    dealloc(l, Locked);
  }
}
