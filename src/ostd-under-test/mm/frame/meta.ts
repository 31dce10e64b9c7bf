// OSTD's `mm/frame/meta.rs` (asterinas/asterinas, ostd/src/mm/frame/meta.rs), re-written for kmiri.
//
// Design. Every physical frame has a 64-byte `MetaSlot` in one big array that lives in checked
// memory at FRAME_METADATA_BASE: pages retyped `meta` with one allocation per 64-byte slot, mapped
// into the kernel half of the page table by `init()` (boot.ts calls it). A slot is
//
//   storage     cell([u8; 40])   the metadata value (typed by its meta type's kmiri layout)
//   ref_count   AtomicU64        UNUSED / UNIQUE / 0 (busy) / 1..MAX (in use)
//   vtable_ptr  cell(u64)        which meta type the storage holds (an id in the registry below)
//   in_list     AtomicU64        the id of the intrusive list holding the frame, or 0
//
// so the reference-count protocol, the metadata writes and reads, and the list bookkeeping are all
// seen by the race detector and Stacked Borrows. Rust's `dyn AnyFrameMeta` (a trait object whose
// vtable pointer is stored in the slot) becomes a registry of `FrameMetaType`s: a type has a
// layout (at most 40 bytes, alignment at most 64), an optional `on_drop` (called with a reader
// over the frame when the last handle goes), an optional in-place destructor, and an
// `is_untyped` flag. `impl_frame_meta_for` / `impl_untyped_frame_meta_for` register one, as the
// Rust macros implement the trait; the id they get is what `vtable_ptr` stores.
//
// The reference-count protocol is the one of PR #1752 ("Harden `ref_count`"): a free slot holds
// REF_COUNT_UNUSED; `get_from_unused` claims it by CAS(UNUSED -> 0, Acquire), writes the metadata
// while the count is 0 (busy: only the claimer touches the slot), then publishes it with a
// Release store of 1 (or UNIQUE). The last drop runs `on_drop` and the destructor at 0 and ends
// with a Release store of UNUSED, which the next claimer's Acquire pairs with.
import {
  AtomicU64, AtomicUsize, array, cell, panic, ptr_from_exposed, size_of, align_of, static_, struct, u64, u8,
  type Layout, type Ptr, type Ref, type RefMut,
} from "kmiri/rt";
import { FRAME_METADATA_BASE_VADDR, PAGE_SIZE, paddr_to_vaddr, type Paddr, type Vaddr } from "../../arch/mm.js";
import type { Infallible, VmReader } from "../io.js";

/** The size of one metadata slot. */
export const META_SLOT_SIZE = 64;
/** The most bytes a frame's metadata may take. */
export const FRAME_METADATA_MAX_SIZE = META_SLOT_SIZE - 8 - 8 - 8;
/** The largest alignment a frame's metadata may ask for. */
export const FRAME_METADATA_MAX_ALIGN = META_SLOT_SIZE;

export interface MetaSlotV {
  storage: number[];
  ref_count: bigint;
  vtable_ptr: bigint;
  in_list: bigint;
}

/** A metadata slot (`#[repr(C)] struct MetaSlot`). The storage comes first, as in OSTD. */
export const MetaSlot: Layout<MetaSlotV> = struct(
  "MetaSlot",
  {
    storage: cell(array(u8, FRAME_METADATA_MAX_SIZE)),
    ref_count: AtomicU64,
    vtable_ptr: cell(u64),
    in_list: AtomicU64,
  },
  { repr: "C" },
);

/** The slot is free. */
export const REF_COUNT_UNUSED = 0xffff_ffff_ffff_ffffn;
/** The slot belongs to one `UniqueFrame`. */
export const REF_COUNT_UNIQUE = 0xffff_ffff_ffff_fffen;
/** Counts from here up to UNIQUE are illegal: an increment that reaches them aborts. */
export const REF_COUNT_MAX = 0x7fff_ffff_ffff_ffffn;

if (size_of(MetaSlot) !== META_SLOT_SIZE) panic("MetaSlot must be 64 bytes");
if (PAGE_SIZE % META_SLOT_SIZE !== 0) panic("a page must hold whole metadata slots");

/** The highest physical address tracked by metadata (OSTD's `MAX_PADDR`, set by `init`). */
export const MAX_PADDR = static_(AtomicUsize, 0, { name: "MAX_PADDR" });

/** The end of the physical memory that has metadata. */
export function max_paddr(): Paddr {
  const max = MAX_PADDR.as_ref().load("Relaxed");
  if (max === 0) panic("frame metadata used before `mm::frame::meta::init`");
  return max;
}

/** Whether the metadata has been initialised (`is_initialized`). */
export function is_initialized(): boolean {
  return MAX_PADDR.as_ref().load("Relaxed") !== 0;
}

/** `mapping::frame_to_meta`: the slot's virtual address for a frame, by arithmetic. */
export function frame_to_meta(paddr: Paddr): Vaddr {
  return FRAME_METADATA_BASE_VADDR + Math.floor(paddr / PAGE_SIZE) * META_SLOT_SIZE;
}

/** `mapping::meta_to_frame`: the frame of a slot's virtual address. */
export function meta_to_frame(vaddr: Vaddr): Paddr {
  return Math.floor((vaddr - FRAME_METADATA_BASE_VADDR) / META_SLOT_SIZE) * PAGE_SIZE;
}

// ───────────────────────────── metadata types ─────────────────────────────

/** What `AnyFrameMeta` provides for one metadata type `M` (its "vtable"). */
export interface FrameMetaType<M> {
  /** The Rust type's name. */
  readonly name: string;
  /** How the metadata is laid out in the slot's storage. */
  readonly layout: Layout<M>;
  /** The word stored in `vtable_ptr` for this type (never 0). */
  readonly id: bigint;
  /** `is_untyped()`: the frame is plain memory (`AnyUFrameMeta`). */
  readonly untyped: boolean;
  /** `on_drop`, called with the metadata and a reader over the frame as the last handle goes. */
  readonly on_drop: ((meta: RefMut<M>, reader: VmReader<Infallible>) => void) | null;
  /** The metadata's own destructor (`drop_in_place`), if it owns something. */
  readonly drop_in_place: ((meta: Ptr<M>) => void) | null;
  /** Pairs a value with this type, for `from_unused` and the allocation options. */
  of(value: M): FrameMetaValue<M>;
}

/** A metadata value with its type: what Rust's `M` value is when passed to `from_unused`. */
export interface FrameMetaValue<M> {
  readonly type: FrameMetaType<M>;
  readonly value: M;
}

/** Options of a metadata type. */
export interface FrameMetaOptions<M> {
  on_drop?: (meta: RefMut<M>, reader: VmReader<Infallible>) => void;
  drop_in_place?: (meta: Ptr<M>) => void;
}

/** The registered types, by `id - 1`. */
const REGISTRY: FrameMetaType<any>[] = [];

function register<M>(name: string, layout: Layout<M>, untyped: boolean, options: FrameMetaOptions<M>): FrameMetaType<M> {
  // `check_frame_meta_layout!`: the const assertions of the Rust macros.
  if (size_of(layout) > FRAME_METADATA_MAX_SIZE) panic(`frame metadata \`${name}\` is larger than ${FRAME_METADATA_MAX_SIZE} bytes`);
  if (FRAME_METADATA_MAX_ALIGN % align_of(layout) !== 0) panic(`frame metadata \`${name}\` is over-aligned`);
  const type: FrameMetaType<M> = {
    name,
    layout,
    id: BigInt(REGISTRY.length + 1),
    untyped,
    on_drop: options.on_drop ?? null,
    drop_in_place: options.drop_in_place ?? null,
    of: (value: M) => ({ type, value }),
  };
  REGISTRY.push(type);
  return type;
}

/** `impl_frame_meta_for!(T)`: makes `layout` a (typed) frame metadata type. */
export function impl_frame_meta_for<M>(name: string, layout: Layout<M>, options: FrameMetaOptions<M> = {}): FrameMetaType<M> {
  return register(name, layout, false, options);
}

/** `impl_untyped_frame_meta_for!(T[, on_drop])`: an untyped frame metadata type (`AnyUFrameMeta`). */
export function impl_untyped_frame_meta_for<M>(name: string, layout: Layout<M>, options: FrameMetaOptions<M> = {}): FrameMetaType<M> {
  return register(name, layout, true, options);
}

/** A registered type wrapping another's behaviour (`Link<M>` forwards `on_drop` and `is_untyped`). */
export function impl_frame_meta_like<M, I>(
  name: string,
  layout: Layout<M>,
  inner: FrameMetaType<I>,
  to_inner: (meta: Ptr<M>) => Ptr<I>,
): FrameMetaType<M> {
  const on_drop = inner.on_drop;
  const drop_in_place = inner.drop_in_place;
  return register(name, layout, inner.untyped, {
    on_drop: on_drop === null ? undefined : (meta, reader) => {
      unsafe: {
        // SAFETY: the inner metadata is part of the outer, which the caller has mutably.
        on_drop(to_inner(meta.as_mut_ptr()).as_mut(), reader);
      }
    },
    drop_in_place: drop_in_place === null ? undefined : (meta) => {
      unsafe: {
        // SAFETY: as for `on_drop`.
        drop_in_place(to_inner(meta));
      }
    },
  });
}

/** The type whose `vtable_ptr` word is `id`. */
export function meta_type_of(id: bigint): FrameMetaType<unknown> {
  const t = REGISTRY[Number(id) - 1];
  if (t === undefined) panic(`frame metadata vtable word ${id} names no type`);
  return t;
}

/** `dyn AnyFrameMeta`: a slot's metadata seen through its type. */
export class DynFrameMeta {
  constructor(
    /** The metadata's type (its vtable). */
    readonly type: FrameMetaType<unknown>,
    /** The metadata in the slot. */
    readonly ptr: Ptr<unknown>,
  ) {}

  /** `AnyFrameMeta::is_untyped`. */
  is_untyped(): boolean {
    return this.type.untyped;
  }

  /** `(meta as &dyn Any).is::<M>()`. */
  is<M>(type: FrameMetaType<M>): boolean {
    return this.type === (type as FrameMetaType<unknown>);
  }
}

/** The metadata of the frames that hold the metadata. */
export const MetaPageMeta = impl_frame_meta_for("MetaPageMeta", struct("MetaPageMeta", {}));
/** Frames that are not usable for anything. */
export const UnusableMemoryMeta = impl_frame_meta_for("UnusableMemoryMeta", struct("UnusableMemoryMeta", {}));
/** Reserved frames (perhaps I/O memory later). */
export const ReservedMemoryMeta = impl_frame_meta_for("ReservedMemoryMeta", struct("ReservedMemoryMeta", {}));
/** The frames of the kernel image. */
export const KernelMeta = impl_frame_meta_for("KernelMeta", struct("KernelMeta", {}));

// ───────────────────────────── errors ─────────────────────────────

/** `GetFrameError`: why a frame cannot be had from a physical address. */
export type GetFrameError = "InUse" | "Unused" | "Busy" | "Unique" | "OutOfBound" | "NotAligned";

export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

export function Ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function Err<E>(error: E): { ok: false; error: E } {
  return { ok: false, error };
}

/** `Result::unwrap` (panics with the error, as Rust's does). */
export function unwrap<T, E>(r: Result<T, E>, what = "called `Result::unwrap()` on an `Err` value"): T {
  if (!r.ok) panic(`${what}: ${String(r.error)}`);
  return r.value;
}

// ───────────────────────────── slots ─────────────────────────────

/** `get_slot`: the slot of a frame, or why there is none. */
export function get_slot(paddr: Paddr): Result<Ptr<MetaSlotV>, GetFrameError> {
  if (paddr % PAGE_SIZE !== 0) return Err("NotAligned");
  if (paddr >= max_paddr()) return Err("OutOfBound");
  // SAFETY (as OSTD's): the address is a live slot in the metadata array, which is never
  // borrowed mutably as a whole, so a shared view of it is always fine.
  return Ok(slot_at(paddr));
}

/** The slot of a frame known to be tracked (no checks: `from_raw` and friends). */
export function slot_at(paddr: Paddr): Ptr<MetaSlotV> {
  return ptr_from_exposed(frame_to_meta(paddr), MetaSlot);
}

/** `MetaSlot::ref_count`, as a shared reference to the atomic. */
export function ref_count_of(slot: Ptr<MetaSlotV>): Ref<bigint> {
  unsafe: {
    // SAFETY: `slot` points to a live `MetaSlot` that is never borrowed mutably, so a shared
    // reference to it is always fine (`MetaSlot` is all interior mutability).
    return slot.as_ref().field("ref_count");
  }
}

/** `MetaSlot::in_list`. */
export function in_list_of(slot: Ptr<MetaSlotV>): Ref<bigint> {
  unsafe: {
    // SAFETY: as for `ref_count_of`.
    return slot.as_ref().field("in_list");
  }
}

/**
 * `MetaSlot::get_from_unused`: takes an unused slot, writes `metadata` into it and gives back the
 * owning pointer: the count is then UNIQUE when `as_unique_ptr`, else 1.
 */
export function get_from_unused<M>(paddr: Paddr, metadata: FrameMetaValue<M>, as_unique_ptr: boolean): Result<Ptr<MetaSlotV>, GetFrameError> {
  const got = get_slot(paddr);
  if (!got.ok) return got;
  const slot = got.value;

  // The Acquire pairs with the Release of `drop_last_in_place`: the previous owner's teardown of
  // the metadata happens before our writes below, which cannot move above this CAS.
  const r = ref_count_of(slot).compare_exchange(REF_COUNT_UNUSED, 0n, "Acquire", "Relaxed");
  if (!r.ok) return Err(r.value === REF_COUNT_UNIQUE ? "Unique" : r.value === 0n ? "Busy" : "InUse");

  unsafe: {
    // SAFETY: the count is 0 now, so no one else looks at this slot: we may write it.
    write_meta(slot, metadata);
  }

  if (as_unique_ptr) {
    // No one can make a `Frame` from the address of a UNIQUE frame, so no ordering is needed.
    ref_count_of(slot).store(REF_COUNT_UNIQUE, "Relaxed");
  } else {
    // Release: the metadata written above is visible to whoever sees the count of 1.
    ref_count_of(slot).store(1n, "Release");
  }
  return Ok(slot);
}

/** `MetaSlot::get_from_in_use`: one more owning pointer to an in-use slot. */
export function get_from_in_use(paddr: Paddr): Result<Ptr<MetaSlotV>, GetFrameError> {
  const got = get_slot(paddr);
  if (!got.ok) return got;
  const slot = got.value;
  const count = ref_count_of(slot);
  for (;;) {
    const last = count.load("Relaxed");
    if (last === REF_COUNT_UNUSED) return Err("Unused");
    if (last === REF_COUNT_UNIQUE) return Err("Unique");
    if (last === 0n) return Err("Busy");
    if (last >= REF_COUNT_MAX) abort("frame reference count overflow");
    // Acquire pairs with the Release that published the metadata (`get_from_unused`, or a
    // `UniqueFrame` turned shared), so the metadata is visible to us.
    if (count.compare_exchange_weak(last, last + 1n, "Acquire", "Relaxed").ok) return Ok(slot);
  }
}

/**
 * `MetaSlot::inc_ref_count`.
 *
 * # Safety: the caller already holds a reference to the frame.
 */
export function inc_ref_count(slot: Ptr<MetaSlotV>): void {
  "unsafe";
  const last = ref_count_of(slot).fetch_add(1n, "Relaxed");
  if (last === 0n || last === REF_COUNT_UNUSED) panic("inc_ref_count on a frame not in use");
  // As `Arc::clone`: stop before the count can wrap into the special values.
  if (last >= REF_COUNT_MAX) abort("frame reference count overflow");
}

/** `MetaSlot::frame_paddr`. */
export function frame_paddr(slot: Ptr<MetaSlotV>): Paddr {
  return meta_to_frame(slot.addr());
}

/**
 * `MetaSlot::dyn_meta_ptr`: the metadata seen through its stored type.
 *
 * # Safety: the metadata must be initialised; the pointer may be used mutably only by an exclusive
 * owner of the slot.
 */
export function dyn_meta_ptr(slot: Ptr<MetaSlotV>): DynFrameMeta {
  "unsafe";
  // SAFETY: once written, the type word is only read until the slot is torn down.
  const id = slot.field("vtable_ptr").read();
  const type = meta_type_of(id);
  return new DynFrameMeta(type, slot.cast(type.layout));
}

/** `MetaSlot::as_meta_ptr::<M>`: the storage as an `M` (using it has `dyn_meta_ptr`'s conditions). */
export function as_meta_ptr<M>(slot: Ptr<MetaSlotV>, type: FrameMetaType<M>): Ptr<M> {
  return slot.cast(type.layout);
}

/**
 * `MetaSlot::write_meta`: writes the metadata and its type, dropping nothing that was there.
 *
 * # Safety: the caller has exclusive access to the slot.
 */
export function write_meta<M>(slot: Ptr<MetaSlotV>, metadata: FrameMetaValue<M>): void {
  "unsafe";
  // The size and alignment were checked when the type was registered.
  slot.field("vtable_ptr").write(metadata.type.id);
  // SAFETY: the storage is large and aligned enough for `M`, and ours alone (the caller's promise).
  slot.cast(metadata.type.layout).write(metadata.value);
}

/**
 * `MetaSlot::drop_last_in_place`: tears the metadata down and marks the slot unused.
 *
 * # Safety: the count is 0 (we are the only owner) and the metadata is initialised.
 */
export function drop_last_in_place(slot: Ptr<MetaSlotV>): void {
  "unsafe";
  if (ref_count_of(slot).load("Relaxed") !== 0n) panic("drop_last_in_place of a slot that is not busy");
  drop_meta_in_place(slot);
  // Release pairs with the Acquire CAS of `get_from_unused`: our teardown happens before the
  // next owner's metadata writes.
  ref_count_of(slot).store(REF_COUNT_UNUSED, "Release");
}

/**
 * `MetaSlot::drop_meta_in_place`: runs `on_drop` and the destructor; the metadata is
 * uninitialised afterwards.
 *
 * # Safety: the count is 0 or UNIQUE (we are the only owner) and the metadata is initialised.
 */
export function drop_meta_in_place(slot: Ptr<MetaSlotV>): void {
  "unsafe";
  const paddr = frame_paddr(slot);
  const dyn = dyn_meta_ptr(slot);
  const type = dyn.type;
  if (type.on_drop !== null) {
    // SAFETY: whether the frame may be read is the metadata type's promise (`unsafe trait`).
    const reader = kernel_reader(paddr_to_vaddr(paddr), PAGE_SIZE);
    // SAFETY: the metadata is valid, of this type, and ours alone.
    type.on_drop(dyn.ptr.as_mut(), reader);
  }
  if (type.drop_in_place !== null) type.drop_in_place(dyn.ptr);
}

/**
 * How `drop_meta_in_place` makes the reader it hands to `on_drop`: `VmReader::from_kernel_space`,
 * installed by `untyped.ts` (which owns the reader/writer side of frames), so this module does not
 * load `mm/io` itself.
 */
let kernel_reader: (vaddr: Vaddr, len: number) => VmReader<Infallible> = () => panic("no `VmReader` for `on_drop`: import mm/frame/untyped");

/** @internal Installs the reader factory (`untyped.ts`). */
export function set_kernel_reader(f: (vaddr: Vaddr, len: number) => VmReader<Infallible>): void {
  kernel_reader = f;
}

/** `panic::abort`: a condition the kernel cannot survive (a count overflow). */
export function abort(why: string): never {
  panic(`abort: ${why}`);
}
