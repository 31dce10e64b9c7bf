// OSDK's `heap-allocator/src/allocator.rs` (osdk/deps/heap-allocator), re-written for kmiri: the
// default global heap allocator, injected into OSTD's heap (`../index.ts`) as the
// `#[global_heap_allocator]` is.
//
// Design, as upstream:
// - nine size classes, 8 to 2048 bytes (`CommonSizeClass`); larger layouts get whole frames
//   (`HeapSlot::alloc_large`);
// - a global pool (`GLOBAL_POOL`): one `SlabCache` per class behind a spin lock taken with local
//   interrupts disabled (lockdep class `heap_allocator::GLOBAL_POOL`);
// - per-CPU object caches (`LOCAL_POOL`, a `cpu_local!` `RefCell<LocalCache>`): one free-slot
//   list per class, used with local interrupts disabled; an empty cache refills from the pool, one
//   past `OBJ_CACHE_MAX_SIZE` spills back to it.
// The per-CPU caches live in CPU-local storage (checked memory): the `RefCell`'s borrow flag, each
// list's head and byte count; the lists' links are in the free slots. The global pool's caches
// keep their slabs in the frames' metadata (`slab_cache.ts`); the `SlabCache` objects themselves are
// what Rust keeps in the static, ordered by the lock.
import { cell, isize, panic, struct, usize, type Layout, type Ptr, type RefMut } from "kmiri/rt";
import { PAGE_SIZE } from "../../../arch/mm.js";
import { cpu_local } from "../../../arch/cpu.js";
import { Err, Ok, type Result } from "../../frame/meta.js";
import { DisabledLocalIrqGuard } from "../../../sync/guard.js";
import { SpinLock } from "../../../sync/spin.js";
import { HeapSlot, SlotInfo, type AllocError, type AllocLayout } from "../slot.js";
import { SlabSlotList, SlabSlotListLayout, type SlabSlotListV } from "../slot_list.js";
import { SlabCache } from "./slab_cache.js";
import type { GlobalHeapAllocator } from "../index.js";

/** `CommonSizeClass`: the slot sizes of the slab caches (the discriminant is the size). */
export const CommonSizeClass = {
  Bytes8: 8,
  Bytes16: 16,
  Bytes32: 32,
  Bytes64: 64,
  Bytes128: 128,
  Bytes256: 256,
  Bytes512: 512,
  Bytes1024: 1024,
  Bytes2048: 2048,
} as const;
export type CommonSizeClass = (typeof CommonSizeClass)[keyof typeof CommonSizeClass];

/** The classes, in order. */
const CLASSES: readonly CommonSizeClass[] = [8, 16, 32, 64, 128, 256, 512, 1024, 2048];

/** `CommonSizeClass::from_layout`: the class that fits the size and the alignment, or none. */
export function class_from_layout(layout: AllocLayout): CommonSizeClass | null {
  const size = layout.size;
  const size_class = CLASSES.find((c) => size <= c);
  if (size_class === undefined) return null;
  // The alignment is a power of two: 1, 2, 4 and 8 share the smallest class.
  const align = layout.align;
  const align_class = align <= 8 ? 8 : CLASSES.find((c) => c === align);
  if (align_class === undefined) return null;
  return size_class < align_class ? align_class : size_class;
}

/** `CommonSizeClass::from_size`: the class of exactly this slot size, or none. */
export function class_from_size(size: number): CommonSizeClass | null {
  return CLASSES.find((c) => c === size) ?? null;
}

/** `type_from_layout`: the slot map (`#[global_heap_allocator_slot_map]`) of this allocator. */
export function type_from_layout(layout: AllocLayout): SlotInfo | null {
  const class_ = class_from_layout(layout);
  if (class_ !== null) return SlotInfo.SlabSlot(class_);
  if (layout.size > PAGE_SIZE / 2 && layout.align <= PAGE_SIZE) {
    return SlotInfo.LargeSlot(Math.ceil(layout.size / PAGE_SIZE) * PAGE_SIZE);
  }
  return null;
}

/** `Heap`: a slab cache per class. */
class Heap {
  private readonly slabs = new Map<CommonSizeClass, SlabCache>(CLASSES.map((c) => [c, new SlabCache(c)]));

  alloc(class_: CommonSizeClass): Result<HeapSlot, AllocError> {
    return this.slabs.get(class_)!.alloc();
  }

  dealloc(slot: HeapSlot, class_: CommonSizeClass): Result<void, AllocError> {
    return this.slabs.get(class_)!.dealloc(slot);
  }
}

/** `GLOBAL_POOL: SpinLock<Heap, LocalIrqDisabled>`. */
const GLOBAL_POOL = SpinLock.static_(new Heap(), "heap_allocator::GLOBAL_POOL");

/** The largest an object cache grows, in bytes (`OBJ_CACHE_MAX_SIZE`). */
export const OBJ_CACHE_MAX_SIZE = 8 * PAGE_SIZE;
/** What an object cache is refilled or trimmed to, in bytes (`OBJ_CACHE_EXPECTED_SIZE`). */
export const OBJ_CACHE_EXPECTED_SIZE = 2 * PAGE_SIZE;

/** `ObjectCache<SLOT_SIZE>` as stored in CPU-local memory. */
interface ObjectCacheV {
  list: SlabSlotListV;
  list_size: number;
}
const ObjectCacheLayout: Layout<ObjectCacheV> = struct("ObjectCache", { list: SlabSlotListLayout, list_size: usize });

/** `&mut ObjectCache<SLOT_SIZE>`. */
class ObjectCache {
  constructor(
    private readonly self_: RefMut<ObjectCacheV>,
    private readonly slot_size: number,
  ) {}

  private list(): SlabSlotList {
    return SlabSlotList.of(this.self_.field_mut("list"), this.slot_size);
  }

  private list_size(): number {
    return this.self_.field("list_size").read();
  }

  private set_list_size(n: number): void {
    this.self_.field_mut("list_size").write(n);
  }

  alloc(): Result<HeapSlot, AllocError> {
    const slot = this.list().pop();
    if (slot !== null) {
      this.set_list_size(this.list_size() - this.slot_size);
      return Ok(slot);
    }

    // Empty: refill from the global pool.
    const size_class = class_from_size(this.slot_size)!;
    const global_pool = GLOBAL_POOL.disable_irq().lock();
    try {
      for (let i = 0; i < OBJ_CACHE_EXPECTED_SIZE / this.slot_size; i++) {
        const got = global_pool.value.alloc(size_class);
        if (!got.ok) break;
        this.list().push(got.value);
        this.set_list_size(this.list_size() + this.slot_size);
      }

      const new_slot = global_pool.value.alloc(size_class);
      if (new_slot.ok) return new_slot;
      const popped = this.list().pop();
      if (popped !== null) {
        this.set_list_size(this.list_size() - this.slot_size);
        return Ok(popped);
      }
      return Err("AllocError");
    } finally {
      global_pool.release();
    }
  }

  dealloc(slot: HeapSlot, class_: CommonSizeClass): Result<void, AllocError> {
    if (this.list_size() + this.slot_size < OBJ_CACHE_MAX_SIZE) {
      this.list().push(slot);
      this.set_list_size(this.list_size() + this.slot_size);
      return Ok(undefined);
    }

    // Full: this slot and the excess go back to the global pool.
    const global_pool = GLOBAL_POOL.disable_irq().lock();
    try {
      const r = global_pool.value.dealloc(slot, class_);
      if (!r.ok) return r;
      const excess = (this.list_size() - OBJ_CACHE_EXPECTED_SIZE) / this.slot_size;
      for (let i = 0; i < excess; i++) {
        const s = this.list().pop();
        if (s === null) panic("The cache size should be ample");
        const r2 = global_pool.value.dealloc(s, class_);
        if (!r2.ok) return r2;
        this.set_list_size(this.list_size() - this.slot_size);
      }
      return Ok(undefined);
    } finally {
      global_pool.release();
    }
  }
}

/** `LocalCache`: an object cache per class (fields `cache8` … `cache2048`). */
type LocalCacheV = Record<`cache${CommonSizeClass}`, ObjectCacheV>;
const LocalCacheLayout = struct(
  "LocalCache",
  Object.fromEntries(CLASSES.map((c) => [`cache${c}`, ObjectCacheLayout])) as Record<`cache${CommonSizeClass}`, Layout<ObjectCacheV>>,
) as Layout<LocalCacheV>;

/** `RefCell<LocalCache>`: the borrow flag (0 free, -1 mutably borrowed) and the value. */
interface RefCellLocalCacheV {
  borrow: number;
  value: LocalCacheV;
}
const RefCellLocalCache: Layout<RefCellLocalCacheV> = struct("RefCell<LocalCache>", {
  borrow: cell(isize),
  value: cell(LocalCacheLayout),
});

/** `LOCAL_POOL`: `cpu_local! { static LOCAL_POOL: RefCell<LocalCache> }`. */
const LOCAL_POOL = cpu_local(RefCellLocalCache, {
  borrow: 0,
  value: Object.fromEntries(CLASSES.map((c) => [`cache${c}`, { list: SlabSlotList.new(), list_size: 0 }])) as LocalCacheV,
});

/** `RefMut<LocalCache>`: the borrow, ended with `release()`. */
class LocalCacheRefMut {
  private constructor(
    private readonly cell_: Ptr<RefCellLocalCacheV>,
    private readonly value: RefMut<LocalCacheV>,
  ) {}

  /**
   * `LOCAL_POOL.get_with(&irq_guard).borrow_mut()`: the current CPU's cache.
   *
   * The guard (local interrupts disabled) keeps the CPU's cache to this code until it is released.
   */
  static borrow_mut(_irq_guard: DisabledLocalIrqGuard): LocalCacheRefMut {
    unsafe: {
      // SAFETY: the current CPU's instance, which lives as long as the Machine; with interrupts
      // disabled no other code on this CPU runs, and no other CPU touches it.
      const this_cache = LOCAL_POOL.as_ptr();
      const cell_ref = this_cache.as_ref();
      const flag = cell_ref.field("borrow").get();
      if (flag.read() !== 0) panic("already borrowed: BorrowMutError");
      flag.write(-1);
      // SAFETY: the flag says the value is borrowed by us alone.
      return new LocalCacheRefMut(this_cache, cell_ref.field("value").get().as_mut());
    }
  }

  private cache(class_: CommonSizeClass): ObjectCache {
    return new ObjectCache(this.value.field_mut(`cache${class_}`), class_);
  }

  alloc(class_: CommonSizeClass): Result<HeapSlot, AllocError> {
    return this.cache(class_).alloc();
  }

  dealloc(slot: HeapSlot, class_: CommonSizeClass): Result<void, AllocError> {
    return this.cache(class_).dealloc(slot, class_);
  }

  /** The bytes in the cache of a class. */
  bytes(class_: CommonSizeClass): number {
    return this.value.field(`cache${class_}`).field("list_size").read();
  }

  /** The `RefMut`'s drop: the flag goes back to 0. */
  release(): void {
    unsafe: {
      // SAFETY: as in `borrow_mut`.
      this.cell_.as_ref().field("borrow").get().write(0);
    }
  }
}

/** The bytes in the current CPU's object cache of a class (for tests: what `list_size` says). */
export function local_cache_bytes(class_: CommonSizeClass): number {
  const irq_guard = DisabledLocalIrqGuard.disable_local();
  const local_cache = LocalCacheRefMut.borrow_mut(irq_guard);
  const bytes = local_cache.bytes(class_);
  local_cache.release();
  irq_guard.release();
  return bytes;
}

/**
 * `HeapAllocator`: OSDK's global heap allocator. A unit struct: every instance uses the same
 * statics.
 */
export class HeapAllocator implements GlobalHeapAllocator {
  alloc(layout: AllocLayout): Result<HeapSlot, AllocError> {
    const class_ = class_from_layout(layout);
    if (class_ === null) return HeapSlot.alloc_large(Math.ceil(layout.size / PAGE_SIZE) * PAGE_SIZE);

    const irq_guard = DisabledLocalIrqGuard.disable_local();
    const local_cache = LocalCacheRefMut.borrow_mut(irq_guard);
    try {
      return local_cache.alloc(class_);
    } finally {
      local_cache.release();
      irq_guard.release();
    }
  }

  dealloc(slot: HeapSlot): Result<void, AllocError> {
    const class_ = class_from_size(slot.size());
    if (class_ === null) {
      slot.dealloc_large();
      return Ok(undefined);
    }

    const irq_guard = DisabledLocalIrqGuard.disable_local();
    const local_cache = LocalCacheRefMut.borrow_mut(irq_guard);
    try {
      return local_cache.dealloc(slot, class_);
    } finally {
      local_cache.release();
      irq_guard.release();
    }
  }
}
