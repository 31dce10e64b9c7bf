/**
 * The guest APIs: every module a program may import besides its own files, declared once. The
 * loader resolves these names (src/interp/loader/resolve.ts), the compiler's yield-point analysis
 * reads their scheduling points (src/interp/compile/yield-points.ts), and each runtime — checked
 * (src/shims/checked/runtime.ts) and native (src/shims/native/runtime.ts) — provides one namespace
 * per entry. Adding a guest API is adding an entry here and its two namespaces.
 *
 * Plain data: this module imports nothing.
 */

/** One guest API: its import name and what the compiler must know of its functions. */
export interface GuestApiManifest {
  /** The import specifier (`kmiri/rt`). */
  readonly name: string;
  /** What it is, in a few words (for docs and errors). */
  readonly description: string;
  /**
   * Names of its functions and methods that are scheduling points — that may give up the CPU, or
   * whose order between threads is visible (atomics, spawn/join, lock annotations). A function of
   * the program that can reach one is compiled to a generator.
   */
  readonly schedulingPoints: readonly string[];
  /** Names of its functions and methods that never reach a scheduling point. */
  readonly neverYields: readonly string[];
}

/** `kmiri/rt`: the Rust-like runtime (memory, references, threads, atomics, panics, tests). */
export const RT_API: GuestApiManifest = {
  name: "kmiri/rt",
  description: "the Rust-like runtime: raw pointers, references, Box, threads, atomics, panics, ktests",
  schedulingPoints: [
    // threads
    "spawn", "join", "yield_now", "spin_loop",
    // atomics and fences (methods on references/pointers to atomic layouts)
    "load", "store", "swap", "compare_exchange", "compare_exchange_weak",
    "fetch_add", "fetch_sub", "fetch_and", "fetch_or", "fetch_xor", "fetch_nand",
    "fetch_max", "fetch_min", "fetch_update", "fence",
    // lockdep annotations
    "lock_acquired", "lock_released",
  ],
  neverYields: [
    "read", "write", "read_unaligned", "write_unaligned", "read_volatile", "write_volatile", "replace",
    "add", "sub", "offset", "byte_add", "byte_sub", "wrapping_add", "wrapping_sub", "offset_from",
    "cast", "field", "index", "is_null", "is_aligned", "addr", "expose_provenance", "with_addr",
    "as_ref", "as_mut", "as_ptr", "as_mut_ptr", "get", "reborrow", "reborrow_mut", "field_mut", "index_mut",
    "null_mut", "ptr_from_exposed", "without_provenance", "copy", "copy_nonoverlapping", "write_bytes",
    "transmute", "alloc", "alloc_zeroed", "dealloc", "realloc", "new", "into_raw", "from_raw", "leak",
    "drop", "static_", "local", "ptr", "array", "struct", "cell", "enum_", "maybe_uninit", "AtomicPtr",
    "size_of", "align_of", "offset_of", "panic", "assert", "assert_eq", "assert_ne", "unreachable",
    "ktest", "should_panic", "compiler_fence", "lock_class_rank",
  ],
};

/**
 * `kmiri/mirch`: the Mirch pseudo-architecture (physical pages, page tables and CR3, TLBs, the
 * IOMMU and DMA, MMIO and port I/O, interrupts, devices). Its scheduling points are where an
 * interrupt may be taken: enabling interrupts, raising a line, an inter-processor call.
 */
export const MIRCH_API: GuestApiManifest = {
  name: "kmiri/mirch",
  description: "the Mirch pseudo-architecture: page tables and CR3, TLBs, DMA, MMIO, port I/O, interrupts",
  schedulingPoints: ["inter_processor_call", "irq_enable", "irq_restore", "raise"],
  neverYields: [
    "memory_regions", "alloc_pages", "dealloc_pages", "retype_pages", "page_state", "paddr_to_vaddr", "phys_ptr",
    "set_user_page_fault_handler", "memcpy_fallible", "memset_fallible", "atomic_load_fallible", "atomic_cmpxchg_fallible",
    "memcpy_volatile", "memset_volatile", "pte_new", "pte_paddr", "pte_flags", "pte_index", "activate_page_table",
    "current_page_table", "boot_page_table", "page_walk", "tlb_flush_addr", "tlb_flush_addr_range",
    "tlb_flush_all_excluding_global", "tlb_flush_all_including_global", "current_cpu", "num_cpus", "irq_disable",
    "irqs_enabled", "in_interrupt_context", "alloc_irq_line", "on_active", "set_affinity", "cpu_local", "as_ptr",
    "on_cpu", "map", "unmap", "has_dma_remapping", "can_sync_dma", "dma_stream_begin", "dma_stream_end",
    "dma_sync_for_device", "dma_sync_for_cpu", "io_mem_claim", "io_mem_release", "port_read", "port_write",
    "io_port_claim", "io_port_release", "attach_device", "console_device", "virtio_device",
    "dma_read", "dma_write", "dma_read_u16", "dma_read_u32", "dma_write_u16", "dma_write_u32", "raise_irq", "choose",
  ],
};

/** Every guest API, in the order they are documented. */
export const GUEST_APIS: readonly GuestApiManifest[] = [RT_API, MIRCH_API];

/** The import names of the guest APIs. */
export const GUEST_API_NAMES: ReadonlySet<string> = new Set(GUEST_APIS.map((api) => api.name));
