//@ flags: --preemption-rate 0
// Fence-based message passing with one fence missing: the producer has its release fence before the
// relaxed flag store, but the consumer reads the flag relaxed and never issues `fence(Acquire)`.
import { AtomicBool, alloc_zeroed, dealloc, fence, spawn, spin_loop, struct, u32 } from "kmiri/rt";

const Slot = struct("Slot", { data: u32, full: AtomicBool });

export function main(): void {
  unsafe: {
    const s = alloc_zeroed(Slot);
    const producer = spawn(() => {
      unsafe: {
        s.field("data").write(7);
        fence("Release");
        s.field("full").as_ref().store(true, "Relaxed");
      }
    });
    const consumer = spawn(() => {
      unsafe: {
        while (!s.field("full").as_ref().load("Relaxed")) spin_loop();
        return s.field("data").read(); //~ ERROR: data-race
      }
    });
    producer.join();
    consumer.join();
    dealloc(s, Slot);
  }
}
