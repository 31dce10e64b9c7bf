// A driver registry is a `static mut` pointer to the head of a heap-allocated list of drivers,
// kept for the kernel's lifetime and never freed. The second driver is reachable only through the
// first: memory reachable from a static, directly or through other allocations, is not a leak.
import { Box, static_, null_mut, ptr, struct, u32 } from "kmiri/rt";
import type { Layout, Ptr } from "kmiri/rt";

interface DriverV {
  next: Ptr<DriverV>;
  irq: number;
}
const Driver: Layout<DriverV> = struct("Driver", { next: ptr((): Layout<DriverV> => Driver), irq: u32 });
const DRIVERS = static_(ptr(Driver), null_mut(Driver), { mut: true, name: "DRIVERS" });

function register(irq: number): void {
  "unsafe";
  const head = DRIVERS.as_ptr();
  head.write(Box.into_raw(Box.new(Driver, { next: head.read(), irq })));
}

export function main(): void {
  unsafe: {
    register(33);
    register(34);
    const irqs: number[] = [];
    for (let d = DRIVERS.as_ptr().read(); !d.is_null(); d = d.field("next").read()) irqs.push(d.field("irq").read());
    console.log(irqs.join(" "));
  }
}
