// Asterinas issue #3898 ("safe `VmReader::read_once` can read allocator-permitted uninitialized
// bytes as an initialized Rust value"), OSTD at 415851eb (ostd/src/mm/frame/allocator.rs,
// ostd/src/mm/io). `FrameAllocOptions::zeroed(false)` is safe and makes `alloc_frame` skip the
// zeroing; the `GlobalFrameAllocator` contract says the memory it is given (`add_free_memory`,
// `dealloc`) "can be uninitialized". So safe code can get a frame that was never written and read
// it with the safe `VmReader::read_once::<u32>()`, which is a `read_volatile` of a `u32`: reading
// uninitialised bytes as an integer is UB (volatile or not).
// Model: RAM is uninitialised at boot on Mirch, as on real hardware; the frame allocator is a bump
// allocator over what boot hands it. Zeroing uses `memset_volatile` (untyped memory on Mirch).
import { assert, u32 } from "kmiri/rt";
import { PAGE_SIZE, alloc_pages, dealloc_pages, memory_regions, memset_volatile, paddr_to_vaddr, phys_ptr } from "kmiri/mirch";

/** The injected `GlobalFrameAllocator`: a bump allocator over the memory `add_free_memory` gave it. */
const ALLOCATOR = { next: 0, end: 0 };
function add_free_memory(addr: number, size: number): void {
  ALLOCATOR.next = addr; // "The added memory can be uninitialized."
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
      const val = phys_ptr(this.cursor, u32).read_volatile(); //~ ERROR: uninit
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

/** Boot: hands the RAM to the frame allocator as it is. */
function init(): void {
  const ram = memory_regions().find((r) => r.kind === "ram")!;
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
