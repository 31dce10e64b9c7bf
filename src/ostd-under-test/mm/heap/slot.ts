// OSTD's `mm/heap/slot.rs` (ostd/src/mm/heap/slot.rs), re-written for kmiri: heap slots, the
// pieces of memory the global heap hands out — a slot of a slab, or a run of whole frames (a
// "large" slot) taken from the frame allocator.
//
// Design. A `HeapSlot` is what Rust keeps in registers: a `*mut u8` to the slot (a `Ptr` made from
// the slot's linear-map address) and its `SlotInfo`. Its memory is checked memory: a slab's page is
// retyped `slab` with one allocation per slot (`slab.ts`), and a large slot's frames are retyped
// `slab` as one allocation spanning them, so an access past a slot is `out-of-bounds` and one after
// the slot went back is `use-after-free` / `page-state`.
//
// The pointer a slot carries is always a `*mut u8` made from the address (`paddr_to_vaddr(..) as
// *mut u8`, here `ptr_from_exposed`), never one derived from a shared reference to the heap's memory:
// the heap hands out writable memory, so its pointers must have write permission from the start
// (asterinas PR #1778, the bug KernMiri found in the old static heap, `HEAP_SPACE.0.as_ptr()`).
import { assert_eq, ptr_from_exposed, struct, u8, type Ptr } from "kmiri/rt";
import { LINEAR_MAPPING_BASE_VADDR, PAGE_SIZE, paddr_to_vaddr, retype_phys_pages, type Paddr } from "../../arch/mm.js";
import { FrameAllocOptions } from "../frame/allocator.js";
import { Segment } from "../frame/segment.js";
import { Err, Ok, abort, impl_frame_meta_for, type Result } from "../frame/meta.js";

/** `core::alloc::AllocError`. */
export type AllocError = "AllocError";

/** `core::alloc::Layout` as the heap sees it: a size and a power-of-two alignment (a kmiri `Layout` is one). */
export interface AllocLayout {
  readonly size: number;
  readonly align: number;
}

/** `{:#x?}` of a layout, for the abort messages. */
export function fmt_layout(layout: AllocLayout): string {
  return `Layout { size: 0x${layout.size.toString(16)}, align: 0x${layout.align.toString(16)} }`;
}

/** The type and size of a heap slot (`SlotInfo`). */
export class SlotInfo {
  private constructor(
    readonly kind: "SlabSlot" | "LargeSlot",
    private readonly size_: number,
  ) {}

  /** `SlotInfo::SlabSlot(size)`: a slot of a slab whose slots are `size` bytes. */
  static SlabSlot(size: number): SlotInfo {
    return new SlotInfo("SlabSlot", size);
  }

  /** `SlotInfo::LargeSlot(size)`: a run of frames of `size` bytes. */
  static LargeSlot(size: number): SlotInfo {
    return new SlotInfo("LargeSlot", size);
  }

  /** `size()`. */
  size(): number {
    return this.size_;
  }

  /** `PartialEq`. */
  eq(other: SlotInfo): boolean {
    return this.kind === other.kind && this.size_ === other.size_;
  }

  /** `Debug`. */
  toString(): string {
    return `${this.kind}(0x${this.size_.toString(16)})`;
  }
}

/** The metadata of the frames of a large slot (`LargeAllocFrameMeta`). */
export const LargeAllocFrameMeta = impl_frame_meta_for("LargeAllocFrameMeta", struct("LargeAllocFrameMeta", {}));

/** A slot that will become, or was, a heap allocation (`HeapSlot`). */
export class HeapSlot {
  private constructor(
    /** The address of the slot (`NonNull<u8>`). */
    private readonly addr: Ptr<number>,
    /** The type and size of the slot. */
    private readonly info_: SlotInfo,
  ) {}

  /**
   * `HeapSlot::new`.
   *
   * # Safety: `addr` is a free slot of a slab, or the start of a free large slot, and `info`'s
   * size is that slab's slot size or that run's size.
   */
  static new(addr: Ptr<number>, info: SlotInfo): HeapSlot {
    "unsafe";
    return new HeapSlot(addr, info);
  }

  /**
   * `alloc_large`: `size` bytes (a page multiple) of contiguous frames from the frame allocator.
   * Panics when `size` is not a page multiple.
   */
  static alloc_large(size: number): Result<HeapSlot, AllocError> {
    assert_eq(size % PAGE_SIZE, 0);
    const nframes = size / PAGE_SIZE;
    const segment = FrameAllocOptions.new()
      .zeroed(false)
      .alloc_segment_with(nframes, () => LargeAllocFrameMeta.of({}));
    // `crate::error!("Failed to allocate a large slot")`.
    if (!segment.ok) return Err("AllocError");

    const paddr_range = segment.value.into_raw();
    unsafe: {
      // SAFETY: the frames are fresh from the allocator, untyped, and ours (the segment was
      // forgotten into `paddr_range`); from now on they hold heap objects: kernel-typed memory,
      // one object spanning the run. (kmiri: the retype is Mirch's; OSTD's frames get typed
      // metadata and nothing else.)
      retype_phys_pages(paddr_range.start, nframes, "slab");
    }
    const vaddr = paddr_to_vaddr(paddr_range.start);
    // `NonNull::new(vaddr as *mut u8).unwrap()`: a `*mut` made from the address.
    return Ok(new HeapSlot(ptr_from_exposed(vaddr, u8), SlotInfo.LargeSlot(size)));
  }

  /** `dealloc_large`: gives a large slot's frames back. Aborts for a slot of a slab. */
  dealloc_large(): void {
    const info = this.info_;
    if (info.kind !== "LargeSlot") {
      abort("Deallocating a large slot that was not allocated with `HeapSlot::alloc_large`");
    }
    const size = info.size();
    assert_eq(size % PAGE_SIZE, 0);
    assert_eq(this.paddr() % PAGE_SIZE, 0);
    const range = { start: this.paddr(), end: this.paddr() + size };
    unsafe: {
      // SAFETY: the segment was forgotten by `alloc_large`, and is taken back once.
      Segment.from_raw(range, LargeAllocFrameMeta).drop();
    }
  }

  /** `paddr`: the slot's physical address. */
  paddr(): Paddr {
    return this.addr.addr() - LINEAR_MAPPING_BASE_VADDR;
  }

  /** `size`. */
  size(): number {
    return this.info_.size();
  }

  /** `info`. */
  info(): SlotInfo {
    return this.info_;
  }

  /** `as_ptr`: the `*mut u8` to the slot. */
  as_ptr(): Ptr<number> {
    return this.addr;
  }
}
