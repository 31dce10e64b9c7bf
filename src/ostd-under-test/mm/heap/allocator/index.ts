// OSDK's `heap-allocator` crate (osdk/deps/heap-allocator/src/lib.rs), re-written for kmiri: the
// default kernel heap that OSTD's `mm/heap` is given (`HeapAllocator` and its slot map
// `type_from_layout`), the allocator of dynamically allocated CPU-local objects, and the count of
// memory held by the slab caches. The parts:
//   allocator.ts            size classes, the global pool, the per-CPU object caches, `HeapAllocator`
//   slab_cache.ts           `SlabCache`: empty, partial and full slabs of one slot size
//   slab_counter.ts         `SlabCounter` (per-CPU) and `TOTAL_SLAB_ALLOCATED`
//   cpu_local_allocator.ts  `alloc_cpu_local`, `CpuLocalBox`
//   dyn_cpu_local.ts        OSTD's `DynCpuLocalChunk`, which the CPU-local allocator builds on
import { TOTAL_SLAB_ALLOCATED } from "./slab_counter.js";

export { HeapAllocator, type_from_layout, CommonSizeClass, OBJ_CACHE_EXPECTED_SIZE, OBJ_CACHE_MAX_SIZE, local_cache_bytes } from "./allocator.js";
export { CpuLocalBox, alloc_cpu_local } from "./cpu_local_allocator.js";
export { SlabCache } from "./slab_cache.js";
export { TOTAL_SLAB_ALLOCATED } from "./slab_counter.js";

/** `load_total_slab_size`: bytes of memory committed to the slab caches. */
export function load_total_slab_size(): number {
  return TOTAL_SLAB_ALLOCATED.get();
}
