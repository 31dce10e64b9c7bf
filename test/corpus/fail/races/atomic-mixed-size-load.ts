//@ flags: --preemption-rate 0
// A 1-byte atomic load of a byte that another CPU stores as part of a 4-byte atomic: a load and
// a store of different sizes must be ordered too.
import { AtomicU32, AtomicU8, alloc_zeroed, dealloc, spawn } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const flags = alloc_zeroed(AtomicU32);
    const a = spawn(() => {
      unsafe: {
        flags.as_ref().fetch_or(0x80, "Release");
      }
    });
    const b = spawn(() => {
      unsafe: {
        return flags.cast(AtomicU8).as_ref().load("Acquire"); //~ ERROR: data-race
      }
    });
    a.join();
    b.join();
    dealloc(flags, AtomicU32);
  }
}
