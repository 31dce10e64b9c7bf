//@ flags: --preemption-rate 0
// One CPU updates a sequence number atomically, another reads the same bytes with a plain
// (non-atomic) read: an atomic and a non-atomic access race.
import { AtomicU64, alloc_zeroed, dealloc, spawn, u64 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const seq = alloc_zeroed(AtomicU64);
    const writer = spawn(() => {
      unsafe: {
        seq.as_ref().fetch_add(1n, "Release");
      }
    });
    const reader = spawn(() => {
      unsafe: {
        return seq.cast(u64).read(); //~ ERROR: data-race
      }
    });
    writer.join();
    reader.join();
    dealloc(seq, AtomicU64);
  }
}
