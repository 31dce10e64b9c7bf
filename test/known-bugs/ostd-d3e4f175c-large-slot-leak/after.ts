// Asterinas commit d3e4f175c ("Fix the memory leak on large heap slot dealloc"): the fix of
// before.ts. `dealloc_large` rebuilds the segment over `paddr..paddr + size`, the slot's size in
// bytes, so `Segment::drop` frees all of its frames.
// Model: kmiri does not leak-check Mirch's physical pages (they are the kernel's), so this model
// has no Mirch: each physical frame is backed by a heap block (`FRAMES`, by frame number), and a
// frame never given back is a heap block still allocated at the end, which kmiri reports.
import { alloc, array, dealloc, u8, type Ptr } from "kmiri/rt";

const PAGE_SIZE = 4096;
const Page = array(u8, PAGE_SIZE);
/** The frames allocated by the frame allocator, by frame number (the memory behind each paddr). */
const FRAMES: (Ptr<number[]> | null)[] = [];

/** `FrameAllocOptions::new().zeroed(false).alloc_segment_with(nframes, ..)`: `[paddr, paddr + nframes * PAGE_SIZE)`. */
function alloc_segment(nframes: number): { start: number; end: number } {
  const first = FRAMES.length;
  for (let i = 0; i < nframes; i++) {
    unsafe: {
      FRAMES.push(alloc(Page));
    }
  }
  return { start: first * PAGE_SIZE, end: (first + nframes) * PAGE_SIZE };
}

/** `Frame::from_raw(paddr)` dropped: the last handle frees the frame. */
function drop_frame(paddr: number): void {
  unsafe: {
    dealloc(FRAMES[paddr / PAGE_SIZE]!, Page);
  }
  FRAMES[paddr / PAGE_SIZE] = null;
}

/** `impl Drop for Segment<M>`: `for paddr in self.range.clone().step_by(PAGE_SIZE)`. */
function drop_segment(range: { start: number; end: number }): void {
  for (let paddr = range.start; paddr < range.end; paddr += PAGE_SIZE) drop_frame(paddr);
}

/** `HeapSlot` with `SlotInfo::LargeSlot(size)`. */
interface HeapSlot {
  paddr: number;
  size: number;
}

function alloc_large(size: number): HeapSlot {
  const nframes = size / PAGE_SIZE;
  const segment = alloc_segment(nframes);
  return { paddr: segment.start, size }; // `segment.into_raw()`
}

function dealloc_large(slot: HeapSlot): void {
  const range = { start: slot.paddr, end: slot.paddr + slot.size };
  drop_segment(range); // `drop(unsafe { Segment::from_raw(range) })`
}

export function main(): void {
  // A 16 KiB `Vec` buffer: a large slot of four frames, allocated and freed.
  const slot = alloc_large(4 * PAGE_SIZE);
  dealloc_large(slot);
  console.log("frames still allocated:", FRAMES.filter((f) => f !== null).length);
}
