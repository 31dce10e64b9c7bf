//@ flags: --preemption-rate 0
// The boot CPU fills in a per-CPU field after it started the secondary CPU, which reads it: a
// read-write data race (the spawn orders only what came before it).
import { alloc_zeroed, dealloc, spawn, u64 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const kernel_stack_top = alloc_zeroed(u64);
    const ap = spawn(() => {
      unsafe: {
        return kernel_stack_top.read(); //~ ERROR: data-race
      }
    });
    kernel_stack_top.write(0xffff_8000_0010_0000n);
    ap.join();
    dealloc(kernel_stack_top, u64);
  }
}
