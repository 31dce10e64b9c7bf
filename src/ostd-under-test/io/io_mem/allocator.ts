// OSTD's `io/io_mem/allocator.rs` (asterinas/asterinas, MPL-2.0), re-written for kmiri: the
// allocator of MMIO ranges that hands `IoMem`s to device drivers.
//
// It starts from the machine's MMIO ranges (never RAM); OSTD's own system drivers then `remove`
// the ranges of security-sensitive devices (or `reserve` them as `IoMem<Sensitive>`) before it is
// built, so a driver can only ever acquire insensitive I/O memory.
import { panic } from "kmiri/rt";
import { IoMem, type CachePolicy, type Insensitive, type Sensitive } from "./index.js";
import { RangeAllocator, type Range } from "./range_alloc.js";

/** The I/O memory allocator (crate-internal in OSTD). */
export class IoMemAllocator {
  private readonly allocators: RangeAllocator[];

  /** Safety: no range of `allocators` is physical memory or a system device's I/O. */
  private constructor(allocators: RangeAllocator[]) {
    this.allocators = allocators;
  }

  /** `IoMemAllocator::new` from a builder's ranges. Safety: as the builder's. */
  static from_builder(builder: IoMemAllocatorBuilder): IoMemAllocator {
    "unsafe";
    return new IoMemAllocator(builder.take_allocators());
  }

  /**
   * Acquires `range` for insensitive MMIO with `cache_policy`: `null` when the range is empty,
   * outside every MMIO range, or not wholly free.
   */
  acquire(range: Range, cache_policy: CachePolicy): IoMem<Insensitive> | null {
    const allocator = find_allocator(this.allocators, range);
    if (allocator === null) return null;
    if (allocator.alloc_specific(range) !== null) return null;
    unsafe: {
      // SAFETY:
      // 1. The allocator is built from a builder, made after the kernel page table is active.
      // 2. The range was in the allocator, so it is neither physical memory nor a system
      //    device's I/O memory.
      return IoMem.new<Insensitive>(range, cache_policy, (r) => this.recycle(r));
    }
  }

  /**
   * Gives an MMIO range back (OSTD has it but does not call it yet; here the last `IoMem` of an
   * acquisition, slices included, calls it on `drop`).
   *
   * Safety: the caller owns the range through `acquire`.
   */
  recycle(range: Range): void {
    "unsafe";
    const allocator = find_allocator(this.allocators, range);
    if (allocator === null) panic("recycle: a range this allocator never had");
    allocator.free(range);
  }

  /** Frees the allocators' locks (a test's allocator; the system's lives in a static). */
  drop(): void {
    for (const a of this.allocators) a.drop();
  }
}

/**
 * `IoMemAllocatorBuilder`: the MMIO ranges that are not RAM, from which OSTD removes the ranges
 * of system devices before building the allocator.
 */
export class IoMemAllocatorBuilder {
  private allocators: RangeAllocator[] | null;

  private constructor(allocators: RangeAllocator[]) {
    this.allocators = allocators;
  }

  /**
   * `IoMemAllocatorBuilder::new(ranges)`.
   *
   * Safety: called at most once for the system's allocator (`name` given: its locks are statics),
   * after the kernel page table is active; no range is physical memory.
   */
  static new(ranges: readonly Range[], name?: string): IoMemAllocatorBuilder {
    "unsafe";
    const allocators = ranges.map((r) => (name === undefined ? RangeAllocator.new(r) : RangeAllocator.new_static(r, name)));
    return new IoMemAllocatorBuilder(allocators);
  }

  /**
   * Reserves `range` for sensitive MMIO (a system device's), removed from what drivers may
   * acquire. Panics when the range is not available.
   */
  reserve(range: Range, cache_policy: CachePolicy): IoMem<Sensitive> {
    this.remove(range);
    unsafe: {
      // SAFETY:
      // 1. The builder is made after the kernel page table is active.
      // 2. The range is I/O memory and overlaps no other system device's (it was available).
      return IoMem.new<Sensitive>(range, cache_policy, null);
    }
  }

  /**
   * Removes `range` from what drivers may acquire. Every OSTD driver of a system device calls it,
   * so that peripheral drivers cannot reach that device's registers. Panics when it cannot.
   */
  remove(range: Range): void {
    const allocator = find_allocator(this.live(), range);
    if (allocator === null) panic(`Allocator for the system device's MMIO was not found. Range: ${hex(range)}`);
    if (allocator.alloc_specific(range) !== null) {
      panic(`An error occurred while trying to remove access to the system device's MMIO. Range: ${hex(range)}`);
    }
  }

  /** @internal the ranges, handed over once to the allocator. */
  take_allocators(): RangeAllocator[] {
    const a = this.live();
    this.allocators = null;
    return a;
  }

  private live(): RangeAllocator[] {
    if (this.allocators === null) panic("IoMemAllocatorBuilder used after building");
    return this.allocators;
  }
}

/** `IO_MEM_ALLOCATOR: Once<IoMemAllocator>`. */
let IO_MEM_ALLOCATOR: IoMemAllocator | null = null;

/** The system's allocator (`IO_MEM_ALLOCATOR.get().unwrap()`). */
export function io_mem_allocator(): IoMemAllocator {
  if (IO_MEM_ALLOCATOR === null) panic("the I/O memory allocator is not initialised (call io init first)");
  return IO_MEM_ALLOCATOR;
}

/**
 * Initialises `IO_MEM_ALLOCATOR` from the builder (once; later calls do nothing).
 *
 * Safety: every range of a system device was removed from the builder (`remove`).
 */
export function init(io_mem_builder: IoMemAllocatorBuilder): void {
  "unsafe";
  if (IO_MEM_ALLOCATOR !== null) return;
  IO_MEM_ALLOCATOR = IoMemAllocator.from_builder(io_mem_builder);
}

/** The allocator whose full range overlaps `range`, if any. */
function find_allocator(allocators: readonly RangeAllocator[], range: Range): RangeAllocator | null {
  for (const allocator of allocators) {
    const r = allocator.fullrange();
    if (r.start >= range.end || r.end <= range.start) continue;
    return allocator;
  }
  return null;
}

function hex(r: Range): string {
  return `0x${r.start.toString(16)}..0x${r.end.toString(16)}`;
}
