//@ flags: --preemption-rate 0
// A new object is published through an `AtomicPtr` with a Relaxed store and picked up with a
// Relaxed load: the reader's access races with the allocation itself (Miri: `creating a new
// allocation`). Miri: `tests/fail/data_race/alloc_read_race.rs`.
import { AtomicPtr, alloc_zeroed, dealloc, null_mut, spawn, spin_loop, static_, u64 } from "kmiri/rt";

const SHARED = static_(AtomicPtr(u64), null_mut(u64), { name: "SHARED" });

export function main(): void {
  const publisher = spawn(() => {
    unsafe: {
      const obj = alloc_zeroed(u64);
      SHARED.as_ref().store(obj, "Relaxed");
    }
  });
  const reader = spawn(() => {
    let p = SHARED.as_ref().load("Relaxed");
    while (p.is_null()) {
      spin_loop();
      p = SHARED.as_ref().load("Relaxed");
    }
    unsafe: {
      return p.read(); //~ ERROR: data-race
    }
  });
  publisher.join();
  reader.join();
  unsafe: {
    dealloc(SHARED.as_ref().load("Relaxed"), u64);
  }
}
