// Kernel code's synchronisation: 4 CPUs each do 100,000 `fetch_add`s on a shared counter and
// 100,000 increments of a plain counter under a spin lock built from an `AtomicBool` (weak
// compare-exchange, `spin_loop`, lockdep annotations), as OSTD's `SpinLock` is.
import { AtomicBool, AtomicUsize, lock_acquired, lock_released, spawn, spin_loop, static_, u64 } from "kmiri/rt";

const N = 100_000;
const CPUS = 4;
const LOCKED = static_(AtomicBool, false);
const HITS = static_(AtomicUsize, 0);
const COUNT = static_(u64, 0n, { mut: true });

function lock(): void {
  const l = LOCKED.as_ref();
  while (!l.compare_exchange_weak(false, true, "Acquire", "Relaxed").ok) {
    while (l.load("Relaxed")) spin_loop();
  }
  lock_acquired(l, "count_lock");
}

function unlock(): void {
  const l = LOCKED.as_ref();
  lock_released(l);
  l.store(false, "Release");
}

function work(): void {
  const hits = HITS.as_ref();
  const count = COUNT.as_ptr();
  for (let i = 0; i < N; i++) {
    hits.fetch_add(1, "Relaxed");
    lock();
    unsafe: {
      count.write(count.read() + 1n);
    }
    unlock();
  }
}

export function main(): void {
  const cpus = [];
  for (let c = 1; c < CPUS; c++) cpus.push(spawn(work));
  work();
  for (const h of cpus) h.join();
  unsafe: {
    console.log("hits", HITS.as_ref().load("Relaxed"), "count", COUNT.as_ptr().read());
  }
}
