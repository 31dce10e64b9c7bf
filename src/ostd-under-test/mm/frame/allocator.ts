// OSTD's `mm/frame/allocator.rs` (ostd/src/mm/frame/allocator.rs), re-written for kmiri.
//
// Design. `FrameAllocOptions` allocates frames and segments: it asks the global frame allocator
// for physical addresses, then takes them with `Frame::from_unused` / `Segment::from_unused`, and
// zeroes them (by default) through the linear map. The global allocator is a `GlobalFrameAllocator`
// injected from outside, as OSTD's `#[global_frame_allocator]` attribute does: a program installs
// one with `global_frame_allocator(a)` before `boot.init()`, else init installs the default buddy
// allocator of `buddy.ts` (OSTD's `osdk/deps/frame-allocator`). `init()` hands it the usable RAM
// that boot did not take.
import { panic } from "kmiri/rt";
import { PAGE_SIZE, fill_volatile, paddr_to_vaddr, type Paddr } from "../../arch/mm.js";
import { Frame } from "./frame.js";
import { Segment, type Range } from "./segment.js";
import { Err, Ok, impl_untyped_frame_meta_for, unwrap, type FrameMetaValue, type Result } from "./meta.js";
import { unit } from "kmiri/rt";

/** OSTD's `Error` values these functions return. */
export type Error = "NoMemory" | "InvalidArgs";

/** `()` as untyped metadata (`impl_untyped_frame_meta_for!(())`). */
export const UnitMeta = impl_untyped_frame_meta_for("()", unit);

/** `core::alloc::Layout` of a frame allocation: `size` and `align`, both page multiples. */
export interface FrameLayout {
  readonly size: number;
  readonly align: number;
}

/**
 * `GlobalFrameAllocator`. Misusing it (a double free) only confuses the allocator's bookkeeping in
 * OSTD; here the allocator also calls Mirch's page shims, so such a misuse is a `page-state` report.
 */
export interface GlobalFrameAllocator {
  /** Allocates `layout.size` bytes of contiguous frames; the start, or `null`. */
  alloc(layout: FrameLayout): Paddr | null;
  /** Gives back frames of an earlier `alloc` (possibly part of it, in any order). */
  dealloc(addr: Paddr, size: number): void;
  /** Adds never-allocated free memory. */
  add_free_memory(addr: Paddr, size: number): void;
}

let GLOBAL_FRAME_ALLOCATOR: GlobalFrameAllocator | null = null;

/** `#[global_frame_allocator]`: installs the allocator (once, before `init`). */
export function global_frame_allocator(allocator: GlobalFrameAllocator): void {
  if (GLOBAL_FRAME_ALLOCATOR !== null) panic("a global frame allocator is installed already");
  GLOBAL_FRAME_ALLOCATOR = allocator;
}

/** Whether a global frame allocator is installed. */
export function has_global_frame_allocator(): boolean {
  return GLOBAL_FRAME_ALLOCATOR !== null;
}

/** `get_global_frame_allocator`. */
export function get_global_frame_allocator(): GlobalFrameAllocator {
  if (GLOBAL_FRAME_ALLOCATOR === null) panic("no global frame allocator: call `boot.init()` first");
  return GLOBAL_FRAME_ALLOCATOR;
}

/** Options for allocating frames (`FrameAllocOptions`). Frames are zeroed by default. */
export class FrameAllocOptions {
  private zeroed_ = true;

  static new(): FrameAllocOptions {
    return new FrameAllocOptions();
  }

  /** Whether the frames are filled with zeros (else they hold what they held: clear before sharing). */
  zeroed(zeroed: boolean): this {
    this.zeroed_ = zeroed;
    return this;
  }

  /** One untyped frame with `()` metadata. */
  alloc_frame(): Result<Frame<undefined>, Error> {
    return this.alloc_frame_with(UnitMeta.of(undefined));
  }

  /** One frame with `metadata`. */
  alloc_frame_with<M>(metadata: FrameMetaValue<M>): Result<Frame<M>, Error> {
    const paddr = get_global_frame_allocator().alloc({ size: PAGE_SIZE, align: PAGE_SIZE });
    if (paddr === null) return Err("NoMemory");
    const frame = unwrap(Frame.from_unused(paddr, metadata));
    if (this.zeroed_) {
      unsafe: {
        // SAFETY: the frame is fresh from the allocator and ours; its memory is untyped.
        fill_volatile(paddr_to_vaddr(frame.paddr()), 0, PAGE_SIZE);
      }
    }
    return Ok(frame);
  }

  /** `nframes` contiguous untyped frames with `()` metadata. */
  alloc_segment(nframes: number): Result<Segment<undefined>, Error> {
    return this.alloc_segment_with(nframes, () => UnitMeta.of(undefined));
  }

  /** `nframes` contiguous frames, frame `paddr` with `metadata_fn(paddr)`; at least one frame. */
  alloc_segment_with<M>(nframes: number, metadata_fn: (paddr: Paddr) => FrameMetaValue<M>): Result<Segment<M>, Error> {
    if (nframes === 0) return Err("InvalidArgs");
    const size = nframes * PAGE_SIZE;
    // `Layout::from_size_align(..).unwrap()`: a size past `isize::MAX` is an overflow panic.
    if (!Number.isSafeInteger(size)) panic("attempt to multiply with overflow");
    const start = get_global_frame_allocator().alloc({ size, align: PAGE_SIZE });
    if (start === null) return Err("NoMemory");
    const range: Range = { start, end: start + size };
    const segment = unwrap(Segment.from_unused(range, metadata_fn));
    if (this.zeroed_) {
      unsafe: {
        // SAFETY: the frames are fresh from the allocator and ours; their memory is untyped.
        fill_volatile(paddr_to_vaddr(segment.paddr()), 0, size);
      }
    }
    return Ok(segment);
  }
}

/**
 * `allocator::init`: gives the global allocator the usable RAM, without what boot took early
 * (`early`, sorted ranges).
 *
 * # Safety: once, at boot.
 */
export function init(ram: readonly Range[], early: readonly Range[]): void {
  "unsafe";
  const allocator = get_global_frame_allocator();
  for (const region of ram) {
    for (const r of range_difference_all(region, early)) {
      allocator.add_free_memory(r.start, r.end - r.start);
    }
  }
}

/** The parts of `r` outside every range of `holes`. */
export function range_difference_all(r: Range, holes: readonly Range[]): Range[] {
  let parts: Range[] = [{ start: r.start, end: r.end }];
  for (const h of holes) {
    const next: Range[] = [];
    for (const p of parts) {
      if (h.end <= p.start || h.start >= p.end) {
        next.push(p);
        continue;
      }
      if (p.start < h.start) next.push({ start: p.start, end: h.start });
      if (h.end < p.end) next.push({ start: h.end, end: p.end });
    }
    parts = next;
  }
  return parts;
}
