//@ flags: --many-seeds 0..16
// Asterinas PR #1752, after commit f03ffd0d1 ("Use `REF_COUNT_UNUSED` to ensure exclusive
// access"): the fix of before.ts. A free slot's count is `REF_COUNT_UNUSED` (u32::MAX) and 0 now
// means busy (being constructed or torn down):
// - `from_unused` claims with `compare_exchange(REF_COUNT_UNUSED, 0, Acquire)`, writes the
//   metadata, then sets the count to 1;
// - `drop_last_in_place` ends with `store(REF_COUNT_UNUSED, Release)`, which pairs with that
//   Acquire.
// A `from_unused` during the drop fails (the count is 0, not UNUSED); one that succeeds read the
// dropper's release store, so everything the dropper did to the metadata happens before it.
import { AtomicU32, array, cell, fence, maybe_uninit, spawn, spin_loop, static_, struct, u32, u8, usize, type Ref } from "kmiri/rt";

const PAGE_SIZE = 4096;
const PAGE_METADATA_MAX_SIZE = 16;
/** `#[repr(C)] struct MetaSlot` (shrunk: the metadata storage is 16 bytes here). */
const MetaSlot = struct("MetaSlot", {
  storage: cell(array(u8, PAGE_METADATA_MAX_SIZE)),
  ref_count: AtomicU32,
  vtable_ptr: cell(maybe_uninit(usize)),
});
type MetaSlotV = { storage: number[]; ref_count: number; vtable_ptr: number };
/** The metadata type of the page (`FrameMeta`), and its "vtable". */
const FrameMeta = struct("FrameMeta", { owner: u32, flags: u32 });
const FRAME_META_VTABLE = 0xf00d;

/** The count of a slot whose page is not in use. */
const REF_COUNT_UNUSED = 0xffff_ffff;
const EMPTY = { storage: new Array<number>(PAGE_METADATA_MAX_SIZE).fill(0), ref_count: REF_COUNT_UNUSED, vtable_ptr: 0 };
/** The metadata slots, at `FRAME_METADATA_BASE` in OSTD. */
const SLOTS = static_(array(MetaSlot, 2), [EMPTY, EMPTY], { name: "FRAME_METADATA" });

function slot_of(paddr: number): Ref<MetaSlotV> {
  return SLOTS.as_ref().index(paddr / PAGE_SIZE);
}

/** `unsafe { &mut *slot.vtable_ptr.get() }`: "we have exclusive access to the page metadata". */
function vtable_mut(slot: Ref<MetaSlotV>) {
  "unsafe";
  return slot.field("vtable_ptr").get().as_mut();
}

/** `Page::from_unused`: a handle (the paddr), or null when the page is in use or busy. */
function from_unused(paddr: number, owner: number): number | null {
  const slot = slot_of(paddr);
  const ref_count = slot.field("ref_count");
  if (!ref_count.compare_exchange(REF_COUNT_UNUSED, 0, "Acquire", "Relaxed").ok) return null;
  unsafe: {
    vtable_mut(slot).write(FRAME_META_VTABLE);
    slot.field("storage").get().cast(FrameMeta).write({ owner, flags: 1 });
  }
  ref_count.store(1, "Relaxed"); // no one makes a handle from the address alone
  return paddr;
}

/** `drop_last_in_place`: reads the vtable, runs `on_drop`, drops the metadata in place. */
function drop_last_in_place(paddr: number): number {
  const slot = slot_of(paddr);
  unsafe: {
    const vtable = vtable_mut(slot).read();
    const meta = slot.field("storage").get().cast(FrameMeta);
    const owner = vtable === FRAME_META_VTABLE ? meta.read().owner : 0; // `on_drop`
    meta.write({ owner: 0, flags: 0 }); // `drop_in_place`
    // Free again; pairs with the Acquire of the next `from_unused`.
    slot.field("ref_count").store(REF_COUNT_UNUSED, "Release");
    return owner;
  }
}

/** `impl Drop for Page<M>`. */
function drop_page(paddr: number): void {
  const slot = slot_of(paddr);
  if (slot.field("ref_count").fetch_sub(1, "Release") === 1) {
    fence("Acquire");
    drop_last_in_place(paddr);
  }
}

export function main(): void {
  const page = from_unused(PAGE_SIZE, 7)!;
  const dropper = spawn(() => drop_page(page)); // the last handle goes away on cpu1
  const claimer = spawn(() => {
    // cpu2 claims the same page as soon as `from_unused` lets it.
    let p: number | null;
    while ((p = from_unused(PAGE_SIZE, 9)) === null) spin_loop();
    drop_page(p);
  });
  dropper.join();
  claimer.join();
}
