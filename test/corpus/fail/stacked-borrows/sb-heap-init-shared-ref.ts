// The KernMiri heap bug (seeds/002: Asterinas OSTD `mm::heap`, found by KernMiri): the kernel heap
// is a `static mut HEAP: HeapSpace`, and `init` hands the allocator `HEAP.0.as_ptr()` — a pointer
// made through a *shared* reference to the heap array (`[u8; N]::as_ptr(&self)`), so it only has
// SharedReadOnly permission. The allocator (whose `init` takes `&self`: it is a locked global)
// keeps that pointer and hands out blocks derived from it; the first write to a block is UB.
// The fix (test/corpus/pass/stacked-borrows/sb-heap-init-fixed.ts) takes the pointer without a shared reference.
import { array, cell, null_mut, ptr, static_, struct, u32, u64, u8, usize } from "kmiri/rt";
import type { Layout, Ptr, Ref } from "kmiri/rt";

const HEAP_SIZE = 4096;
const HeapSpace = struct("HeapSpace", { bytes: array(u8, HEAP_SIZE) });
const HEAP = static_(HeapSpace, { bytes: new Array<number>(HEAP_SIZE).fill(0) }, { mut: true, name: "HEAP" });

// A bump allocator behind a lock (interior mutability): every method takes `&self`.
interface LockedHeapV {
  start: Ptr<number>;
  next: number;
  end: number;
}
const LockedHeap: Layout<LockedHeapV> = struct("LockedHeap", { start: cell(ptr(u8)), next: cell(usize), end: cell(usize) });
const HEAP_ALLOCATOR = static_(LockedHeap, { start: null_mut(u8), next: 0, end: 0 }, { name: "HEAP_ALLOCATOR" });

function heap_init(heap: Ref<LockedHeapV>, start: Ptr<number>, size: number): void {
  "unsafe";
  heap.field("start").get().write(start);
  heap.field("next").get().write(0);
  heap.field("end").get().write(size);
}

function heap_alloc<T>(heap: Ref<LockedHeapV>, layout: Layout<T>): Ptr<T> {
  "unsafe";
  const next = heap.field("next").get();
  const off = (next.read() + layout.align - 1) & ~(layout.align - 1);
  if (off + layout.size > heap.field("end").get().read()) return null_mut(layout);
  next.write(off + layout.size);
  return heap.field("start").get().read().byte_add(off).cast(layout);
}

/** `pub unsafe fn init()`: hands the heap space to the allocator. */
function init(): void {
  "unsafe";
  // BUG: `HEAP.0.as_ptr()` goes through `&HEAP.0`: a read-only pointer.
  heap_init(HEAP_ALLOCATOR.as_ref(), HEAP.as_ref().field("bytes").as_ptr().cast(u8), HEAP_SIZE);
}

const FrameMeta = struct("FrameMeta", { paddr: u64, ref_count: u32, order: u32 });

export function main(): void {
  unsafe: {
    init();
    const meta = heap_alloc(HEAP_ALLOCATOR.as_ref(), FrameMeta);
    meta.write({ paddr: 0x8000_0000n, ref_count: 1, order: 0 }); //~ ERROR: stacked-borrows
    console.log(meta.read().ref_count);
  }
}
