// A NIC exposes its MAC address in six byte-wide registers at 0x00..0x05. The driver reads the
// first two as a 16-bit register and the last four in one go, as a `[u8; 4]` at offset 2: a 4-byte
// access that is not naturally aligned does not reach the device as one register read: `mmio`.
import { array, u16, u8 } from "kmiri/rt";
import { attach_device, io_mem_claim, phys_ptr, type DeviceModel } from "kmiri/mirch";

const MAC = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

/** The NIC's register file: the MAC bytes (a wider access reads them little-endian). */
function nic(): DeviceModel {
  return {
    name: "nic",
    mmio_read(off, size) {
      let v = 0;
      for (let i = size - 1; i >= 0; i--) v = v * 256 + (MAC[off + i] ?? 0);
      return v;
    },
  };
}

export function main(): void {
  const dev = attach_device(nic());
  const base = dev.mmio!.paddr;
  io_mem_claim(base, 0x100);
  unsafe: {
    const lo = phys_ptr(base, u16).read_volatile();
    const hi = phys_ptr(base + 2, array(u8, 4)).read_volatile(); //~ ERROR: mmio
    const mac = [lo & 0xff, lo >> 8, ...hi];
    console.log(mac.map((b) => b.toString(16).padStart(2, "0")).join(":"));
  }
}
