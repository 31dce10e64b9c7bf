// OSTD's `Segment<M>` (ostd/src/mm/frame/segment.rs), re-written for kmiri: a contiguous range of
// frames of one metadata type, owning one reference to each (the handles are forgotten when the
// segment is made, and taken back with `from_raw` when it drops). The handle is the range; like
// `Frame` it is marked dead when moved out of (dropped, split, converted, `into_raw`).
import { panic } from "kmiri/rt";
import { PAGE_SIZE, type Paddr } from "../../arch/mm.js";
import { Frame, inc_frame_ref_count, type DynMeta, type MetaKind } from "./frame.js";
import { Err, Ok, max_paddr, type FrameMetaType, type FrameMetaValue, type GetFrameError, type Result } from "./meta.js";

/** A range of physical addresses `[start, end)`. */
export interface Range {
  start: number;
  end: number;
}

/** A contiguous range of frames with metadata of one type (`Segment<M>`). */
export class Segment<M> implements IterableIterator<Frame<M>> {
  #range: Range;
  #live = true;

  /** @internal */
  constructor(range: Range, readonly kind: MetaKind<M>) {
    this.#range = { start: range.start, end: range.end };
  }

  private range(): Range {
    if (!this.#live) panic("use of a `Segment` after it was dropped, forgotten or converted");
    return this.#range;
  }

  private forget(): Range {
    const r = this.range();
    this.#live = false;
    return { start: r.start, end: r.end };
  }

  /**
   * `Segment::from_unused`: takes the free frames of `range` (page-aligned, inside the tracked
   * memory), each with `metadata_fn(paddr)`. Panics on an empty range. On failure, the frames
   * taken so far are given back.
   */
  static from_unused<M>(range: Range, metadata_fn: (paddr: Paddr) => FrameMetaValue<M>): Result<Segment<M>, GetFrameError> {
    if (range.start % PAGE_SIZE !== 0 || range.end % PAGE_SIZE !== 0) return Err("NotAligned");
    if (range.end > max_paddr()) return Err("OutOfBound");
    if (!(range.start < range.end)) panic("assertion failed: range.start < range.end");
    // Made first so that a failure half-way gives back the frames already taken.
    let kind: MetaKind<M> | null = null;
    const segment_range: Range = { start: range.start, end: range.start };
    for (let paddr = range.start; paddr < range.end; paddr += PAGE_SIZE) {
      const meta = metadata_fn(paddr);
      kind ??= meta.type;
      const frame = Frame.from_unused(paddr, meta);
      if (!frame.ok) {
        if (segment_range.end > segment_range.start) new Segment(segment_range, kind).drop();
        return frame;
      }
      frame.value.forget();
      segment_range.end = paddr + PAGE_SIZE;
    }
    return Ok(new Segment(segment_range, kind!));
  }

  /**
   * `Segment::from_raw`.
   *
   * # Safety: `range` came from `into_raw` of a segment of type `kind`, taken back once.
   */
  static from_raw<M>(range: Range, kind: MetaKind<M>): Segment<M> {
    "unsafe";
    if (range.start % PAGE_SIZE !== 0 || range.end % PAGE_SIZE !== 0) panic("Segment::from_raw of an unaligned range");
    return new Segment(range, kind);
  }

  /** `into_raw`: forgets the segment; its range. */
  into_raw(): Range {
    return this.forget();
  }

  /** `HasPaddr::paddr`: the first frame's address. */
  paddr(): Paddr {
    return this.range().start;
  }

  /** `HasPaddrRange::end_paddr`. */
  end_paddr(): Paddr {
    return this.range().end;
  }

  /** `HasSize::size`. */
  size(): number {
    const r = this.range();
    return r.end - r.start;
  }

  /** `Split::split`: two segments, at `offset` bytes. */
  split(offset: number): [Segment<M>, Segment<M>] {
    if (offset % PAGE_SIZE !== 0) panic("segment virtual address not aligned for splitting");
    if (!(0 < offset && offset < this.size())) panic("segment virtual address out-of-bound for splitting");
    const old = this.forget();
    const at = old.start + offset;
    return [new Segment({ start: old.start, end: at }, this.kind), new Segment({ start: at, end: old.end }, this.kind)];
  }

  /** `slice`: a new segment of the frames at byte offsets `range` (each gets one more reference). */
  slice(range: Range): Segment<M> {
    if (range.start % PAGE_SIZE !== 0 || range.end % PAGE_SIZE !== 0) panic("segment virtual address not aligned for slicing");
    if (!(range.start <= range.end && range.end <= this.size())) panic("segment virtual address out-of-bound for slicing");
    const base = this.range().start;
    const start = base + range.start;
    const end = base + range.end;
    for (let paddr = start; paddr < end; paddr += PAGE_SIZE) {
      unsafe: {
        // SAFETY: the segment holds a reference to each of its frames.
        inc_frame_ref_count(paddr);
      }
    }
    return new Segment({ start, end }, this.kind);
  }

  /** `Clone`: one more reference to every frame. */
  clone(): Segment<M> {
    const r = this.range();
    for (let paddr = r.start; paddr < r.end; paddr += PAGE_SIZE) {
      unsafe: {
        // SAFETY: the segment holds a reference to each of its frames.
        inc_frame_ref_count(paddr);
      }
    }
    return new Segment(r, this.kind);
  }

  /** `Drop`: drops the reference to each frame. */
  drop(): void {
    const r = this.forget();
    for (let paddr = r.start; paddr < r.end; paddr += PAGE_SIZE) {
      unsafe: {
        // SAFETY: the segment forgot one handle to each frame when it was made.
        Frame.from_raw(paddr, this.kind).drop();
      }
    }
  }

  /** `Iterator::next`: the first frame's handle (the segment gives it up), until empty. */
  next(): IteratorResult<Frame<M>, undefined> {
    const r = this.range();
    if (r.start >= r.end) return { done: true, value: undefined };
    let frame: Frame<M>;
    unsafe: {
      // SAFETY: each frame of the range has a handle forgotten when the segment was made.
      frame = Frame.from_raw(r.start, this.kind);
    }
    r.start += PAGE_SIZE;
    return { done: false, value: frame };
  }

  [Symbol.iterator](): Segment<M> {
    return this;
  }

  /** `From<Frame<M>> for Segment<M>`. */
  static from_frame<M>(frame: Frame<M>): Segment<M> {
    const pa = frame.forget();
    return new Segment({ start: pa, end: pa + PAGE_SIZE }, frame.kind);
  }

  /** `Segment::from_unsized` / `Into<Segment<dyn AnyFrameMeta>>`. */
  into_dyn(): Segment<DynMeta> {
    return new Segment<DynMeta>(this.forget(), "dyn");
  }

  /** `Into<USegment>` for an untyped metadata type. */
  into_usegment(): USegment {
    const kind = this.kind;
    if (kind === "dyn" || (typeof kind !== "string" && !kind.untyped)) panic("only untyped segments convert to `USegment`");
    return new Segment<DynMeta>(this.forget(), "udyn");
  }

  /** `TryFrom<Segment<dyn AnyFrameMeta>> for Segment<M>`. */
  static try_from<M>(seg: Segment<DynMeta>, type: FrameMetaType<M>): Result<Segment<M>, Segment<DynMeta>> {
    if (!seg.all_frames((f) => f.dyn_meta().is(type))) return Err(seg);
    return Ok(new Segment(seg.forget(), type));
  }

  /** `TryFrom<Segment<dyn AnyFrameMeta>> for USegment`. */
  static try_into_usegment(seg: Segment<DynMeta>): Result<USegment, Segment<DynMeta>> {
    if (!seg.all_frames((f) => f.dyn_meta().is_untyped())) return Err(seg);
    return Ok(new Segment<DynMeta>(seg.forget(), "udyn"));
  }

  /**
   * Whether the first frame passes `test` (segments are homogeneous); the other frames are
   * checked too, as OSTD's debug assertions do.
   */
  private all_frames(test: (frame: Frame<DynMeta>) => boolean): boolean {
    const r = this.range();
    for (let paddr = r.start; paddr < r.end; paddr += PAGE_SIZE) {
      let ok: boolean;
      unsafe: {
        // SAFETY: the segment holds a handle to each frame; this one is borrowed, never dropped.
        const frame = Frame.from_raw<DynMeta>(paddr, "dyn");
        ok = test(frame);
        frame.forget();
      }
      if (paddr === r.start && !ok) return false;
      if (!ok) panic("a segment whose frames have different metadata types");
    }
    return true;
  }
}

/** `USegment`: a segment of some untyped metadata type. */
export type USegment = Segment<DynMeta>;
