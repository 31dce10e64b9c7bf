//@ flags: --many-seeds 0..32
// Message passing through a Relaxed flag: the producer stores the payload into an atomic slot that
// was allocated uninitialised, then raises the flag, both Relaxed. The consumer waits for the flag
// and loads the slot; nothing orders the payload's store before that load, so the load may still
// read what the slot held before it (weak memory): uninitialised bytes. Miri:
// `tests/fail/weak_memory/weak_uninit.rs`. With a Release store and an Acquire load of the flag the
// load must see the payload (pass/weak-memory/weak-fence-message-passing.ts uses fences).
import { AtomicBool, AtomicU64, alloc, alloc_zeroed, dealloc, spawn, spin_loop } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const slot = alloc(AtomicU64); // uninitialised
    const flag = alloc_zeroed(AtomicBool);
    const producer = spawn(() => {
      slot.as_ref().store(42n, "Relaxed");
      flag.as_ref().store(true, "Relaxed");
    });
    const consumer = spawn(() => {
      while (!flag.as_ref().load("Relaxed")) spin_loop();
      return slot.as_ref().load("Relaxed"); //~ ERROR: uninit
    });
    producer.join();
    console.log(consumer.join());
    dealloc(slot, AtomicU64);
    dealloc(flag, AtomicBool);
  }
}
