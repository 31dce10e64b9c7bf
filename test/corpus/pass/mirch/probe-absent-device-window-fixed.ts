// A platform driver probes only the watchdog instances the platform actually enumerated (the
// attached devices' windows), not the addresses of an old device tree; it claims each window,
// identifies the device and arms it. No UB.
import { u32 } from "kmiri/rt";
import { PAGE_SIZE, attach_device, io_mem_claim, phys_ptr, type DeviceModel } from "kmiri/mirch";

const REG_ID = 0x0, REG_TIMEOUT = 0x4;
const WDT_ID = 0x5744_5401;

function watchdog(): DeviceModel {
  let timeout = 0;
  return {
    name: "wdt0",
    mmio_read: (off) => (off === REG_ID ? WDT_ID : off === REG_TIMEOUT ? timeout : 0),
    mmio_write(off, _size, value) {
      if (off === REG_TIMEOUT) timeout = Number(value);
    },
  };
}

export function main(): void {
  const wdt0 = attach_device(watchdog());
  const enumerated = [wdt0].map((d) => d.mmio!.paddr);
  let found = 0;
  let armed = 0;
  for (const base of enumerated) {
    io_mem_claim(base, PAGE_SIZE);
    unsafe: {
      if (phys_ptr(base + REG_ID, u32).read_volatile() !== WDT_ID) continue;
      phys_ptr(base + REG_TIMEOUT, u32).write_volatile(30);
      armed = phys_ptr(base + REG_TIMEOUT, u32).read_volatile();
    }
    found++;
  }
  console.log(found, "watchdog, timeout", armed, "s");
}
