// A platform driver probes the two watchdog instances an old device tree lists, one 4 KiB window
// after the other; this board has only the first. Claiming the second window succeeds (claims are
// bookkeeping), but no device answers there: the read of its ID register is `mmio`.
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
  const dt_bases = [wdt0.mmio!.paddr, wdt0.mmio!.paddr + PAGE_SIZE]; // from the stale device tree
  let found = 0;
  for (const base of dt_bases) {
    io_mem_claim(base, PAGE_SIZE);
    unsafe: {
      if (phys_ptr(base + REG_ID, u32).read_volatile() !== WDT_ID) continue; //~ ERROR: mmio
      phys_ptr(base + REG_TIMEOUT, u32).write_volatile(30);
    }
    found++;
  }
  console.log(found, "watchdogs");
}
