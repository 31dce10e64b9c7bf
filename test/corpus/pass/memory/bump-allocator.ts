// An early-boot bump allocator hands out aligned chunks of a `static mut` arena (an `[u8; 256]`),
// rounding each chunk's address up to the requested alignment and returning null when the arena
// is exhausted. Every chunk is in bounds and aligned, and every read follows a write: no UB, and
// memory in a static is never a leak.
import { static_, null_mut, align_of, size_of, array, struct, u8, u16, u32, u64 } from "kmiri/rt";
import type { Layout, Ptr } from "kmiri/rt";

const ARENA_SIZE = 256;
const ARENA = static_(array(u8, ARENA_SIZE), new Array<number>(ARENA_SIZE).fill(0), { mut: true, name: "EARLY_HEAP" });
let next = 0; // offset of the first free byte

function bump<T>(layout: Layout<T>): Ptr<T> {
  "unsafe";
  const base = ARENA.as_ptr().cast(u8);
  const align = align_of(layout);
  const addr = base.addr() + next;
  const pad = (align - (addr % align)) % align;
  if (next + pad + size_of(layout) > ARENA_SIZE) return null_mut(layout);
  const p = base.add(next + pad).cast(layout);
  next += pad + size_of(layout);
  return p;
}

const Irq = struct("IrqDesc", { vector: u8, cpu: u16, count: u64 });

export function main(): void {
  unsafe: {
    const flag = bump(u8);
    flag.write(1);
    const counter = bump(u64);
    counter.write(41n);
    const irq = bump(Irq);
    irq.write({ vector: 32, cpu: 1, count: 0n });
    const table = bump(array(u32, 8));
    for (let i = 0; i < 8; i++) table.cast(u32).add(i).write(i * i);

    counter.write(counter.read() + 1n);
    irq.field("count").write(irq.field("count").read() + 5n);
    let sum = 0;
    for (let i = 0; i < 8; i++) sum += table.cast(u32).add(i).read();
    const big = bump(array(u8, 512)); // does not fit
    console.log(flag.read(), String(counter.read()), irq.read().vector, String(irq.read().count), sum, big.is_null());
    console.log(counter.is_aligned(), irq.is_aligned(), table.is_aligned());
  }
}
