//@ flags: --preemption-rate 0
// An acquire fence before the flag load, instead of after it, acquires nothing: it only covers
// relaxed loads that came before it.
import { AtomicBool, alloc_zeroed, dealloc, fence, spawn, spin_loop, struct, u32 } from "kmiri/rt";

const Slot = struct("Slot", { data: u32, full: AtomicBool });

export function main(): void {
  unsafe: {
    const s = alloc_zeroed(Slot);
    const producer = spawn(() => {
      unsafe: {
        s.field("data").write(7);
        s.field("full").as_ref().store(true, "Release");
      }
    });
    const consumer = spawn(() => {
      unsafe: {
        fence("Acquire"); // too early
        while (!s.field("full").as_ref().load("Relaxed")) spin_loop();
        return s.field("data").read(); //~ ERROR: data-race
      }
    });
    producer.join();
    consumer.join();
    dealloc(s, Slot);
  }
}
