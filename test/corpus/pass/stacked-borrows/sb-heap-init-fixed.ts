// The fix of the KernMiri heap bug (test/corpus/fail/stacked-borrows/sb-heap-init-shared-ref.ts): `init` hands
// the allocator `&raw mut HEAP` (`addr_of_mut!(HEAP).cast()`, as Asterinas's fix does), a raw
// pointer with SharedReadWrite permission, so the blocks it hands out may be written. No UB.
import { array, cell, null_mut, ptr, static_, struct, u32, u64, u8, usize } from "kmiri/rt";
import type { Layout, Ptr, Ref } from "kmiri/rt";

const HEAP_SIZE = 4096;
const HeapSpace = struct("HeapSpace", { bytes: array(u8, HEAP_SIZE) });
const HEAP = static_(HeapSpace, { bytes: new Array<number>(HEAP_SIZE).fill(0) }, { mut: true, name: "HEAP" });

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
  // FIX: no reference to the heap space at all: `&raw mut HEAP`, then the field.
  heap_init(HEAP_ALLOCATOR.as_ref(), HEAP.as_ptr().field("bytes").cast(u8), HEAP_SIZE);
}

const FrameMeta = struct("FrameMeta", { paddr: u64, ref_count: u32, order: u32 });

export function main(): void {
  unsafe: {
    init();
    const metas = [];
    for (let i = 0; i < 4; i++) {
      const meta = heap_alloc(HEAP_ALLOCATOR.as_ref(), FrameMeta);
      meta.write({ paddr: 0x8000_0000n + BigInt(i) * 0x1000n, ref_count: 1, order: 0 });
      metas.push(meta);
    }
    metas[2]!.field("ref_count").write(3);
    console.log(metas.map((m) => m.read().ref_count).join(" "), metas[3]!.read().paddr.toString(16));
  }
}
