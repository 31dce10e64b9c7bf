// Early boot looks for the EBDA through the BIOS data area (the segment word at physical 0x40e),
// as x86 setup code does. Here the first MiB is firmware-reserved: the kernel owns nothing there,
// and any access to a reserved page, even a volatile one through the linear map, is `page-state`.
import { u16 } from "kmiri/rt";
import { memory_regions, phys_ptr } from "kmiri/mirch";

const BDA_EBDA_SEGMENT = 0x40e;

function find_ebda(): number {
  unsafe: {
    const segment = phys_ptr(BDA_EBDA_SEGMENT, u16).read_volatile(); //~ ERROR: page-state
    return segment << 4;
  }
}

export function main(): void {
  const ebda = find_ebda();
  const ram = memory_regions().filter((r) => r.kind === "ram");
  console.log("EBDA at", ebda.toString(16), "RAM regions", ram.length);
}
