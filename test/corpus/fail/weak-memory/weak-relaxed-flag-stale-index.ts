//@ flags: --many-seeds 0..32
// A producer publishes the index of a filled entry through a Relaxed flag: it stores the index (3)
// into an atomic that held the "none yet" marker (1000), then raises the flag, both Relaxed. The
// consumer sees the flag and loads the index — but nothing orders the index's store before that
// load, so it may read the older 1000 (weak memory: a store buffer's older entry) and index the
// table out of bounds.
import { AtomicBool, AtomicUsize, Box, array, u32 } from "kmiri/rt";
import { alloc_zeroed, dealloc, spawn, spin_loop } from "kmiri/rt";

const NONE = 1000;
const Table = array(u32, 8);

export function main(): void {
  unsafe: {
    const table = Box.into_raw(Box.new(Table, [0, 0, 0, 0, 0, 0, 0, 0]));
    const index = Box.into_raw(Box.new(AtomicUsize, NONE));
    const flag = alloc_zeroed(AtomicBool);
    const producer = spawn(() => {
      index.as_ref().store(3, "Relaxed");
      flag.as_ref().store(true, "Relaxed");
    });
    const consumer = spawn(() => {
      while (!flag.as_ref().load("Relaxed")) spin_loop();
      const i = index.as_ref().load("Relaxed");
      return table.cast(u32).add(i).read(); //~ ERROR: out-of-bounds
    });
    producer.join();
    console.log(consumer.join());
    dealloc(flag, AtomicBool);
    Box.from_raw(index).drop();
    Box.from_raw(table).drop();
  }
}
