// A PCI-style config space is mapped as MMIO (ECAM). The class code is a 24-bit field at 0x09
// (programming interface, subclass, class); the bus driver reads it as one `[u8; 3]`. Only 1, 2, 4
// or 8-byte accesses reach a device: the 3-byte volatile read is `mmio`.
import { array, u8 } from "kmiri/rt";
import { attach_device, io_mem_claim, phys_ptr, type DeviceModel } from "kmiri/mirch";

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
    const [prog_if, subclass, klass] = phys_ptr(base + 0x09, array(u8, 3)).read_volatile(); //~ ERROR: mmio
    console.log("class", klass, "subclass", subclass, "prog-if", prog_if);
  }
}
