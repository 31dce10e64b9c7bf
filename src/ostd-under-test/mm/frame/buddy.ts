// The default global frame allocator: OSTD's `osdk/deps/frame-allocator` (a buddy system with
// per-CPU caches), re-written for kmiri in a simpler shape.
//
// Design.
// - The pool: buddy free lists, one set of chunk addresses per order (a chunk of order k is 2^k
//   frames aligned to its size), in JavaScript data behind a `SpinLock` (lockdep class
//   `frame_allocator::pool`, taken with interrupts disabled). Upstream keeps the free chunks in
//   the frames' own metadata (`UniqueFrame<Link<FreeHeadMeta>>`); here the lists are plain data,
//   and the lock's Acquire/Release is what orders the CPUs.
// - Per-CPU caches of 1-, 2-, 3- and 4-frame blocks, in CPU-local storage (checked memory, so the
//   race detector sees them), used with local interrupts disabled, as upstream's `cpu_local!`
//   `RefCell` is. A cache refills from the pool by 2/3 of its capacity and spills 2/3 + 1 back.
// - The page shims: a block leaves the allocator through `alloc` (Mirch's `alloc_pages`: free ->
//   untyped) and comes back through `dealloc` (`dealloc_pages`: back to free), so a frame in a
//   cache or the pool is a free page to Mirch, and any use of it is a `page-state` report.
import { array, panic, struct, usize, type Ptr } from "kmiri/rt";
import { PAGE_SIZE, alloc_phys_pages, dealloc_phys_pages, type Paddr } from "../../arch/mm.js";
import { cpu_local, type CpuLocal } from "../../arch/cpu.js";
import { irq_disable_local, irq_restore_local } from "../../arch/irq.js";
import { SpinLock } from "../../sync/spin.js";
import type { FrameLayout, GlobalFrameAllocator } from "./allocator.js";

/** The largest buddy order (2^MAX_ORDER frames: 4 GiB). */
const MAX_ORDER = 20;

function size_of_order(order: number): number {
  return 2 ** order * PAGE_SIZE;
}

/** The smallest order whose chunk holds `size` bytes. */
export function greater_order_of(size: number): number {
  const frames = Math.ceil(size / PAGE_SIZE);
  let order = 0;
  while (2 ** order < frames) order++;
  return order;
}

/** The largest order whose chunk fits in `size` bytes. */
export function lesser_order_of(size: number): number {
  const frames = Math.floor(size / PAGE_SIZE);
  let order = 0;
  while (2 ** (order + 1) <= frames) order++;
  return order;
}

/** The largest order a chunk starting at `addr` can have (its alignment). */
function max_order_from(addr: Paddr): number {
  let order = 0;
  while (order < MAX_ORDER && addr % size_of_order(order + 1) === 0) order++;
  return order;
}

/** `[addr, addr + size)` as buddy chunks, each as large as its alignment and the rest allow. */
export function split_to_chunks(addr: Paddr, size: number): [Paddr, number][] {
  if (addr % PAGE_SIZE !== 0 || size % PAGE_SIZE !== 0) panic("split_to_chunks of an unaligned range");
  const out: [Paddr, number][] = [];
  while (size > 0) {
    const order = Math.min(max_order_from(addr), lesser_order_of(size));
    out.push([addr, order]);
    addr += size_of_order(order);
    size -= size_of_order(order);
  }
  return out;
}

/** The buddy pool: free chunks by order. */
class Pool {
  readonly free: Set<Paddr>[] = Array.from({ length: MAX_ORDER + 1 }, () => new Set<Paddr>());

  /** Inserts a chunk, merging it with its free buddies. */
  insert(addr: Paddr, order: number): void {
    while (order < MAX_ORDER) {
      const sz = size_of_order(order);
      const buddy = (addr / sz) % 2 === 0 ? addr + sz : addr - sz;
      if (!this.free[order]!.delete(buddy)) break;
      addr = Math.min(addr, buddy);
      order++;
    }
    this.free[order]!.add(addr);
  }

  /** Takes a chunk of `order`, splitting a larger one if needed. */
  take(order: number): Paddr | null {
    let k = order;
    while (k <= MAX_ORDER && this.free[k]!.size === 0) k++;
    if (k > MAX_ORDER) return null;
    const set = this.free[k]!;
    const addr = set.values().next().value as Paddr;
    set.delete(addr);
    // Give back the upper halves until the chunk has the order asked for.
    while (k > order) {
      k--;
      this.free[k]!.add(addr + size_of_order(k));
    }
    return addr;
  }

  alloc(layout: FrameLayout): Paddr | null {
    const order = Math.max(greater_order_of(layout.size), greater_order_of(layout.align));
    if (order > MAX_ORDER) return null;
    const addr = this.take(order);
    if (addr === null) return null;
    // The tail of the chunk past the size asked for goes back.
    const chunk = size_of_order(order);
    if (layout.size < chunk) this.dealloc(addr + layout.size, chunk - layout.size);
    return addr;
  }

  dealloc(addr: Paddr, size: number): void {
    for (const [a, order] of split_to_chunks(addr, size)) this.insert(a, order);
  }
}

/** A per-CPU cache of blocks of `nr_frames` frames: a small stack of addresses. */
interface CacheArrayV {
  inner: number[];
  size: number;
}

/** The capacities of the caches of 1-, 2-, 3- and 4-frame blocks (as upstream's). */
const CACHE_COUNTS = [12, 6, 6, 6] as const;

interface CacheOfSizesV {
  cache1: CacheArrayV;
  cache2: CacheArrayV;
  cache3: CacheArrayV;
  cache4: CacheArrayV;
}

const CacheArray = (count: number) => struct(`CacheArray<${count}>`, { inner: array(usize, count), size: usize });
const CacheOfSizes = struct("CacheOfSizes", {
  cache1: CacheArray(12),
  cache2: CacheArray(6),
  cache3: CacheArray(6),
  cache4: CacheArray(6),
});
const CACHE_KEYS = ["cache1", "cache2", "cache3", "cache4"] as const;

/** The buddy allocator with per-CPU caches (`FrameAllocator`). */
export class BuddyFrameAllocator implements GlobalFrameAllocator {
  private readonly pool = SpinLock.static_(new Pool(), "frame_allocator::pool");
  private readonly cache: CpuLocal<CacheOfSizesV>;

  constructor() {
    const empty = (count: number): CacheArrayV => ({ inner: new Array<number>(count).fill(0), size: 0 });
    this.cache = cpu_local(CacheOfSizes, { cache1: empty(12), cache2: empty(6), cache3: empty(6), cache4: empty(6) });
  }

  private pool_alloc(layout: FrameLayout): Paddr | null {
    const guard = this.pool.lock();
    try {
      return guard.value.alloc(layout);
    } finally {
      guard.release();
    }
  }

  private pool_dealloc(blocks: readonly [Paddr, number][]): void {
    const guard = this.pool.lock();
    try {
      for (const [addr, size] of blocks) guard.value.dealloc(addr, size);
    } finally {
      guard.release();
    }
  }

  /**
   * The current CPU's cache for `nr_frames`-frame blocks.
   *
   * # Safety: local interrupts are disabled (no migration, no handler on this CPU).
   */
  private cache_array(nr_frames: number): Ptr<CacheArrayV> {
    "unsafe";
    return this.cache.as_ptr().field(CACHE_KEYS[nr_frames - 1]!) as Ptr<CacheArrayV>;
  }

  private cached_alloc(layout: FrameLayout): Paddr | null {
    const nr_frames = layout.size / PAGE_SIZE;
    if (layout.align > layout.size || nr_frames > 4) return this.pool_alloc(layout);
    const count = CACHE_COUNTS[nr_frames - 1]!;
    const block = nr_frames * PAGE_SIZE;
    unsafe: {
      // SAFETY: interrupts are disabled, so this CPU's cache is ours alone until we return.
      const c = this.cache_array(nr_frames).as_mut();
      const size = c.field("size").read();
      if (size > 0) {
        c.field_mut("size").write(size - 1);
        return c.field("inner").index(size - 1).read();
      }
      const nr_to_alloc = Math.floor((count * 2) / 3);
      const allocated = this.pool_alloc({ size: nr_to_alloc * block, align: PAGE_SIZE });
      if (allocated === null) return null;
      for (let i = 1; i < nr_to_alloc; i++) c.field_mut("inner").index_mut(i - 1).write(allocated + i * block);
      c.field_mut("size").write(nr_to_alloc - 1);
      return allocated;
    }
  }

  private cached_dealloc(addr: Paddr, size: number): void {
    const nr_frames = size / PAGE_SIZE;
    if (nr_frames > 4) return this.pool_dealloc([[addr, size]]);
    const count = CACHE_COUNTS[nr_frames - 1]!;
    unsafe: {
      // SAFETY: interrupts are disabled, so this CPU's cache is ours alone until we return.
      const c = this.cache_array(nr_frames).as_mut();
      const n = c.field("size").read();
      if (n < count) {
        c.field_mut("inner").index_mut(n).write(addr);
        c.field_mut("size").write(n + 1);
        return;
      }
      // Full: spill this block and the 2/3 most recent ones to the pool.
      const nr_to_dealloc = Math.floor((count * 2) / 3) + 1;
      const blocks: [Paddr, number][] = [[addr, size]];
      for (let i = 1; i < nr_to_dealloc; i++) blocks.push([c.field("inner").index(n - i).read(), size]);
      c.field_mut("size").write(n - (nr_to_dealloc - 1));
      this.pool_dealloc(blocks);
    }
  }

  alloc(layout: FrameLayout): Paddr | null {
    if (layout.size % PAGE_SIZE !== 0 || layout.size === 0) panic("frame allocation of a size that is not a page multiple");
    const was = irq_disable_local();
    let res: Paddr | null;
    try {
      res = this.cached_alloc(layout);
    } finally {
      irq_restore_local(was);
    }
    if (res !== null) {
      unsafe: {
        // SAFETY: the allocator's bookkeeping says these pages were free; they are the caller's now.
        // One allocation per page: OSTD frees a segment's frames one by one, and freeing a page of
        // a many-page allocation makes kmiri split it (copying what stays into a new piece).
        for (let i = 0; i < layout.size / PAGE_SIZE; i++) alloc_phys_pages(res + i * PAGE_SIZE, 1);
      }
    }
    return res;
  }

  dealloc(addr: Paddr, size: number): void {
    unsafe: {
      // SAFETY: OSTD gives back only frames no one uses any more (their last handle went).
      dealloc_phys_pages(addr, size / PAGE_SIZE);
    }
    const was = irq_disable_local();
    try {
      this.cached_dealloc(addr, size);
    } finally {
      irq_restore_local(was);
    }
  }

  add_free_memory(addr: Paddr, size: number): void {
    const was = irq_disable_local();
    try {
      this.pool_dealloc([[addr, size]]);
    } finally {
      irq_restore_local(was);
    }
  }
}
