//@ flags: --preemption-rate 0
// Two CPUs write the same counter with no synchronisation at all: a write-write data race.
// Miri: `tests/fail/data_race/write_write_race.rs`.
import { alloc_zeroed, dealloc, spawn, u32 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const counter = alloc_zeroed(u32);
    const a = spawn(() => {
      unsafe: {
        counter.write(1);
      }
    });
    const b = spawn(() => {
      unsafe: {
        counter.write(2); //~ ERROR: data-race
      }
    });
    a.join();
    b.join();
    dealloc(counter, u32);
  }
}
