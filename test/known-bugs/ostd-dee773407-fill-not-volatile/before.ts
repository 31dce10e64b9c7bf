// Asterinas commit dee773407 ("Fix a missed `write_volatile` in `VmWriter`"), before the fix
// (ostd/src/mm/io.rs). `VmWriter` is how OSTD writes *untyped* memory: frames that user space and
// devices share, which Rust code may only touch with volatile (or assembly) accesses, never with
// ordinary loads, stores or references. `VmWriter::fill` wrote each value with
// `(self.cursor as *mut T).add(i).write(value)`, a plain store into untyped memory. It is what
// `FrameAllocOptions::alloc_single` zeroes every new frame with (`frame.writer().fill(0)`).
// On Mirch, frames for users and devices are untyped pages, and a non-volatile write to one is
// `page-state`.
import { assert, u32, u8, type Layout, type Ptr } from "kmiri/rt";
import { PAGE_SIZE, alloc_pages, dealloc_pages, memory_regions, phys_ptr } from "kmiri/mirch";

/** `VmWriter<'a, KernelSpace>`: a cursor and an end in kernel virtual memory. */
class VmWriter {
  private constructor(
    private cursor: Ptr<number>,
    private readonly end: Ptr<number>,
  ) {}

  /** `VmWriter::from_kernel_space(ptr, len)`: the range must be valid and untyped (or exclusively ours). */
  static from_kernel_space(ptr: Ptr<number>, len: number): VmWriter {
    "unsafe";
    return new VmWriter(ptr, ptr.add(len));
  }

  /** `self.end.sub_ptr(self.cursor)`. */
  avail(): number {
    // SAFETY: both pointers are in the writer's range, from one allocation.
    unsafe: { return this.end.offset_from(this.cursor); }
  }

  /** Fills the available space by repeating `value`; returns the number of values written. */
  fill<T>(layout: Layout<T>, value: T): number {
    const avail = this.avail();
    assert(this.cursor.cast(layout).is_aligned());
    assert(avail % layout.size === 0);
    const written_num = avail / layout.size;
    for (let i = 0; i < written_num; i++) {
      unsafe: {
        this.cursor.cast(layout).add(i).write(value); //~ ERROR: page-state
      }
    }
    this.cursor = this.end;
    return written_num;
  }
}

/** A frame handed out by the frame allocator: untyped memory. */
class Frame {
  constructor(readonly paddr: number) {}
  /** `Frame::writer`: the frame is untyped and valid while `self` lives. */
  writer(): VmWriter {
    unsafe: {
      return VmWriter.from_kernel_space(phys_ptr(this.paddr, u8), PAGE_SIZE);
    }
  }
}

let next_free = 0;
/** `FrameAllocOptions::new(1).alloc_single()`: zeroed unless `uninit(true)`. */
function alloc_single(uninit = false): Frame {
  if (next_free === 0) next_free = memory_regions().find((r) => r.kind === "ram")!.start;
  const frame = new Frame(next_free);
  next_free += PAGE_SIZE;
  unsafe: {
    alloc_pages(frame.paddr, 1);
  }
  if (!uninit) frame.writer().fill(u32, 0);
  return frame;
}

export function main(): void {
  const frame = alloc_single();
  unsafe: {
    console.log(phys_ptr(frame.paddr + 8, u32).read_volatile()); // 0
    dealloc_pages(frame.paddr, 1);
  }
}
