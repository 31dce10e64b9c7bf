// OSTD's `FrameRef` (ostd/src/mm/frame/frame_ref.rs), re-written for kmiri: a handle that works as
// `&'a Frame<M>` — a `Frame` made from the address without taking a reference, never dropped
// (Rust's `ManuallyDrop`). It is also where `Frame` implements `NonNullPtr` (a frame handle as a
// non-null raw pointer to its slot), which RCU-protected structures use.
import { panic, type Ptr, type Ref } from "kmiri/rt";
import type { Paddr } from "../../arch/mm.js";
import { Frame, type MetaKind } from "./frame.js";
import { type DynFrameMeta, type MetaSlotV } from "./meta.js";

/** `FrameRef<'a, M>`: a borrowed frame handle (`Deref<Target = Frame<M>>`). */
export class FrameRef<M> {
  private constructor(private readonly inner: Frame<M>) {}

  /**
   * `FrameRef::borrow_paddr`.
   *
   * # Safety: the frame outlives the reference (it is borrowed from a live handle), and `kind`
   * is its type.
   */
  static borrow_paddr<M>(raw: Paddr, kind: MetaKind<M>): FrameRef<M> {
    "unsafe";
    // SAFETY: the caller's conditions; the handle is never dropped, so no count changes.
    return new FrameRef(Frame.from_raw(raw, kind));
  }

  /** @internal A `FrameRef` over a handle that will never be dropped (`ManuallyDrop`). */
  static wrap<M>(inner: Frame<M>): FrameRef<M> {
    return new FrameRef(inner);
  }

  /** `Deref`: the borrowed `&Frame<M>` (do not drop or forget it). */
  deref(): Frame<M> {
    return this.inner;
  }

  meta(): Ref<M> {
    return this.inner.meta();
  }

  dyn_meta(): DynFrameMeta {
    return this.inner.dyn_meta();
  }

  paddr(): Paddr {
    return this.inner.paddr();
  }

  size(): number {
    return this.inner.size();
  }

  reference_count(): bigint {
    return this.inner.reference_count();
  }

  /** `(*frame_ref).clone()`: an owning handle. */
  clone(): Frame<M> {
    return this.inner.clone();
  }
}

/** `impl NonNullPtr for Frame<M>`: a frame handle as a non-null pointer to its metadata slot. */
export const NonNullPtr = {
  /** The alignment bits a user of the raw pointer may use: a slot is 64-byte aligned. */
  ALIGN_BITS: 6,

  /** Forgets the handle; its slot pointer. */
  into_raw<M>(frame: Frame<M>): Ptr<MetaSlotV> {
    const ptr = frame.ptr();
    if (ptr.is_null()) panic("a frame handle with a null slot pointer");
    frame.forget();
    return ptr;
  },

  /**
   * Takes the handle back.
   *
   * # Safety: `raw` came from `into_raw` of a handle of type `kind`, and is taken back once.
   */
  from_raw<M>(raw: Ptr<MetaSlotV>, kind: MetaKind<M>): Frame<M> {
    "unsafe";
    return new Frame(raw, kind);
  },

  /**
   * Borrows the handle behind a raw pointer.
   *
   * # Safety: `raw` came from `into_raw` and the handle is not taken back while the reference lives.
   */
  raw_as_ref<M>(raw: Ptr<MetaSlotV>, kind: MetaKind<M>): FrameRef<M> {
    "unsafe";
    return FrameRef.wrap(new Frame(raw, kind));
  },

  /** The raw pointer of a borrowed handle. */
  ref_as_raw<M>(ptr_ref: FrameRef<M>): Ptr<MetaSlotV> {
    return ptr_ref.deref().ptr();
  },
};
