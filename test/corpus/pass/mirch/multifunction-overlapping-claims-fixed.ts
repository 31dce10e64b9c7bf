// A multi-function device exposes two functions in one 4 KiB window, each with a 2 KiB register
// block. Each function's driver claims exactly its own block (byte offsets `func * 0x800`), so the
// claims do not overlap, and each reads its ID register inside its claim. No UB.
import { u32 } from "kmiri/rt";
import { attach_device, io_mem_claim, io_mem_release, phys_ptr, type DeviceModel } from "kmiri/mirch";

const FUNC_REGS = 0x800; // bytes per function
const REG_ID = 0x0;

function two_function_device(): DeviceModel {
  return {
    name: "mfd",
    mmio_read: (off) => (off % FUNC_REGS === REG_ID ? 0xf000 + off / FUNC_REGS : 0),
  };
}

function probe_function(window: number, func: number, offset: number): number {
  io_mem_claim(window + offset, FUNC_REGS);
  unsafe: {
    return phys_ptr(window + func * FUNC_REGS + REG_ID, u32).read_volatile();
  }
}

export function main(): void {
  const dev = attach_device(two_function_device());
  const window = dev.mmio!.paddr;
  const f0 = probe_function(window, 0, 0);
  const f1 = probe_function(window, 1, FUNC_REGS);
  console.log(f0.toString(16), f1.toString(16));
  io_mem_release(window + FUNC_REGS, FUNC_REGS);
  io_mem_release(window, FUNC_REGS);
}
