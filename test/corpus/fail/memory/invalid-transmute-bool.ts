// The "ready" bit of a device status register is turned into a `bool` with `transmute` of the whole
// status byte. Only 0 and 1 are valid `bool`s; the register reads 0x81, so `transmute` produces an
// invalid value: UB (the fix is `status & 1 != 0`).
import { alloc, dealloc, transmute, bool, u8 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const reg = alloc(u8);
    reg.write(0x81);
    const status = reg.read();
    const ready = transmute(status, u8, bool); //~ ERROR: invalid-value
    console.log(ready);
    dealloc(reg, u8);
  }
}
