//@ flags: --many-seeds 0..32
// Message passing through a Relaxed flag made right with a fence pair: the producer stores the
// payload, issues a Release fence, then raises the flag (Relaxed); the consumer spins on a Relaxed
// load of the flag and issues an Acquire fence once it sees it. The fences synchronise, so the
// payload's store happens before the consumer's load of it, which can then only read 42 — never
// the older value in the slot's store buffer (the uninitialised bytes of
// fail/weak-memory/weak-relaxed-flag-uninit.ts) — and the plain message is ordered too.
import { AtomicBool, AtomicU64, alloc, alloc_zeroed, assert_eq, dealloc, fence, spawn, spin_loop, u64 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const slot = alloc(AtomicU64); // uninitialised
    const message = alloc(u64);
    const flag = alloc_zeroed(AtomicBool);
    const producer = spawn(() => {
      unsafe: {
        message.write(7n);
        slot.as_ref().store(42n, "Relaxed");
        fence("Release");
        flag.as_ref().store(true, "Relaxed");
      }
    });
    const consumer = spawn(() => {
      unsafe: {
        while (!flag.as_ref().load("Relaxed")) spin_loop();
        fence("Acquire");
        assert_eq(slot.as_ref().load("Relaxed"), 42n);
        return message.read();
      }
    });
    producer.join();
    console.log(consumer.join());
    dealloc(slot, AtomicU64);
    dealloc(message, u64);
    dealloc(flag, AtomicBool);
  }
}
