// OSTD's `util/range_alloc.rs` (asterinas/asterinas `ostd/src/util/range_alloc.rs`, MPL-2.0),
// re-written for kmiri: a first-fit allocator of `[start, end)` ranges with a free list behind a
// spin lock. It lives with its only user here, the `IoMem` allocator.
//
// The free list is a sorted array of disjoint, non-adjacent free blocks (OSTD: a `BTreeMap` keyed
// by start), built lazily on first use, as OSTD's is (its `new` is `const`).
import { panic } from "kmiri/rt";
import { SpinLock } from "../../sync/spin.js";

/** A half-open range `[start, end)` (Rust's `Range<usize>`). */
export interface Range {
  readonly start: number;
  readonly end: number;
}

/** A free block of the free list. */
interface FreeRange {
  block: { start: number; end: number };
}

/** The error of {@link RangeAllocator.alloc_specific} and {@link RangeAllocator.alloc}. */
export class RangeAllocError {}

/** `RangeAllocator`. */
export class RangeAllocator {
  private readonly fullrange_: Range;
  private readonly freelist: SpinLock<FreeRange[] | null>;

  private constructor(fullrange: Range, freelist: SpinLock<FreeRange[] | null>) {
    this.fullrange_ = { start: fullrange.start, end: fullrange.end };
    this.freelist = freelist;
  }

  /** `RangeAllocator::new(fullrange)`, its lock made at run time: free it with {@link drop}. */
  static new(fullrange: Range): RangeAllocator {
    return new RangeAllocator(fullrange, new SpinLock<FreeRange[] | null>(null, "RangeAllocator"));
  }

  /** A `RangeAllocator` inside a `static` (its lock word is a static's; never freed). */
  static new_static(fullrange: Range, name: string): RangeAllocator {
    return new RangeAllocator(fullrange, SpinLock.static_<FreeRange[] | null>(null, name));
  }

  /** The whole range it allocates from. */
  fullrange(): Range {
    return this.fullrange_;
  }

  /** Allocates exactly `allocate_range`: `RangeAllocError` when it is empty or not wholly free. */
  alloc_specific(allocate_range: Range): RangeAllocError | null {
    if (!(allocate_range.start < allocate_range.end)) return new RangeAllocError();
    const guard = this.get_freelist_guard();
    const freelist = guard.value!;
    let target = -1;
    let left_length = 0;
    let right_length = 0;
    for (let i = 0; i < freelist.length; i++) {
      const value = freelist[i]!;
      if (value.block.end >= allocate_range.end && value.block.start <= allocate_range.start) {
        target = i;
        left_length = allocate_range.start - value.block.start;
        right_length = value.block.end - allocate_range.end;
        break;
      }
    }
    if (target >= 0) {
      if (left_length === 0) freelist.splice(target, 1);
      else freelist[target]!.block.end = allocate_range.start;
      if (right_length !== 0) {
        const at = left_length === 0 ? target : target + 1;
        freelist.splice(at, 0, { block: { start: allocate_range.end, end: allocate_range.end + right_length } });
      }
    }
    guard.release();
    return target >= 0 ? null : new RangeAllocError();
  }

  /** First-fit: a range of `size` taken from the end of the first block large enough. */
  alloc(size: number): Range | RangeAllocError {
    const guard = this.get_freelist_guard();
    const freelist = guard.value!;
    let allocated: Range | null = null;
    for (let i = 0; i < freelist.length; i++) {
      const node = freelist[i]!;
      if (node.block.end - node.block.start >= size) {
        allocated = { start: node.block.end - size, end: node.block.end };
        if (node.block.end - size === node.block.start) freelist.splice(i, 1);
        else node.block.end -= size;
        break;
      }
    }
    guard.release();
    return allocated ?? new RangeAllocError();
  }

  /** Frees `range`, merging it with the free blocks next to it. */
  free(range: Range): void {
    const guard = this.freelist.lock();
    const freelist = guard.value;
    if (freelist === null) {
      guard.release();
      panic("Free a range when the RangeAllocator has not been initialized.");
    }
    let free_range = { start: range.start, end: range.end };
    // The block before: merge when contiguous.
    let i = freelist.findIndex((n) => n.block.start >= free_range.start);
    if (i < 0) i = freelist.length;
    if (i > 0 && freelist[i - 1]!.block.end === free_range.start) {
      free_range = { start: freelist[i - 1]!.block.start, end: free_range.end };
      freelist.splice(i - 1, 1);
      i--;
    }
    // The block after: merge when contiguous.
    if (i < freelist.length && freelist[i]!.block.start === free_range.end) {
      free_range = { start: free_range.start, end: freelist[i]!.block.end };
      freelist.splice(i, 1);
    }
    freelist.splice(i, 0, { block: free_range });
    guard.release();
  }

  /** Frees the lock of an allocator made with {@link new}. */
  drop(): void {
    this.freelist.drop();
  }

  private get_freelist_guard() {
    const guard = this.freelist.lock();
    if (guard.value === null) guard.value = [{ block: { start: this.fullrange_.start, end: this.fullrange_.end } }];
    return guard;
  }
}
