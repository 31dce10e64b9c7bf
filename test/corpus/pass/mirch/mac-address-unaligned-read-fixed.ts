// A NIC exposes its MAC address in six byte-wide registers at 0x00..0x05. The driver reads each
// register with its own naturally aligned volatile read (1 byte each), as the register map says.
// No UB.
import { u8 } from "kmiri/rt";
import { attach_device, io_mem_claim, io_mem_release, phys_ptr, type DeviceModel } from "kmiri/mirch";

const MAC = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

/** The NIC's register file: the MAC bytes. */
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
    const mac: number[] = [];
    for (let i = 0; i < 6; i++) mac.push(phys_ptr(base + i, u8).read_volatile());
    console.log(mac.map((b) => b.toString(16).padStart(2, "0")).join(":"));
  }
  io_mem_release(base, 0x100);
}
