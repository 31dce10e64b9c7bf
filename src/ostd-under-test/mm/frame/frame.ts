// OSTD's `Frame<M>` (ostd/src/mm/frame/mod.rs), re-written for kmiri.
//
// Design. A `Frame` is a JavaScript handle holding what the Rust one holds: a pointer to the
// frame's `MetaSlot` (made from the slot's address at FRAME_METADATA_BASE, as Rust's
// `vaddr as *const MetaSlot`). Rust's type parameter becomes the handle's `kind`: a registered
// metadata type `M` (`Frame<M>`), `"dyn"` (`Frame<dyn AnyFrameMeta>`) or `"udyn"` (`UFrame`, i.e.
// `Frame<dyn AnyUFrameMeta>`). Conversions between them are the Rust `From`/`TryFrom`s. Rust's
// moves are not visible to JavaScript, so a handle that was dropped, forgotten (`into_raw`) or
// converted is marked dead, and using it again panics (a port bug, not a kernel one). `drop()` is
// Rust's `Drop` and must be called where Rust drops the handle.
import { fence, panic, type Ptr, type Ref } from "kmiri/rt";
import { PAGE_SIZE, type Paddr } from "../../arch/mm.js";
import {
  Err, Ok, REF_COUNT_MAX, REF_COUNT_UNUSED, as_meta_ptr, drop_last_in_place, dyn_meta_ptr, frame_paddr, get_from_in_use,
  get_from_unused, inc_ref_count, max_paddr, ref_count_of, slot_at, type DynFrameMeta, type FrameMetaType,
  type FrameMetaValue, type GetFrameError, type MetaSlotV, type Result,
} from "./meta.js";
import { get_global_frame_allocator } from "./allocator.js";
import { FrameRef } from "./frame_ref.js";

/** What a handle's type parameter is: a metadata type, `dyn AnyFrameMeta`, or `dyn AnyUFrameMeta`. */
export type MetaKind<M> = FrameMetaType<M> | "dyn" | "udyn";

/** The metadata of a `Frame<dyn AnyFrameMeta>`, as TypeScript sees it. */
export type DynMeta = unknown;

/** A reference-counted handle to a frame (OSTD's `Frame<M>`). */
export class Frame<M> {
  #ptr: Ptr<MetaSlotV>;
  #live = true;

  /** @internal Use `from_unused`, `from_in_use`, `from_raw`. */
  constructor(ptr: Ptr<MetaSlotV>, readonly kind: MetaKind<M>) {
    this.#ptr = ptr;
  }

  /** The slot pointer (`self.ptr`); panics on a handle that was moved out of. */
  ptr(): Ptr<MetaSlotV> {
    if (!this.#live) panic("use of a `Frame` handle after it was dropped, forgotten or converted");
    return this.#ptr;
  }

  /** Ends this handle without touching the count (a Rust move or `ManuallyDrop`). */
  forget(): Paddr {
    const paddr = frame_paddr(this.ptr());
    this.#live = false;
    return paddr;
  }

  /**
   * `Frame::from_unused`: takes a free frame and gives it `metadata`; fails when the frame is not
   * free right now (use `from_in_use` for that).
   */
  static from_unused<M>(paddr: Paddr, metadata: FrameMetaValue<M>): Result<Frame<M>, GetFrameError> {
    const r = get_from_unused(paddr, metadata, false);
    return r.ok ? Ok(new Frame(r.value, metadata.type)) : r;
  }

  /** `Frame::<dyn AnyFrameMeta>::from_in_use`: one more handle to an in-use frame. */
  static from_in_use(paddr: Paddr): Result<Frame<DynMeta>, GetFrameError> {
    const r = get_from_in_use(paddr);
    return r.ok ? Ok(new Frame<DynMeta>(r.value, "dyn")) : r;
  }

  /**
   * `Frame::from_raw`: takes back a handle forgotten with `into_raw`.
   *
   * # Safety: `paddr` came from `into_raw` of a handle of this kind, and is taken back once.
   */
  static from_raw<M>(paddr: Paddr, kind: MetaKind<M>): Frame<M> {
    "unsafe";
    if (paddr >= max_paddr()) panic("Frame::from_raw past the tracked memory");
    return new Frame(slot_at(paddr), kind);
  }

  /** `Frame::meta`: the metadata, of the handle's type. */
  meta(): Ref<M> {
    const kind = this.kind;
    if (typeof kind === "string") panic("`meta()` of a dynamically typed frame: use `dyn_meta()`");
    unsafe: {
      // SAFETY: the handle's type is the metadata's type, and a shared view is all we give.
      return as_meta_ptr(this.ptr(), kind).as_ref();
    }
  }

  /** `Frame::dyn_meta`: the metadata with its type. */
  dyn_meta(): DynFrameMeta {
    unsafe: {
      // SAFETY: a live handle means the metadata is initialised and valid.
      return dyn_meta_ptr(this.ptr());
    }
  }

  /** The level of the page-table entry that maps the frame (always 1: base pages). */
  map_level(): number {
    return 1;
  }

  /**
   * `Frame::reference_count`: every handle and mapping of the frame. Other CPUs may change it at
   * any time, including right after this returns.
   */
  reference_count(): bigint {
    const count = ref_count_of(this.ptr()).load("Relaxed");
    if (count >= REF_COUNT_MAX) panic("reference_count of a frame that is not shared");
    return count;
  }

  /** `Frame::borrow`: a `FrameRef`, as `&Frame`. */
  borrow(): FrameRef<M> {
    unsafe: {
      // SAFETY: the reference lives no longer than this handle (the caller's word in
      // TypeScript), and has its type.
      return FrameRef.borrow_paddr(this.paddr(), this.kind);
    }
  }

  /** `Frame::into_raw`: forgets the handle (no drop) and gives its address for `from_raw`. */
  into_raw(): Paddr {
    return this.forget();
  }

  /** `HasPaddr::paddr`. */
  paddr(): Paddr {
    return frame_paddr(this.ptr());
  }

  /** The older name of `paddr`. */
  start_paddr(): Paddr {
    return this.paddr();
  }

  /** `HasPaddrRange::end_paddr`. */
  end_paddr(): Paddr {
    return this.paddr() + PAGE_SIZE;
  }

  /** `HasSize::size`. */
  size(): number {
    return PAGE_SIZE;
  }

  /** `Clone`: one more handle (a Relaxed increment, as `Arc::clone`). */
  clone(): Frame<M> {
    unsafe: {
      // SAFETY: this handle holds a reference already.
      inc_ref_count(this.ptr());
    }
    return new Frame(this.#ptr, this.kind);
  }

  /** `PartialEq`: two handles of one frame. */
  eq(other: { paddr(): Paddr }): boolean {
    return this.paddr() === other.paddr();
  }

  /** `Drop`: gives the reference back; the last one tears the metadata down and frees the frame. */
  drop(): void {
    const slot = this.ptr();
    this.#live = false;
    const last = ref_count_of(slot).fetch_sub(1n, "Release");
    if (last === 0n || last === REF_COUNT_UNUSED) panic("drop of a frame handle whose frame is not in use");
    if (last === 1n) {
      // As in `Arc::drop`: every other handle's uses happen before the teardown.
      fence("Acquire");
      unsafe: {
        // SAFETY: that was the last reference: the count is 0 and we alone own the slot.
        drop_last_in_place(slot);
      }
      get_global_frame_allocator().dealloc(frame_paddr(slot), PAGE_SIZE);
    }
  }

  // ─────────────── conversions (Rust's `From` / `TryFrom`) ───────────────

  /** `Frame::from_unsized` / `Into<Frame<dyn AnyFrameMeta>>`. */
  static from_unsized<M>(frame: Frame<M>): Frame<DynMeta> {
    const ptr = frame.ptr();
    frame.forget();
    return new Frame<DynMeta>(ptr, "dyn");
  }

  /** `Into<Frame<dyn AnyFrameMeta>>` (`frame.into()`). */
  into_dyn(): Frame<DynMeta> {
    return Frame.from_unsized(this);
  }

  /** `Into<UFrame>` for an untyped metadata type. */
  into_uframe(): UFrame {
    const kind = this.kind;
    if (kind === "dyn" || (typeof kind !== "string" && !kind.untyped)) panic("only untyped frames convert to `UFrame`");
    const ptr = this.ptr();
    this.forget();
    return new Frame<DynMeta>(ptr, "udyn");
  }

  /** `TryFrom<Frame<dyn AnyFrameMeta>> for Frame<M>`: the frame back when its type is not `M`. */
  static try_from<M>(dyn_frame: Frame<DynMeta>, type: FrameMetaType<M>): Result<Frame<M>, Frame<DynMeta>> {
    if (!dyn_frame.dyn_meta().is(type)) return Err(dyn_frame);
    const ptr = dyn_frame.ptr();
    dyn_frame.forget();
    return Ok(new Frame(ptr, type));
  }

  /** `TryFrom<Frame<dyn AnyFrameMeta>> for UFrame`. */
  static try_into_uframe(dyn_frame: Frame<DynMeta>): Result<UFrame, Frame<DynMeta>> {
    if (!dyn_frame.dyn_meta().is_untyped()) return Err(dyn_frame);
    const ptr = dyn_frame.ptr();
    dyn_frame.forget();
    return Ok(new Frame<DynMeta>(ptr, "udyn"));
  }
}

/** `UFrame`: a frame of some untyped metadata type. */
export type UFrame = Frame<DynMeta>;

/**
 * `inc_frame_ref_count`: one more reference to a frame known by its address.
 *
 * # Safety: `paddr` is a tracked frame the caller holds a reference to.
 */
export function inc_frame_ref_count(paddr: Paddr): void {
  "unsafe";
  if (paddr % PAGE_SIZE !== 0 || paddr >= max_paddr()) panic("inc_frame_ref_count of a bad address");
  // SAFETY: the slot is in the metadata array, never borrowed mutably as a whole; the caller holds
  // a reference to the frame.
  inc_ref_count(slot_at(paddr));
}
