// Early boot would look for the EBDA through the BIOS data area (physical 0x40e), but first asks
// the firmware's memory map what lies there: the page is not RAM the kernel may touch, so the
// probe is skipped and the kernel sizes memory from the map alone. No UB.
import { u16 } from "kmiri/rt";
import { PAGE_SIZE, memory_regions, phys_ptr } from "kmiri/mirch";

const BDA_EBDA_SEGMENT = 0x40e;

function find_ebda(): number | null {
  const region = memory_regions().find((r) => r.start <= BDA_EBDA_SEGMENT && BDA_EBDA_SEGMENT < r.end);
  if (region === undefined || region.kind !== "ram") {
    console.log("BDA is", region?.kind ?? "absent", "- no EBDA probe");
    return null;
  }
  unsafe: {
    return phys_ptr(BDA_EBDA_SEGMENT, u16).read_volatile() << 4;
  }
}

export function main(): void {
  const ebda = find_ebda();
  let pages = 0;
  for (const r of memory_regions()) if (r.kind === "ram") pages += (r.end - r.start) / PAGE_SIZE;
  console.log("EBDA", ebda === null ? "none" : ebda.toString(16), "- free RAM pages at boot:", pages);
}
