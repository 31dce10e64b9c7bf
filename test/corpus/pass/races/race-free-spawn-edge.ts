//@ flags: --many-seeds 0..20
// The boot CPU writes the boot parameters, then starts the secondary CPUs, which only read them:
// everything before `spawn` happens before the new thread.
import { Box, spawn, struct, u32, u64 } from "kmiri/rt";

const BootParams = struct("BootParams", { nr_cpus: u32, mem_size: u64 });

export function main(): void {
  const params = Box.new(BootParams, { nr_cpus: 0, mem_size: 0n });
  params.write({ nr_cpus: 3, mem_size: 1n << 30n });
  const aps = [1, 2].map(() => spawn(() => params.read().nr_cpus));
  let total = 0;
  for (const ap of aps) total += ap.join();
  console.log(total);
  params.drop();
}
