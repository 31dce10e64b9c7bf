//@ flags: --many-seeds 0..16
// Asterinas commit e7105bb58 ("Prevent race condition in heap allocator"): the fix of before.ts.
// The retry is bound to a local, `let res = self.heap.lock().alloc(layout).map_or(..); res`: the
// spin-lock guard is a temporary of that `let` statement and is dropped at its end, before
// `_guard` re-enables interrupts. A timer interrupt now waits until the heap lock is free.
import { AtomicBool, AtomicU32, cell, lock_acquired, lock_released, spawn, spin_loop, static_, struct, usize, yield_now } from "kmiri/rt";
import { alloc_irq_line, irq_disable, irq_restore } from "kmiri/mirch";

const BLOCK = 64;
/** `LockedHeapWithRescue { heap: SpinLock<Heap> }`: a bump heap of `[next, end)`. */
const HEAP_ALLOCATOR = static_(
  struct("LockedHeapWithRescue", { lock: AtomicBool, next: cell(usize), end: cell(usize) }),
  { lock: false, next: 0, end: 2 * BLOCK },
  { name: "HEAP_ALLOCATOR" },
);
const heap = () => HEAP_ALLOCATOR.as_ref();

/** `SpinLock::lock` (preemption off only) and its guard's drop. */
function lock(): void {
  const l = heap().field("lock");
  while (!l.compare_exchange(false, true, "Acquire", "Relaxed").ok) spin_loop();
  lock_acquired(l, "HEAP");
}
function unlock(): void {
  lock_released(heap().field("lock"));
  heap().field("lock").store(false, "Release");
}

/** `Heap::alloc` (the lock is held): an address, or null when the heap is exhausted. */
function heap_alloc_locked(size: number): number | null {
  unsafe: {
    const next = heap().field("next").get();
    const addr = next.read();
    if (addr + size > heap().field("end").get().read()) return null;
    next.write(addr + size);
    return addr;
  }
}

/** `rescue`: adds frames to the heap, through `add_to_heap` (`disable_irq().lock()`). */
function rescue(): void {
  const was = irq_disable();
  lock();
  unsafe: {
    const end = heap().field("end").get();
    end.write(end.read() + 16 * BLOCK);
  }
  unlock();
  irq_restore(was);
}

/** `<LockedHeapWithRescue as GlobalAlloc>::alloc`. */
function alloc(size: number): number | null {
  const _guard = irq_disable(); // `let _guard = disable_local();`
  lock();
  const first = heap_alloc_locked(size);
  unlock(); // the `if let` temporary
  if (first !== null) {
    irq_restore(_guard);
    return first;
  }
  rescue();
  // `let res = self.heap.lock().alloc(layout).map_or(..);`
  lock();
  const res = heap_alloc_locked(size);
  unlock(); // the statement's temporary: the spin-lock guard
  irq_restore(_guard); // then the locals: `_guard`
  return res;
}

const TICKS = static_(AtomicU32, 0, { name: "TICKS" });

export function main(): void {
  const timer = alloc_irq_line();
  timer.set_affinity(0);
  timer.on_active(() => {
    alloc(BLOCK); // the timer callback allocates (a `Box`)
    TICKS.as_ref().fetch_add(1, "Relaxed");
  });
  const device = spawn(() => {
    for (let i = 0; i < 3; i++) {
      timer.raise();
      yield_now();
    }
  });
  // A first tick on CPU 0 before the allocations: the heap lock is known to be taken in interrupt
  // context (what lockdep needs to see) on every schedule.
  timer.raise();
  while (TICKS.as_ref().load("Relaxed") < 1) spin_loop();
  for (let i = 0; i < 40; i++) alloc(BLOCK); // some of these rescue
  device.join();
  while (TICKS.as_ref().load("Relaxed") < 2) spin_loop();
}
