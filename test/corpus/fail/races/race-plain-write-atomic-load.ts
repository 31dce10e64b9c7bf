//@ flags: --preemption-rate 0
// A lock word reset with a plain write while another CPU polls it atomically: the plain write
// races with the atomic load.
import { AtomicU32, alloc_zeroed, dealloc, spawn, u32 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const word = alloc_zeroed(AtomicU32);
    const resetter = spawn(() => {
      unsafe: {
        word.cast(u32).write(0);
      }
    });
    const poller = spawn(() => {
      unsafe: {
        return word.as_ref().load("Acquire"); //~ ERROR: data-race
      }
    });
    resetter.join();
    poller.join();
    dealloc(word, AtomicU32);
  }
}
