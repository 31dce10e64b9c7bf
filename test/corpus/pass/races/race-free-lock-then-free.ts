//@ flags: --many-seeds 0..20
// An object with an embedded spin lock, used by two CPUs under the lock, freed by main after the
// joins: the free happens after every use.
import { AtomicBool, Box, lock_acquired, lock_released, spawn, spin_loop, struct, u32 } from "kmiri/rt";

const Device = struct("Device", { lock: AtomicBool, irqs: u32 });

export function main(): void {
  const dev = Box.new(Device, { lock: false, irqs: 0 });
  const handler = () => {
    unsafe: {
      const p = Box.into_raw(dev);
      const lock = p.field("lock").as_ref();
      while (!lock.compare_exchange(false, true, "Acquire", "Relaxed").ok) spin_loop();
      lock_acquired(lock, "device_lock");
      p.field("irqs").write(p.field("irqs").read() + 1);
      lock_released(lock);
      lock.store(false, "Release");
    }
  };
  const cpus = [spawn(handler), spawn(handler)];
  for (const c of cpus) c.join();
  console.log(dev.read().irqs);
  dev.drop();
}
