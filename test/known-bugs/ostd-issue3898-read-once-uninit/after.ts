// Asterinas issue #3898: a sound version of before.ts. The fix is not in the Asterinas history
// available here (the mirror ends 2026-08-23, the issue was closed 2026-09-22); this models the
// resolution the issue points at: the frame allocator's contract no longer admits uninitialised
// memory (`add_free_memory` and `dealloc` take initialised memory), and boot initialises RAM
// before handing it over. `zeroed(false)` then yields stale but initialised bytes (a leak of old
// data, which its documentation warns of, not UB), and the same safe code reads them soundly.
import { assert, u32 } from "kmiri/rt";
import { PAGE_SIZE, alloc_pages, dealloc_pages, memory_regions, memset_volatile, paddr_to_vaddr, phys_ptr } from "kmiri/mirch";

/** The injected `GlobalFrameAllocator`: a bump allocator over the memory `add_free_memory` gave it. */
const ALLOCATOR = { next: 0, end: 0 };
function add_free_memory(addr: number, size: number): void {
  ALLOCATOR.next = addr; // the added memory must be initialised
  ALLOCATOR.end = addr + size;
}
function global_alloc(): number | null {
  if (ALLOCATOR.next === ALLOCATOR.end) return null;
  const paddr = ALLOCATOR.next;
  ALLOCATOR.next += PAGE_SIZE;
  return paddr;
}

/** An untyped frame (`Frame<()>`), freed by `drop`. */
class Frame {
  constructor(readonly paddr: number) {}
  /** `Frame::reader`: a `VmReader<Infallible>` over the frame. */
  reader(): VmReader {
    return new VmReader(this.paddr, this.paddr + PAGE_SIZE);
  }
  drop(): void {
    unsafe: {
      dealloc_pages(this.paddr, 1);
    }
  }
}

class VmReader {
  constructor(private cursor: number, private readonly end: number) {}
  /** `read_once::<u32>()`: one non-tearing load (`cursor.read_volatile()`). */
  read_once_u32(): number {
    assert(this.end - this.cursor >= 4, "Error::InvalidArgs");
    unsafe: {
      const val = phys_ptr(this.cursor, u32).read_volatile();
      this.cursor += 4;
      return val;
    }
  }
}

/** `FrameAllocOptions` (safe: `new().zeroed(false)`). */
class FrameAllocOptions {
  private is_zeroed = true;
  zeroed(zeroed: boolean): this {
    this.is_zeroed = zeroed;
    return this;
  }
  alloc_frame(): Frame {
    const paddr = global_alloc();
    assert(paddr !== null, "Error::NoMemory");
    unsafe: {
      alloc_pages(paddr, 1); // `Frame::from_unused`
      if (this.is_zeroed) memset_volatile(paddr_to_vaddr(paddr), 0, PAGE_SIZE);
    }
    return new Frame(paddr);
  }
}

/** Boot: initialises the RAM, then hands it to the frame allocator. */
function init(): void {
  const ram = memory_regions().find((r) => r.kind === "ram")!;
  unsafe: {
    alloc_pages(ram.start, 4);
    memset_volatile(paddr_to_vaddr(ram.start), 0, 4 * PAGE_SIZE);
    dealloc_pages(ram.start, 4);
  }
  add_free_memory(ram.start, 4 * PAGE_SIZE);
}

export function main(): void {
  init();
  // Safe code: a buffer that the device will fill, so zeroing it is skipped.
  const frame = new FrameAllocOptions().zeroed(false).alloc_frame();
  const header = frame.reader().read_once_u32(); // the device has not written it yet
  console.log("header", header);
  frame.drop();
}
