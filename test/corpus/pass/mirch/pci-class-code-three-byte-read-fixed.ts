// A PCI-style config space is mapped as MMIO (ECAM). The bus driver reads the 24-bit class code at
// 0x09 the way PCI defines it: as part of the aligned 32-bit register at 0x08 (revision in the low
// byte), and extracts the three fields. No UB.
import { u32 } from "kmiri/rt";
import { attach_device, io_mem_claim, io_mem_release, phys_ptr, type DeviceModel } from "kmiri/mirch";

/** The function's config header: vendor 0x1af4, device 0x1041, revision 1, class 02:00:00 (Ethernet). */
const CONFIG = [0xf4, 0x1a, 0x41, 0x10, 0, 0, 0, 0, 0x01, 0x00, 0x00, 0x02];

function config_space(): DeviceModel {
  return {
    name: "ecam",
    mmio_read(off, size) {
      let v = 0;
      for (let i = size - 1; i >= 0; i--) v = v * 256 + (CONFIG[off + i] ?? 0);
      return v;
    },
  };
}

export function main(): void {
  const ecam = attach_device(config_space());
  const base = ecam.mmio!.paddr;
  io_mem_claim(base, ecam.mmio!.len);
  unsafe: {
    const ids = phys_ptr(base, u32).read_volatile();
    const rev_class = phys_ptr(base + 0x08, u32).read_volatile();
    const [prog_if, subclass, klass] = [(rev_class >>> 8) & 0xff, (rev_class >>> 16) & 0xff, rev_class >>> 24];
    console.log("device", (ids & 0xffff).toString(16) + ":" + (ids >>> 16).toString(16), "rev", rev_class & 0xff);
    console.log("class", klass, "subclass", subclass, "prog-if", prog_if);
  }
  io_mem_release(base, ecam.mmio!.len);
}
