// Immutable statics (the page sizes and the boot information) are read through shared references,
// through field and index reborrows, and through raw pointers. Reading an immutable static is
// always allowed: no UB.
import { static_, array, struct, u32, usize } from "kmiri/rt";
import type { Ref } from "kmiri/rt";

const PAGE_SIZES = static_(array(usize, 3), [4096, 2 * 1024 * 1024, 1024 * 1024 * 1024], { name: "PAGE_SIZES" });
const BootInfo = struct("BootInfo", { mem_mb: u32, cpus: u32 });
const BOOT_INFO = static_(BootInfo, { mem_mb: 512, cpus: 4 }, { name: "BOOT_INFO" });

function largest_fitting(sizes: Ref<number[]>, bytes: number): number {
  let best = 0;
  for (let i = 0; i < 3; i++) {
    const s = sizes.index(i).read();
    if (s <= bytes) best = s;
  }
  return best;
}

export function main(): void {
  const info = BOOT_INFO.as_ref();
  const mem = info.field("mem_mb").read() * 1024 * 1024;
  console.log(largest_fitting(PAGE_SIZES.as_ref(), mem), info.field("cpus").read());
  const raw = PAGE_SIZES.as_ptr().cast(usize);
  unsafe: {
    console.log(raw.add(2).read() / raw.read());
  }
}
