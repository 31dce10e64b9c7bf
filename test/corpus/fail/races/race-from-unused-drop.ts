//@ flags: --seed 0
// OSTD's frame metadata before Asterinas PR #1752 ("Harden `ref_count` implementation of pages"),
// the data race KernMiri found. Every physical frame has a 64-byte `MetaSlot` in a static table;
// its `ref_count` is 0 both when the frame is unused and while the last handle is being dropped.
//
// - `Frame::from_unused(paddr)` claims a frame with `compare_exchange(0, 1, Acquire, Relaxed)`,
//   then writes the vtable and the metadata: a safe API, because the CAS proves the frame unused.
// - `Drop` does `fetch_sub(1, Release)`; the last handle runs `fence(Acquire)` and
//   `drop_last_in_place`, which reads the vtable and the metadata (`on_drop`) and drops it, then
//   returns the frame to the allocator.
//
// Once the dropper's `fetch_sub` reached 0, a concurrent `from_unused` of the same frame wins its
// CAS and writes new metadata while the dropper still reads the old: a data race on the
// non-atomic metadata (the CAS reads the `fetch_sub`, so it is ordered after it, but not after the
// dropper's later reads). The fixed protocol is test/corpus/pass/races/race-free-from-unused-1752.ts.
// `npx kmiri run` this file with `--many-seeds 0..200` to see how often the schedule exposes it.
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

const EMPTY_SLOT = { storage: new Array(40).fill(0), ref_count: 0n, vtable_ptr: 0, in_list: 0n };
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

/** `Frame::from_unused` (pre-#1752): a frame handle (its paddr), or null when the frame is in use. */
function from_unused(paddr: number, owner: number): number | null {
  const slot = meta_slot(paddr);
  if (!slot.field("ref_count").compare_exchange(0n, 1n, "Acquire", "Relaxed").ok) return null;
  unsafe: {
    slot.field("vtable_ptr").get().write(FRAME_META_VTABLE); //~ ERROR: data-race
    slot.field("storage").get().cast(FrameMeta).write({ owner, flags: 1 });
  }
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
