// A bitmap frame allocator (OSTD's `mm::frame::allocator`) sets the bit after the frame it hands
// out (an off-by-one), so the next request finds the same frame free and hands it out again:
// `alloc_pages` on a page that is already allocated is `page-state`.
import { Box, array, panic, u8 } from "kmiri/rt";
import { PAGE_SIZE, alloc_pages, dealloc_pages, memory_regions } from "kmiri/mirch";

const NR_FRAMES = 16;

function ram_base(): number {
  const ram = memory_regions().find((r) => r.kind === "ram")!;
  return Math.ceil(ram.start / PAGE_SIZE) * PAGE_SIZE;
}

function alloc_frame(used: Box<number[]>, base: number): number {
  const bits = used.as_mut();
  for (let i = 0; i < NR_FRAMES - 1; i++) {
    if (bits.index(i).read() === 0) {
      bits.index_mut(i + 1).write(1); // bug: should be `i`
      const pa = base + i * PAGE_SIZE;
      unsafe: {
        alloc_pages(pa, 1); //~ ERROR: page-state
      }
      return pa;
    }
  }
  panic("out of frames");
}

function free_frame(used: Box<number[]>, base: number, pa: number): void {
  unsafe: {
    dealloc_pages(pa, 1);
  }
  used.as_mut().index_mut((pa - base) / PAGE_SIZE).write(0);
}

export function main(): void {
  const base = ram_base();
  const used = Box.new(array(u8, NR_FRAMES), new Array<number>(NR_FRAMES).fill(0));
  const a = alloc_frame(used, base); // the kernel stack of a new task
  const b = alloc_frame(used, base); // its first page table
  console.log((a - base) / PAGE_SIZE, (b - base) / PAGE_SIZE);
  free_frame(used, base, b);
  free_frame(used, base, a);
  used.drop();
}
