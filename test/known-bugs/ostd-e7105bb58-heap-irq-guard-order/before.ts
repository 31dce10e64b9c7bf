//@ flags: --many-seeds 0..16
// Asterinas commit e7105bb58 ("Prevent race condition in heap allocator"), before the fix
// (ostd/src/mm/heap_allocator.rs). `GlobalAlloc::alloc` disables local interrupts for its whole
// body (`let _guard = disable_local();`) and takes the heap's spin lock with a plain `lock()`,
// relying on that guard. When the heap is exhausted it calls `rescue` (which adds frames to the
// heap) and retries in the tail expression,
//     self.heap.lock().alloc(layout).map_or(null_mut(), |a| a.as_ptr())
// In Rust 2021 the temporaries of a block's tail expression are dropped *after* its locals: the
// IRQ guard goes first, re-enabling interrupts, and only then the spin-lock guard. An interrupt
// taken in that window on this CPU whose handler allocates (any `Box::new` in a callback) spins
// on the heap lock its own CPU holds, forever. Here a timer ticks on CPU 0 (its handler allocates)
// while CPU 0 allocates past the initial heap. kmiri reports it as Linux's lockdep does, at the
// `irq_restore` that turns interrupts on while the heap lock, which handlers take, is held — on
// every schedule, whether or not a tick lands in the window (then the handler would deadlock).
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
  // The tail expression: `self.heap.lock().alloc(layout).map_or(..)`.
  lock();
  const res = heap_alloc_locked(size);
  irq_restore(_guard); // locals are dropped first: `_guard`... //~ ERROR: lock-order
  unlock(); // ...then the tail expression's temporaries: the spin-lock guard
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
