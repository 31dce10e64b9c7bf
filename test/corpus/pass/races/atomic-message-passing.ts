//@ flags: --many-seeds 0..20
// Message passing done right: the producer writes the message, then sets the flag with Release;
// the consumer spins on an Acquire load and then reads the message. The release/acquire pair orders
// the write before the read on every schedule.
import { AtomicBool, alloc_zeroed, dealloc, spawn, spin_loop, struct, u64 } from "kmiri/rt";

const Mailbox = struct("Mailbox", { msg: u64, ready: AtomicBool });

export function main(): void {
  unsafe: {
    const mb = alloc_zeroed(Mailbox);
    const producer = spawn(() => {
      unsafe: {
        mb.field("msg").write(42n);
        mb.field("ready").as_ref().store(true, "Release");
      }
    });
    const consumer = spawn(() => {
      unsafe: {
        while (!mb.field("ready").as_ref().load("Acquire")) spin_loop();
        return mb.field("msg").read();
      }
    });
    producer.join();
    console.log(consumer.join());
    dealloc(mb, Mailbox);
  }
}
