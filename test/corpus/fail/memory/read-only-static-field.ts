// The boot configuration is an immutable `static` struct. A CPU-hotplug path raises `max_cpus` by
// writing through a raw pointer to that field (taken from `&BOOT_CONFIG`). The static is not an
// `UnsafeCell` and not `static mut`: its memory is read-only, so the write is UB.
import { static_, struct, u32 } from "kmiri/rt";

const BootConfig = struct("BootConfig", { max_cpus: u32, mem_mb: u32 });
const BOOT_CONFIG = static_(BootConfig, { max_cpus: 4, mem_mb: 512 }, { name: "BOOT_CONFIG" });

function hotplug_cpu(): void {
  const max = BOOT_CONFIG.as_ref().field("max_cpus").as_ptr();
  unsafe: {
    max.write(max.read() + 1); //~ ERROR: read-only
  }
}

export function main(): void {
  hotplug_cpu();
  console.log(BOOT_CONFIG.as_ref().field("max_cpus").read());
}
