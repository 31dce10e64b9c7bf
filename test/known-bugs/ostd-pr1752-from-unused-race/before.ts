//@ flags: --many-seeds 0..16
// Asterinas PR #1752, before commit f03ffd0d1: `Page::from_unused` racing the last `Drop` of the
// same page (ostd/src/mm/page/{mod,meta}.rs). A page's `MetaSlot` has a reference count that is 0
// both when the page is unused and while its last handle is being dropped:
// - `from_unused(paddr)` (a safe function) claims the page with `compare_exchange(0, 1, Acquire)`,
//   then, "having exclusive access", takes `&mut` to the vtable and writes the new metadata;
// - `Drop` does `fetch_sub(1, Release)`; the last one runs `fence(Acquire)` and
//   `drop_last_in_place`, which also takes `&mut` to the vtable, reads it, runs `on_drop` on the
//   old metadata and drops it.
// Once the dropper's count reaches 0, a concurrent `from_unused` wins its CAS and works on the
// metadata while the dropper still does: both claim exclusive access, and their accesses are not
// ordered (the CAS reads the `fetch_sub`, not what the dropper does after it). kmiri reports the
// second `&mut` retag of the vtable (a write, as in Miri) as a data race.
// Model: `from_unused` returns null where OSTD panicked ("Page already in use"), so that the
// claimer can retry as OSTD's later `Frame::from_unused` callers do on `Err(InUse)`.
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

const EMPTY = { storage: new Array<number>(PAGE_METADATA_MAX_SIZE).fill(0), ref_count: 0, vtable_ptr: 0 };
/** The metadata slots, at `FRAME_METADATA_BASE` in OSTD. */
const SLOTS = static_(array(MetaSlot, 2), [EMPTY, EMPTY], { name: "FRAME_METADATA" });

function slot_of(paddr: number): Ref<MetaSlotV> {
  return SLOTS.as_ref().index(paddr / PAGE_SIZE);
}

/** `unsafe { &mut *slot.vtable_ptr.get() }`: "we have exclusive access to the page metadata". */
function vtable_mut(slot: Ref<MetaSlotV>) {
  "unsafe";
  return slot.field("vtable_ptr").get().as_mut(); //~ ERROR: data-race
}

/** `Page::from_unused`: a handle (the paddr), or null when the page is in use. */
function from_unused(paddr: number, owner: number): number | null {
  const slot = slot_of(paddr);
  if (!slot.field("ref_count").compare_exchange(0, 1, "Acquire", "Relaxed").ok) return null;
  unsafe: {
    vtable_mut(slot).write(FRAME_META_VTABLE);
    slot.field("storage").get().cast(FrameMeta).write({ owner, flags: 1 });
  }
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
