//@ flags: --preemption-rate 0
// A 4-byte atomic status register updated whole on one CPU and through its low half (an
// `AtomicU16` view of the same bytes) on another, unsynchronised: overlapping atomic accesses of
// different sizes race (Miri: `tests/fail/data_race/mixed_size_write_write.rs`).
import { AtomicU16, AtomicU32, alloc_zeroed, dealloc, spawn } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const status = alloc_zeroed(AtomicU32);
    const a = spawn(() => {
      unsafe: {
        status.as_ref().store(0x0001_0001, "SeqCst");
      }
    });
    const b = spawn(() => {
      unsafe: {
        status.cast(AtomicU16).as_ref().store(2, "SeqCst"); //~ ERROR: data-race
      }
    });
    a.join();
    b.join();
    dealloc(status, AtomicU32);
  }
}
