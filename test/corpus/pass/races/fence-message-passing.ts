//@ flags: --many-seeds 0..20
// Message passing with fences and relaxed atomics: `fence(Release)` before the relaxed flag store,
// `fence(Acquire)` after the relaxed load that saw it. The fences synchronise through the flag.
import { AtomicU32, alloc_zeroed, dealloc, fence, spawn, spin_loop, struct, u32 } from "kmiri/rt";

const Ring = struct("Ring", { slot: u32, head: AtomicU32 });

export function main(): void {
  unsafe: {
    const r = alloc_zeroed(Ring);
    const producer = spawn(() => {
      unsafe: {
        r.field("slot").write(0xbeef);
        fence("Release");
        r.field("head").as_ref().store(1, "Relaxed");
      }
    });
    const consumer = spawn(() => {
      unsafe: {
        while (r.field("head").as_ref().load("Relaxed") === 0) spin_loop();
        fence("Acquire");
        return r.field("slot").read();
      }
    });
    producer.join();
    console.log(consumer.join().toString(16));
    dealloc(r, Ring);
  }
}
