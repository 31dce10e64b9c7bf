// Early boot code prints to the VGA text buffer by conjuring a pointer from its well-known physical
// address 0xb8000. No allocation's provenance was ever exposed at that address, so the pointer has
// none: dereferencing it is UB (device memory is reached through an MMIO mapping instead).
import { ptr_from_exposed, u16 } from "kmiri/rt";

const VGA_TEXT = 0xb8000;

export function main(): void {
  const cell = ptr_from_exposed(VGA_TEXT, u16);
  unsafe: {
    cell.write(0x0f00 | "K".charCodeAt(0)); //~ ERROR: no-provenance
  }
}
