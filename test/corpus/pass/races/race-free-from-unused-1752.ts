//@ flags: --many-seeds 0..50
// OSTD's frame metadata after Asterinas PR #1752 (commit f03ffd0d1, "Use `REF_COUNT_UNUSED` to
// ensure exclusive access"): the fix of test/corpus/fail/races/race-from-unused-drop.ts. A free slot's
// `ref_count` is `REF_COUNT_UNUSED` (u64::MAX) and 0 means *busy* (being built or torn down):
//
// - `from_unused` claims with `compare_exchange(REF_COUNT_UNUSED, 0, Acquire, Relaxed)`, writes
//   the vtable and the metadata, then publishes with `store(1, Release)`;
// - the last `Drop` (`fetch_sub(1, Release)` reached 0: busy) runs `fence(Acquire)` and
//   `drop_last_in_place`, which ends with `store(REF_COUNT_UNUSED, Release)`.
//
// A concurrent `from_unused` of a frame being dropped now fails (the count is 0, not UNUSED), and
// one that succeeds afterwards read the dropper's release store: everything the dropper did to the
// metadata happens before the new owner writes it. Clean on every seed (the README measures 200).
import {
  AtomicBool, AtomicU64, array, cell, fence, lock_acquired, lock_released, spawn, spin_loop,
  static_, struct, u32, u64, u8, usize, type Ref,
} from "kmiri/rt";

const PAGE_SIZE = 4096;
const NR_FRAMES = 4;
/** What `FrameMeta` stores in the slot (OSTD: `impl_frame_meta_for!`). */
const FrameMeta = struct("FrameMeta", { owner: u32, flags: u32 });
const MetaSlot = struct("MetaSlot", {
  storage: cell(array(u8, 40)),
  ref_count: AtomicU64,
  vtable_ptr: cell(usize),
  in_list: AtomicU64,
});
const FRAME_META_VTABLE = 0xf00d;

/** `REF_COUNT_UNUSED`: the slot is free. */
const REF_COUNT_UNUSED = 0xffff_ffff_ffff_ffffn;
const EMPTY_SLOT = { storage: new Array(40).fill(0), ref_count: REF_COUNT_UNUSED, vtable_ptr: 0, in_list: 0n };
const FRAME_METADATA = static_(array(MetaSlot, NR_FRAMES), Array.from({ length: NR_FRAMES }, () => EMPTY_SLOT), { name: "FRAME_METADATA" });

/** The frame allocator: a free bitmap behind OSTD's kind of spin lock. */
const Allocator = struct("FrameAllocator", { lock: AtomicBool, free: cell(u64) });
const FRAME_ALLOCATOR = static_(Allocator, { lock: false, free: 0b1111n }, { name: "FRAME_ALLOCATOR" });

function lock(a: Ref<{ lock: boolean; free: bigint }>): void {
  const l = a.field("lock");
  while (!l.compare_exchange(false, true, "Acquire", "Relaxed").ok) spin_loop();
  lock_acquired(l);
}

function unlock(a: Ref<{ lock: boolean; free: bigint }>): void {
  const l = a.field("lock");
  lock_released(l);
  l.store(false, "Release");
}

function alloc_paddr(): number {
  const a = FRAME_ALLOCATOR.as_ref();
  lock(a);
  let paddr = -1;
  unsafe: {
    const free = a.field("free").get();
    const bits = free.read();
    for (let i = 0; i < NR_FRAMES; i++) {
      if (bits & (1n << BigInt(i))) {
        free.write(bits & ~(1n << BigInt(i)));
        paddr = i * PAGE_SIZE;
        break;
      }
    }
  }
  unlock(a);
  return paddr;
}

function dealloc_paddr(paddr: number): void {
  const a = FRAME_ALLOCATOR.as_ref();
  lock(a);
  unsafe: {
    const free = a.field("free").get();
    free.write(free.read() | (1n << BigInt(paddr / PAGE_SIZE)));
  }
  unlock(a);
}

function meta_slot(paddr: number): Ref<typeof EMPTY_SLOT> {
  return FRAME_METADATA.as_ref().index(paddr / PAGE_SIZE) as Ref<typeof EMPTY_SLOT>;
}

/** `Frame::from_unused` (#1752): a frame handle (its paddr), or null when the frame is in use or busy. */
function from_unused(paddr: number, owner: number): number | null {
  const slot = meta_slot(paddr);
  const rc = slot.field("ref_count");
  if (!rc.compare_exchange(REF_COUNT_UNUSED, 0n, "Acquire", "Relaxed").ok) return null;
  unsafe: {
    slot.field("vtable_ptr").get().write(FRAME_META_VTABLE);
    slot.field("storage").get().cast(FrameMeta).write({ owner, flags: 1 });
  }
  rc.store(1n, "Release");
  return paddr;
}

/** `drop_last_in_place`: reads the vtable, runs `on_drop` on the metadata, drops it in place. */
function drop_last_in_place(paddr: number): number {
  const slot = meta_slot(paddr);
  unsafe: {
    const vtable = slot.field("vtable_ptr").get().read();
    const meta = slot.field("storage").get().cast(FrameMeta);
    const owner = vtable === FRAME_META_VTABLE ? meta.read().owner : 0;
    meta.write({ owner: 0, flags: 0 });
    // The slot is free again; pairs with the Acquire of the next `from_unused`.
    slot.field("ref_count").store(REF_COUNT_UNUSED, "Release");
    return owner;
  }
}

/** `impl Drop for Frame`. */
function drop_frame(paddr: number): void {
  const slot = meta_slot(paddr);
  if (slot.field("ref_count").fetch_sub(1n, "Release") === 1n) {
    fence("Acquire");
    drop_last_in_place(paddr);
    dealloc_paddr(paddr);
  }
}

/** `FrameAllocOptions::alloc_frame`. */
function alloc_frame(owner: number): number {
  const paddr = alloc_paddr();
  const f = from_unused(paddr, owner);
  if (f === null) throw new Error("page already in use");
  return f;
}

export function main(): void {
  const frame = alloc_frame(7);
  // cpu1 drops the last handle of the frame.
  const dropper = spawn(() => drop_frame(frame));
  // cpu2 claims whatever frame it finds unused, through the safe `from_unused`.
  const claimer = spawn(() => {
    for (let paddr = 0; paddr < NR_FRAMES * PAGE_SIZE; paddr += PAGE_SIZE) {
      const f = from_unused(paddr, 9);
      if (f !== null) return f;
    }
    return null;
  });
  dropper.join();
  claimer.join();
  console.log("done");
}
