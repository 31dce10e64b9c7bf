// OSTD's `UniqueFrame<M>` (ostd/src/mm/frame/unique.rs), re-written for kmiri: the one owner of a
// frame, whose count is REF_COUNT_UNIQUE, so it may have the metadata mutably. Like `Frame`, the
// handle is a JavaScript object holding the slot pointer, marked dead when moved out of.
import { panic, type Ptr, type Ref, type RefMut } from "kmiri/rt";
import { PAGE_SIZE, type Paddr } from "../../arch/mm.js";
import { Frame, type MetaKind } from "./frame.js";
import {
  Err, Ok, REF_COUNT_UNIQUE, as_meta_ptr, drop_last_in_place, drop_meta_in_place, dyn_meta_ptr, frame_paddr,
  get_from_unused, ref_count_of, slot_at, write_meta, type DynFrameMeta, type FrameMetaType, type FrameMetaValue,
  type GetFrameError, type MetaSlotV, type Result,
} from "./meta.js";
import { get_global_frame_allocator } from "./allocator.js";

/** An owning, unshared frame pointer (`UniqueFrame<M>`). */
export class UniqueFrame<M> {
  #ptr: Ptr<MetaSlotV>;
  #live = true;

  /** @internal */
  constructor(ptr: Ptr<MetaSlotV>, readonly kind: MetaKind<M>) {
    this.#ptr = ptr;
  }

  /** `slot()`: the slot pointer; panics on a handle that was moved out of. */
  slot(): Ptr<MetaSlotV> {
    if (!this.#live) panic("use of a `UniqueFrame` after it was dropped, forgotten or converted");
    return this.#ptr;
  }

  private forget(): Ptr<MetaSlotV> {
    const ptr = this.slot();
    this.#live = false;
    return ptr;
  }

  private typed(): FrameMetaType<M> {
    const kind = this.kind;
    if (typeof kind === "string") panic("typed metadata of a dynamically typed `UniqueFrame`");
    return kind;
  }

  /** `UniqueFrame::from_unused`: takes a free frame as its only owner. */
  static from_unused<M>(paddr: Paddr, metadata: FrameMetaValue<M>): Result<UniqueFrame<M>, GetFrameError> {
    const r = get_from_unused(paddr, metadata, true);
    return r.ok ? Ok(new UniqueFrame(r.value, metadata.type)) : r;
  }

  /** `meta`. */
  meta(): Ref<M> {
    unsafe: {
      // SAFETY: the handle's type is the metadata's.
      return as_meta_ptr(this.slot(), this.typed()).as_ref();
    }
  }

  /** `meta_mut`: ours alone, so mutable. */
  meta_mut(): RefMut<M> {
    unsafe: {
      // SAFETY: the handle's type is the metadata's, and we are the frame's only owner.
      return as_meta_ptr(this.slot(), this.typed()).as_mut();
    }
  }

  /** `level` (always 1). */
  level(): number {
    return 1;
  }

  /** `dyn_meta`. */
  dyn_meta(): DynFrameMeta {
    unsafe: {
      // SAFETY: the metadata is initialised.
      return dyn_meta_ptr(this.slot());
    }
  }

  /** `dyn_meta_mut`: the metadata with its type; its pointer may be written (we own the slot). */
  dyn_meta_mut(): DynFrameMeta {
    unsafe: {
      // SAFETY: initialised, and ours alone.
      return dyn_meta_ptr(this.slot());
    }
  }

  /** `repurpose`: drops the metadata and writes new metadata of another type. */
  repurpose<M1>(metadata: FrameMetaValue<M1>): UniqueFrame<M1> {
    const slot = this.forget();
    unsafe: {
      // SAFETY: we are the only owner and the metadata is initialised.
      drop_meta_in_place(slot);
      // SAFETY: we are the only owner.
      write_meta(slot, metadata);
    }
    return new UniqueFrame(slot, metadata.type);
  }

  /**
   * `reset_as_unused`: marks the frame unused without giving it to the allocator (for allocator
   * implementations: the frame is leaked otherwise).
   */
  reset_as_unused(): void {
    const slot = this.forget();
    ref_count_of(slot).store(0n, "Release");
    unsafe: {
      // SAFETY: we were the only owner, the count is 0 and the metadata is initialised.
      drop_last_in_place(slot);
    }
  }

  /** `into_raw`: forgets the handle. */
  into_raw(): Paddr {
    return frame_paddr(this.forget());
  }

  /**
   * `from_raw`.
   *
   * # Safety: `paddr` came from `into_raw` of a unique handle of type `kind`, taken back once.
   */
  static from_raw<M>(paddr: Paddr, kind: MetaKind<M>): UniqueFrame<M> {
    "unsafe";
    return new UniqueFrame(slot_at(paddr), kind);
  }

  paddr(): Paddr {
    return frame_paddr(this.slot());
  }

  size(): number {
    return PAGE_SIZE;
  }

  /** `Drop`: tears the metadata down and gives the frame to the allocator. */
  drop(): void {
    const slot = this.forget();
    ref_count_of(slot).store(0n, "Relaxed");
    unsafe: {
      // SAFETY: we were the only owner, the count is 0 and the metadata is initialised.
      drop_last_in_place(slot);
    }
    get_global_frame_allocator().dealloc(frame_paddr(slot), PAGE_SIZE);
  }

  /** `From<UniqueFrame<M>> for Frame<M>`: shares the frame (count 1). */
  into_frame(): Frame<M> {
    const slot = this.forget();
    // Release: our writes to the metadata are visible to whoever gets the frame with
    // `from_in_use` (its Acquire).
    ref_count_of(slot).store(1n, "Release");
    return new Frame(slot, this.kind);
  }

  /** `TryFrom<Frame<M>> for UniqueFrame<M>`: only when the frame has one reference. */
  static try_from<M>(frame: Frame<M>): Result<UniqueFrame<M>, Frame<M>> {
    const slot = frame.ptr();
    if (!ref_count_of(slot).compare_exchange(1n, REF_COUNT_UNIQUE, "Relaxed", "Relaxed").ok) return Err(frame);
    frame.forget();
    // The count is UNIQUE now: the handle is the only one.
    return Ok(new UniqueFrame(slot, frame.kind));
  }
}
