// OSTD's `mm/heap/slot_list.rs` (ostd/src/mm/heap/slot_list.rs), re-written for kmiri: the free
// list of slab slots, an intrusive singly linked list whose links are stored in the free slots
// themselves (the first word of a free slot holds the address of the next one, 0 at the end).
//
// Design. A `SlabSlotList<SLOT_SIZE>` is a value that lives in memory — inside a slab's metadata
// (`SlabMeta::free_list`, in the frame-metadata array) or inside a per-CPU object cache
// (`mm/heap/allocator`) — so its `head` is the field of a struct in checked memory, and a
// `SlabSlotList` object here is what `&mut SlabSlotList<SLOT_SIZE>` is in Rust: a `RefMut` to that
// struct plus the slot size (a const generic in Rust). `SlabSlotList.new()` is the value an empty
// list is initialised with.
import { assert_eq, null_mut, panic, ptr, ptr_from_exposed, struct, u8, usize, type Layout, type Ptr, type RefMut } from "kmiri/rt";
import { HeapSlot, SlotInfo } from "./slot.js";

/** `SlabSlotList` as stored in memory: `head: Option<NonNull<u8>>` (null is `None`). */
export interface SlabSlotListV {
  head: Ptr<number>;
}

/** The layout of a `SlabSlotList` (any slot size: the size is a type parameter only). */
export const SlabSlotListLayout: Layout<SlabSlotListV> = struct("SlabSlotList", { head: ptr(u8) });

/** `&mut SlabSlotList<SLOT_SIZE>`. */
export class SlabSlotList {
  // SAFETY (why Rust may mark it `Send`/`Sync`): every access to the slots the list links goes
  // through a `&mut SlabSlotList`, so one task at a time touches them, and a slot in the list is
  // free, so the heap hands it to no one else while it stays there.
  private constructor(
    private readonly self_: RefMut<SlabSlotListV>,
    readonly slot_size: number,
  ) {}

  /** `SlabSlotList::new()`: the value of an empty list. */
  static new(): SlabSlotListV {
    return { head: null_mut(u8) };
  }

  /** The list at `list`, of slots of `slot_size` bytes. */
  static of(list: RefMut<SlabSlotListV>, slot_size: number): SlabSlotList {
    // `const { assert!(SLOT_SIZE >= size_of::<usize>()) }`: a slot must hold the link.
    if (slot_size < 8) panic("a slab slot must hold a `usize`");
    return new SlabSlotList(list, slot_size);
  }

  /**
   * `push`: puts a free slot at the front. Panics when the slot is not a slab slot, or not of
   * this list's size.
   */
  push(slot: HeapSlot): void {
    const slot_ptr = slot.as_ptr();
    const info = slot.info();
    if (info.kind !== "SlabSlot") panic("The slot does not come from a slab");
    assert_eq(info.size(), this.slot_size);

    const original_head = this.self_.read().head;
    this.self_.write({ head: slot_ptr });
    unsafe: {
      // SAFETY: a slot given to the list is free, so it may be written; it holds at least a
      // `usize` (the assertion above). The link is the address (`h.as_ptr() as usize`), 0 at the end.
      slot_ptr.cast(usize).write(original_head.is_null() ? 0 : original_head.expose_provenance());
    }
  }

  /** `pop`: takes the slot at the front, or `null` when the list is empty. */
  pop(): HeapSlot | null {
    const original_head = this.self_.read().head;
    if (original_head.is_null()) return null;

    let next_addr: number;
    unsafe: {
      // SAFETY: the head is a free slot of the list; its first word links the next one.
      next_addr = original_head.cast(usize).read();
    }
    // `next as *mut u8`: the linked slot, as a `*mut u8` made from its address.
    this.self_.write({ head: next_addr === 0 ? null_mut(u8) : ptr_from_exposed(next_addr, u8) });

    unsafe: {
      // SAFETY: the slot was in the list, so it is a free slot of a slab of this size.
      return HeapSlot.new(original_head, SlotInfo.SlabSlot(this.slot_size));
    }
  }
}
