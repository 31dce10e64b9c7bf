//@ flags: --preemption-rate 0
// Message passing with Relaxed orderings: the consumer sees the flag, but nothing orders the
// producer's write of the message before its read. Miri: `tests/fail/data_race/relax_acquire_race.rs`.
import { AtomicBool, alloc_zeroed, dealloc, spawn, spin_loop, struct, u64 } from "kmiri/rt";

const Mailbox = struct("Mailbox", { msg: u64, ready: AtomicBool });

export function main(): void {
  unsafe: {
    const mb = alloc_zeroed(Mailbox);
    const producer = spawn(() => {
      unsafe: {
        mb.field("msg").write(42n);
        mb.field("ready").as_ref().store(true, "Relaxed");
      }
    });
    const consumer = spawn(() => {
      unsafe: {
        while (!mb.field("ready").as_ref().load("Relaxed")) spin_loop();
        return mb.field("msg").read(); //~ ERROR: data-race
      }
    });
    producer.join();
    consumer.join();
    dealloc(mb, Mailbox);
  }
}
