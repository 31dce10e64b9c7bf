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
 * `kmiri/mirch`: the Mirch pseudo-architecture (CR3, TLBs, DMA, MMIO, port I/O, interrupts). Its
 * functions come with the Mirch issue; until then the module is empty, and its name resolves.
 */
export const MIRCH_API: GuestApiManifest = {
  name: "kmiri/mirch",
  description: "the Mirch pseudo-architecture: page tables and CR3, TLBs, DMA, MMIO, port I/O, interrupts",
  schedulingPoints: [],
  neverYields: [],
};

/** Every guest API, in the order they are documented. */
export const GUEST_APIS: readonly GuestApiManifest[] = [RT_API, MIRCH_API];

/** The import names of the guest APIs. */
export const GUEST_API_NAMES: ReadonlySet<string> = new Set(GUEST_APIS.map((api) => api.name));
