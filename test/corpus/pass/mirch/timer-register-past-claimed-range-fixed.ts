// A timer driver claims the register block of its device sized for revision 2, which added an
// interrupt-status register at 0x10; every register it touches lies in the claimed range, and it
// releases the claim when done. No UB.
import { u32 } from "kmiri/rt";
import { attach_device, io_mem_claim, io_mem_release, phys_ptr, type DeviceModel } from "kmiri/mirch";

const REG_ID = 0x00, REG_CTRL = 0x04, REG_RELOAD = 0x0c, REG_IRQ_STATUS = 0x10;
const REGS_LEN = 0x14;

function timer(): DeviceModel {
  let ctrl = 0, reload = 0;
  return {
    name: "timer",
    mmio_read(off) {
      if (off === REG_ID) return 0x7131_0002; // revision 2
      if (off === REG_CTRL) return ctrl;
      if (off === REG_RELOAD) return reload;
      if (off === REG_IRQ_STATUS) return ctrl & 1;
      return 0;
    },
    mmio_write(off, _size, value) {
      if (off === REG_CTRL) ctrl = Number(value);
      else if (off === REG_RELOAD) reload = Number(value);
    },
  };
}

export function main(): void {
  const dev = attach_device(timer());
  const base = dev.mmio!.paddr;
  io_mem_claim(base, REGS_LEN);
  const reg = (off: number) => phys_ptr(base + off, u32);
  unsafe: {
    reg(REG_RELOAD).write_volatile(10_000);
    reg(REG_CTRL).write_volatile(1);
    const pending = reg(REG_IRQ_STATUS).read_volatile();
    console.log("timer", reg(REG_ID).read_volatile().toString(16), "irq pending:", pending);
    reg(REG_CTRL).write_volatile(0);
  }
  io_mem_release(base, REGS_LEN);
}
