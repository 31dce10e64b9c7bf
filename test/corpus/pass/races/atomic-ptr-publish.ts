//@ flags: --many-seeds 0..20
// A new object published through an `AtomicPtr` with Release and picked up with Acquire: the
// allocation and its initialisation happen before the reader's use; the reader frees it.
import { AtomicPtr, Box, null_mut, spawn, spin_loop, static_, struct, u32, u64 } from "kmiri/rt";

const Config = struct("Config", { version: u32, flags: u64 });
const CURRENT = static_(AtomicPtr(Config), null_mut(Config), { name: "CURRENT" });

export function main(): void {
  const publisher = spawn(() => {
    const cfg = Box.into_raw(Box.new(Config, { version: 2, flags: 0x11n }));
    CURRENT.as_ref().store(cfg, "Release");
  });
  const reader = spawn(() => {
    let p = CURRENT.as_ref().load("Acquire");
    while (p.is_null()) {
      spin_loop();
      p = CURRENT.as_ref().load("Acquire");
    }
    unsafe: {
      const v = p.read().version;
      Box.from_raw(p).drop();
      return v;
    }
  });
  publisher.join();
  console.log(reader.join());
}
