//@ flags: --preemption-rate 0
// The producer publishes with Release, but the consumer loads the flag Relaxed: a release store
// synchronises only with an acquire load, so the message read still races.
import { AtomicU32, alloc_zeroed, dealloc, spawn, spin_loop, struct, u64 } from "kmiri/rt";

const Desc = struct("Desc", { addr: u64, len: u64, published: AtomicU32 });

export function main(): void {
  unsafe: {
    const d = alloc_zeroed(Desc);
    const producer = spawn(() => {
      unsafe: {
        d.field("addr").write(0x1000n);
        d.field("len").write(512n);
        d.field("published").as_ref().store(1, "Release");
      }
    });
    const consumer = spawn(() => {
      unsafe: {
        while (d.field("published").as_ref().load("Relaxed") === 0) spin_loop();
        return d.field("len").read(); //~ ERROR: data-race
      }
    });
    producer.join();
    consumer.join();
    dealloc(d, Desc);
  }
}
