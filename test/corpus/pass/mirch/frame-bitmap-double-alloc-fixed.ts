// A bitmap frame allocator (OSTD's `mm::frame::allocator`) marks the frame it hands out as used,
// so two requests get two distinct free frames; each is freed once. No UB.
import { Box, array, panic, u8 } from "kmiri/rt";
import { PAGE_SIZE, alloc_pages, dealloc_pages, memory_regions } from "kmiri/mirch";

const NR_FRAMES = 16;

function ram_base(): number {
  const ram = memory_regions().find((r) => r.kind === "ram")!;
  return Math.ceil(ram.start / PAGE_SIZE) * PAGE_SIZE;
}

function alloc_frame(used: Box<number[]>, base: number): number {
  const bits = used.as_mut();
  for (let i = 0; i < NR_FRAMES; i++) {
    if (bits.index(i).read() === 0) {
      bits.index_mut(i).write(1);
      const pa = base + i * PAGE_SIZE;
      unsafe: {
        alloc_pages(pa, 1);
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
  const c = alloc_frame(used, base); // reuses the lowest free frame
  console.log((c - base) / PAGE_SIZE);
  free_frame(used, base, c);
  used.drop();
}
