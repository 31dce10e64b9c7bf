//@ flags: --preemption-rate 0
// A release fence placed after the relaxed flag store instead of before it publishes nothing
// through that store: the consumer's acquire load synchronises with no release.
import { AtomicBool, alloc_zeroed, dealloc, fence, spawn, spin_loop, struct, u32 } from "kmiri/rt";

const Slot = struct("Slot", { data: u32, full: AtomicBool });

export function main(): void {
  unsafe: {
    const s = alloc_zeroed(Slot);
    const producer = spawn(() => {
      unsafe: {
        s.field("data").write(7);
        s.field("full").as_ref().store(true, "Relaxed");
        fence("Release"); // too late
      }
    });
    const consumer = spawn(() => {
      unsafe: {
        while (!s.field("full").as_ref().load("Acquire")) spin_loop();
        return s.field("data").read(); //~ ERROR: data-race
      }
    });
    producer.join();
    consumer.join();
    dealloc(s, Slot);
  }
}
