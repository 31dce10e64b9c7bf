// An RTC driver waits for the "update in progress" flag to clear before reading the time, polling
// the status register with volatile reads (each one reaches the device), then reads the time
// registers the same way. No UB.
import { u32 } from "kmiri/rt";
import { attach_device, io_mem_claim, io_mem_release, phys_ptr, type DeviceModel } from "kmiri/mirch";

const REG_SECONDS = 0x0, REG_MINUTES = 0x4, REG_HOURS = 0x8, REG_STATUS = 0xc;
const STATUS_UIP = 0x80;

/** The RTC: the update is in progress for the first two status reads after a reset. */
function rtc(): DeviceModel {
  let busy = 2;
  return {
    name: "rtc",
    mmio_read(off) {
      if (off === REG_STATUS) {
        if (busy === 0) return 0;
        busy--;
        return STATUS_UIP;
      }
      return off === REG_SECONDS ? 56 : off === REG_MINUTES ? 34 : off === REG_HOURS ? 12 : 0;
    },
  };
}

export function main(): void {
  const dev = attach_device(rtc());
  const mmio = dev.mmio!;
  io_mem_claim(mmio.paddr, mmio.len);
  const reg = (off: number) => phys_ptr(mmio.paddr + off, u32);
  unsafe: {
    let spins = 0;
    while ((reg(REG_STATUS).read_volatile() & STATUS_UIP) !== 0) spins++;
    const t = [REG_HOURS, REG_MINUTES, REG_SECONDS].map((r) => reg(r).read_volatile());
    console.log(t.join(":"), "after", spins, "polls");
  }
  io_mem_release(mmio.paddr, mmio.len);
}
