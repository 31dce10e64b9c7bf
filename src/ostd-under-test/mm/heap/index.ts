// OSTD's `mm/heap/mod.rs` (ostd/src/mm/heap/mod.rs), re-written for kmiri: the kernel heap.
//
// OSTD does not implement the heap itself. It offers the safe pieces — slabs (`Slab`, `SlabMeta`),
// heap slots (`HeapSlot`, `SlotInfo`) and the free-slot list (`SlabSlotList`) — and a user crate
// supplies the allocator (`GlobalHeapAllocator`, registered with `#[global_heap_allocator]`) and
// the map from layouts to slot sizes (`#[global_heap_allocator_slot_map]`). OSTD's own
// `#[global_allocator]`, `AllocDispatch`, forwards every allocation to that allocator and aborts
// when the slot it gets back does not fit the layout, so a faulty allocator cannot make the heap
// hand out too little or misaligned memory.
//
// Design. The two registrations are `global_heap_allocator(a)` and
// `global_heap_allocator_slot_map(f)`, made before the first allocation (as the frame allocator's
// `global_frame_allocator`); without them the heap uses the default, OSDK's slab allocator
// (`allocator/`: `HeapAllocator` and `type_from_layout`). That allocator is a unit struct whose
// state is statics (made when its module loads), so there is no initialisation step: the heap is
// ready on every Machine from its first allocation on. `HEAP_ALLOCATOR` is the `#[global_allocator]`:
// `alloc(layout)` and `dealloc(ptr, layout)` are `GlobalAlloc`'s unsafe methods. (kmiri's own
// `Box`/`alloc` are the Rust runtime's heap and stay separate from this kernel heap.)
import { null_mut, panic, u8, type Ptr } from "kmiri/rt";
import { abort, type Result } from "../frame/meta.js";
import { HeapAllocator, type_from_layout } from "./allocator/allocator.js";
import { HeapSlot, fmt_layout, type AllocError, type AllocLayout, type SlotInfo } from "./slot.js";

export { Slab, SlabMeta, type SlabMetaV } from "./slab.js";
export { HeapSlot, LargeAllocFrameMeta, SlotInfo, type AllocError, type AllocLayout } from "./slot.js";
export { SlabSlotList, SlabSlotListLayout, type SlabSlotListV } from "./slot_list.js";

/**
 * `GlobalHeapAllocator`: what a kernel heap implements on top of OSTD's slabs and slots.
 *
 * `alloc` returns a slot valid for the layout (at least its size, at least its alignment) whose
 * size is the one the slot map gives for the layout. `dealloc` takes back a slot from an earlier
 * `alloc`, exactly once, as it was handed out.
 */
export interface GlobalHeapAllocator {
  alloc(layout: AllocLayout): Result<HeapSlot, AllocError>;
  dealloc(slot: HeapSlot): Result<void, AllocError>;
}

/** The map from layouts to slots (`#[global_heap_allocator_slot_map]`); idempotent (a `const fn`). */
export type SlotMap = (layout: AllocLayout) => SlotInfo | null;

let GLOBAL_HEAP_ALLOCATOR_REF: GlobalHeapAllocator | null = null;
let GLOBAL_HEAP_SLOT_MAP: SlotMap | null = null;
/** Whether the heap has been used (the registrations are link-time in OSTD: none after that). */
let HEAP_IN_USE = false;

/** OSDK's allocator, used when none is registered (a unit struct: one instance is all). */
const DEFAULT_HEAP_ALLOCATOR = new HeapAllocator();

/** `#[global_heap_allocator]`: registers the heap's allocator (once, before the first allocation). */
export function global_heap_allocator(allocator: GlobalHeapAllocator): void {
  if (GLOBAL_HEAP_ALLOCATOR_REF !== null || HEAP_IN_USE) panic("the global heap allocator is registered already");
  GLOBAL_HEAP_ALLOCATOR_REF = allocator;
}

/** `#[global_heap_allocator_slot_map]`: registers the slot map (once, before the first allocation). */
export function global_heap_allocator_slot_map(slot_map: SlotMap): void {
  if (GLOBAL_HEAP_SLOT_MAP !== null || HEAP_IN_USE) panic("the global heap slot map is registered already");
  GLOBAL_HEAP_SLOT_MAP = slot_map;
}

/** `get_global_heap_allocator`: the registered allocator (OSDK's by default). */
function get_global_heap_allocator(): GlobalHeapAllocator {
  HEAP_IN_USE = true;
  return GLOBAL_HEAP_ALLOCATOR_REF ?? DEFAULT_HEAP_ALLOCATOR;
}

/** `slot_size_from_layout`: the slot the map gives for a layout. */
function slot_size_from_layout(layout: AllocLayout): SlotInfo | null {
  HEAP_IN_USE = true;
  return (GLOBAL_HEAP_SLOT_MAP ?? type_from_layout)(layout);
}

/** `#[alloc_error_handler]`: an allocation failed where it may not (`handle_alloc_error`). */
export function handle_alloc_error(layout: AllocLayout): never {
  abort(`Heap allocation error, layout = ${fmt_layout(layout)}`);
}

/** OSTD's `#[global_allocator]`. */
class AllocDispatch {
  // TODO upstream: keep a panicking user allocator from unwinding through here.

  /**
   * `GlobalAlloc::alloc`: memory for `layout` (uninitialised), or a null pointer when the
   * allocator has none. Aborts when the map knows no slot for the layout, or the allocator hands
   * out a slot that does not fit it.
   *
   * # Safety: `layout` has a non-zero size.
   */
  alloc(layout: AllocLayout): Ptr<number> {
    "unsafe";
    const required_slot = slot_size_from_layout(layout);
    if (required_slot === null) abort(`Heap allocation size not found for layout = ${fmt_layout(layout)}`);

    const res = get_global_heap_allocator().alloc(layout);
    if (!res.ok) return null_mut(u8);
    const slot = res.value;

    if (required_slot.size() !== slot.size() || slot.size() < layout.size || slot.as_ptr().addr() % layout.align !== 0) {
      abort(
        `Heap allocation mismatch: slot ptr = 0x${slot.as_ptr().addr().toString(16)}, size = ${slot.size().toString(16)}; ` +
          `layout = ${fmt_layout(layout)}; required_slot = ${required_slot}`,
      );
    }
    return slot.as_ptr();
  }

  /**
   * `GlobalAlloc::dealloc`: gives back memory of an earlier `alloc` with the same layout.
   *
   * # Safety: `ptr` came from `alloc(layout)` and is given back once.
   */
  dealloc(ptr: Ptr<number>, layout: AllocLayout): void {
    "unsafe";
    // The slot is rebuilt from the pointer and the layout.
    const required_slot = slot_size_from_layout(layout);
    if (required_slot === null) abort(`Heap deallocation size not found for layout = ${fmt_layout(layout)}`);

    // SAFETY: the caller gives back what `alloc` handed out; the slot's size is what it was then,
    // because the slot map is idempotent.
    const slot = HeapSlot.new(ptr, required_slot);
    const res = get_global_heap_allocator().dealloc(slot);
    if (!res.ok) {
      abort(
        `Heap deallocation error, ptr = 0x${ptr.addr().toString(16)}, layout = ${fmt_layout(layout)}, ` +
          `required_slot = ${required_slot}`,
      );
    }
  }
}

/** The kernel heap (`static HEAP_ALLOCATOR: AllocDispatch`). */
export const HEAP_ALLOCATOR = new AllocDispatch();
