// A timer driver claims the 16-byte register block of revision 1 of its device (`IoMem` of
// `REGS_LEN`), but revision 2 added an interrupt-status register at 0x10, which the interrupt path
// now reads. An MMIO access outside every claimed range is `mmio`.
import { u32 } from "kmiri/rt";
import { attach_device, io_mem_claim, phys_ptr, type DeviceModel } from "kmiri/mirch";

const REG_ID = 0x00, REG_CTRL = 0x04, REG_RELOAD = 0x0c, REG_IRQ_STATUS = 0x10;
const REGS_LEN = 0x10; // bug: revision 1's size

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
    const pending = reg(REG_IRQ_STATUS).read_volatile(); //~ ERROR: mmio
    console.log("timer irq pending:", pending);
  }
}
