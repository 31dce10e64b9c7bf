// A multi-function device exposes two functions in one 4 KiB window, each with a 2 KiB register
// block. Function 1's driver computes its block's offset in 32-bit registers but uses it as a byte
// offset, so its claim starts inside function 0's block: overlapping `io_mem_claim`s are `mmio`.
import { u32 } from "kmiri/rt";
import { attach_device, io_mem_claim, phys_ptr, type DeviceModel } from "kmiri/mirch";

const FUNC_REGS = 0x800; // bytes per function
const REG_ID = 0x0;

function two_function_device(): DeviceModel {
  return {
    name: "mfd",
    mmio_read: (off) => (off % FUNC_REGS === REG_ID ? 0xf000 + off / FUNC_REGS : 0),
  };
}

function probe_function(window: number, func: number, offset: number): number {
  io_mem_claim(window + offset, FUNC_REGS); //~ ERROR: mmio
  unsafe: {
    return phys_ptr(window + func * FUNC_REGS + REG_ID, u32).read_volatile();
  }
}

export function main(): void {
  const dev = attach_device(two_function_device());
  const window = dev.mmio!.paddr;
  const f0 = probe_function(window, 0, 0);
  const f1 = probe_function(window, 1, FUNC_REGS / 4); // bug: a register index, not a byte offset
  console.log(f0.toString(16), f1.toString(16));
}
