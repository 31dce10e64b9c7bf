// OSTD's `mm/heap/slab.rs` (ostd/src/mm/heap/slab.rs), re-written for kmiri: a slab is one frame
// cut into slots of `SLOT_SIZE` bytes, owned uniquely (`UniqueFrame`), whose metadata is a
// `Link<SlabMeta<SLOT_SIZE>>` (so slab caches can keep slabs in intrusive frame lists).
//
// Design. `SlabMeta<SLOT_SIZE>` lives in the frame's metadata slot (checked memory): the slab's free
// list (`SlabSlotList`, whose head is a field of the metadata) and the count of allocated slots.
// Rust's const generic becomes a metadata type registered per slot size (`SlabMeta.type(N)`, as
// `Link.type` does per inner type). The frame's page is retyped `slab` with one allocation per slot
// right after it is allocated, so each slot is an object of its own: a write past a slot into its
// neighbour is `out-of-bounds`, and a slot used after its slab went back to the frame allocator is
// a use of a free page. Slots are reached through the linear map.
//
// `Slab<SLOT_SIZE>` is `UniqueFrame<Link<SlabMeta<SLOT_SIZE>>>`; its inherent methods (`new`,
// `dealloc`) are the functions of `Slab` below, and `SlabMeta` wraps `&mut SlabMeta<SLOT_SIZE>`.
import { assert, assert_eq, panic, ptr_from_exposed, struct, u16, u8, type Layout, type RefMut } from "kmiri/rt";
import { PAGE_SIZE, paddr_to_vaddr, retype_phys_pages } from "../../arch/mm.js";
import { FrameAllocOptions, type Error } from "../frame/allocator.js";
import { Link, type LinkV } from "../frame/linked_list.js";
import { Err, Ok, impl_frame_meta_for, unwrap, type FrameMetaType, type Result } from "../frame/meta.js";
import { UniqueFrame } from "../frame/unique.js";
import "../frame/untyped.js"; // `on_drop` gets a reader over the frame (installed by untyped.ts).
import { HeapSlot, SlotInfo, type AllocError } from "./slot.js";
import { SlabSlotList, SlabSlotListLayout, type SlabSlotListV } from "./slot_list.js";

/** `SlabMeta<SLOT_SIZE>` as stored in the metadata slot. */
export interface SlabMetaV {
  /** The free slots of this slab (only slots of this slab are in it). */
  free_list: SlabSlotListV;
  /** How many slots are allocated: every slot not in `free_list` counts, free or not. */
  nr_allocated: number;
}

const SlabMetaLayout: Layout<SlabMetaV> = struct("SlabMeta", { free_list: SlabSlotListLayout, nr_allocated: u16 });

/** The `SlabMeta<N>` metadata types, by slot size. */
const SLAB_META_TYPES = new Map<number, FrameMetaType<SlabMetaV>>();
/** The slot size of each `Link<SlabMeta<N>>` type. */
const SLOT_SIZE_OF_LINK = new Map<FrameMetaType<LinkV<SlabMetaV>>, number>();

/** `Slab<SLOT_SIZE>`. */
export type Slab = UniqueFrame<LinkV<SlabMetaV>>;

/** `&mut SlabMeta<SLOT_SIZE>`: the frame metadata of a slab. */
export class SlabMeta {
  constructor(
    private readonly self_: RefMut<SlabMetaV>,
    readonly slot_size: number,
  ) {}

  /** The metadata type `SlabMeta<slot_size>` (made once per size). */
  static type(slot_size: number): FrameMetaType<SlabMetaV> {
    let t = SLAB_META_TYPES.get(slot_size);
    if (t === undefined) {
      t = impl_frame_meta_for(`SlabMeta<${slot_size}>`, SlabMetaLayout, {
        // `AnyFrameMeta::on_drop`. A slab cannot forget its slots once it is dropped (FIXME
        // upstream), so every slot must have come back first.
        on_drop: (meta) => {
          const nr_allocated = meta.field("nr_allocated").read();
          if (nr_allocated !== 0) panic(`${nr_allocated} slots allocated when dropping a slab`);
        },
      });
      SLAB_META_TYPES.set(slot_size, t);
      SLOT_SIZE_OF_LINK.set(Link.type(t), slot_size);
    }
    return t;
  }

  /** `capacity`: the number of slots (allocated or not). */
  capacity(): number {
    return Math.floor(PAGE_SIZE / this.slot_size);
  }

  /** `nr_allocated`. */
  nr_allocated(): number {
    return this.self_.field("nr_allocated").read();
  }

  /** The free list (`&mut self.free_list`). */
  free_list(): SlabSlotList {
    return SlabSlotList.of(this.self_.field_mut("free_list"), this.slot_size);
  }

  /** `alloc`: a free slot of the slab, or `AllocError` when it is full. */
  alloc(): Result<HeapSlot, AllocError> {
    const allocated = this.free_list().pop();
    // `crate::error!("Allocating a slot from a full slab")`.
    if (allocated === null) return Err("AllocError");
    const n = this.self_.field_mut("nr_allocated");
    n.write(n.read() + 1);
    return Ok(allocated);
  }
}

/** The inherent methods of `Slab<SLOT_SIZE>`. */
export const Slab = {
  /** The slot size of a slab (its type's `SLOT_SIZE`). */
  slot_size(slab: Slab): number {
    const n = SLOT_SIZE_OF_LINK.get(slab.kind as FrameMetaType<LinkV<SlabMetaV>>);
    if (n === undefined) panic("not a slab");
    return n;
  },

  /** `slab.meta_mut()` seen as the `SlabMeta` (through `Link`'s `DerefMut`). */
  meta_mut(slab: Slab): SlabMeta {
    return new SlabMeta(slab.meta_mut().field_mut("meta"), Slab.slot_size(slab));
  },

  /** `slab.meta()`'s counts (a shared view: capacity and allocated slots). */
  meta(slab: Slab): { capacity(): number; nr_allocated(): number } {
    const slot_size = Slab.slot_size(slab);
    const meta = slab.meta().field("meta");
    return {
      capacity: () => Math.floor(PAGE_SIZE / slot_size),
      nr_allocated: () => meta.field("nr_allocated").read(),
    };
  },

  /** `Slab::new`: a fresh slab whose slots are all free. */
  new(slot_size: number): Result<Slab, Error> {
    // The `const` assertions of `Slab::new`.
    assert(slot_size <= PAGE_SIZE, "assertion failed: SLOT_SIZE <= PAGE_SIZE");
    assert(slot_size >= 8, "assertion failed: SLOT_SIZE >= size_of::<usize>()");
    assert(PAGE_SIZE / slot_size <= 0xffff, "assertion failed: PAGE_SIZE / SLOT_SIZE <= u16::MAX");
    assert_eq(PAGE_SIZE % slot_size, 0, "a slab is cut into whole slots");

    const frame = FrameAllocOptions.new()
      .zeroed(false)
      .alloc_frame_with(Link.new(SlabMeta.type(slot_size).of({ free_list: SlabSlotList.new(), nr_allocated: 0 })));
    if (!frame.ok) return frame;
    const slab: Slab = unwrap(UniqueFrame.try_from(frame.value));

    const head_paddr = slab.paddr();
    unsafe: {
      // SAFETY: the frame is fresh, untyped and ours alone (unique). From now on its bytes are
      // heap slots: kernel objects, one per slot. (kmiri: Mirch's retype; OSTD only has the
      // metadata say the frame is typed.)
      retype_phys_pages(head_paddr, 1, "slab", slot_size);
    }
    const head_vaddr = paddr_to_vaddr(head_paddr);

    // Every slot goes to the free list (`slab.meta_mut().free_list.push(..)` for each; one
    // `&mut` to the metadata serves the whole loop).
    const free_list = Slab.meta_mut(slab).free_list();
    for (let slot_offset = 0; slot_offset < PAGE_SIZE; slot_offset += slot_size) {
      // `(head_vaddr + slot_offset) as *mut u8`: within the slab, so not null.
      const slot_ptr = ptr_from_exposed(head_vaddr + slot_offset, u8);
      unsafe: {
        // SAFETY: the slot is part of the new slab and free.
        free_list.push(HeapSlot.new(slot_ptr, SlotInfo.SlabSlot(slot_size)));
      }
    }
    return Ok(slab);
  },

  /** `Slab::dealloc`: gives a slot back to its slab; `AllocError` when the slot is not the slab's. */
  dealloc(slab: Slab, slot: HeapSlot): Result<void, AllocError> {
    const start = slab.paddr();
    if (!(start <= slot.paddr() && slot.paddr() < start + slab.size())) {
      // `crate::error!("Deallocating a slot to a slab that does not own the slot")`.
      return Err("AllocError");
    }
    const meta = Slab.meta_mut(slab);
    assert_eq(slot.size(), meta.slot_size);
    meta.free_list().push(slot);
    const n = slab.meta_mut().field_mut("meta").field_mut("nr_allocated");
    const nr_allocated = n.read();
    if (nr_allocated === 0) panic("attempt to subtract with overflow");
    n.write(nr_allocated - 1);
    return Ok(undefined);
  },
};
