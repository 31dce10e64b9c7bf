/**
 * One allocation: a heap block, a stack slot, a static, (later) physical RAM or an MMIO window.
 *
 * The fields read on every access (`live`, `base`, `size`, `view`, `init`, `writable`) are plain
 * fields set in the constructor in a fixed order, so that every `Allocation` shares one hidden
 * class and the access path's property loads stay monomorphic.
 *
 * Initialisation is tracked per byte, but only while it matters: `init` is a mask (1 = initialised)
 * while some byte is uninitialised and `null` once every byte is, so a read of fully initialised
 * memory — the common case — pays one comparison.
 */

/** What kind of memory an allocation is. */
export type AllocKind = "heap" | "stack" | "static" | "ram" | "mmio";

/** How an allocation's kind is named in diagnostics (Miri's `MiriMemoryKind` display). */
export const ALLOC_KIND_NAMES: Readonly<Record<AllocKind, string>> = {
  heap: "Rust heap",
  stack: "stack variable",
  static: "static",
  ram: "physical RAM",
  mmio: "MMIO",
};

/** A zero-length view: the storage of a zero-sized or freed allocation. */
export const EMPTY_VIEW = new DataView(new ArrayBuffer(0));

/** Site id meaning "no site recorded". */
export const NO_SITE = -1;

/** An allocation of the Machine's memory. */
export class Allocation {
  /** Numeric id: the allocation is named `alloc<id>` in diagnostics. */
  readonly id: number;
  /** Base address. */
  readonly base: number;
  /** Size in bytes. */
  readonly size: number;
  /** Alignment requested at allocation (a power of two). */
  readonly align: number;
  /** What kind of memory this is. */
  readonly kind: AllocKind;
  /** False once deallocated (or, for a stack slot, once its function returned). */
  live: boolean;
  /** False for memory that may not be written (an immutable static). */
  writable: boolean;
  /**
   * The contents, exactly `size` bytes (a window of a larger buffer the {@link Memory} carves
   * allocations from); a zero-length view once freed.
   */
  view: DataView;
  /** Per-byte init mask (1 = initialised), or `null` when every byte is initialised. */
  init: Uint8Array | null;
  /** How many bytes are uninitialised (0 exactly when `init` is `null`). */
  uninit: number;
  /** True once a pointer to it had its provenance exposed (`expose_provenance`). */
  exposed: boolean;
  /** True when it may outlive the program without being a leak (`Box::leak`). */
  leakOk: boolean;
  /** The site that allocated it. */
  readonly allocSite: number;
  /** The site that freed it, or {@link NO_SITE}. */
  freeSite: number;

  /**
   * @param view the allocation's storage, `size` bytes, all zero.
   * @param zeroed whether those zeros count as initialised (`alloc_zeroed`) or not (`alloc`).
   */
  constructor(
    id: number,
    base: number,
    size: number,
    align: number,
    kind: AllocKind,
    view: DataView,
    zeroed: boolean,
    allocSite: number,
  ) {
    this.id = id;
    this.base = base;
    this.size = size;
    this.align = align;
    this.kind = kind;
    this.live = true;
    this.writable = true;
    this.view = view;
    // A small Uint8Array lives on the JS heap and is cheap, as long as nobody asks for its buffer.
    this.init = zeroed || size === 0 ? null : new Uint8Array(size);
    this.uninit = zeroed ? 0 : size;
    this.exposed = false;
    this.leakOk = false;
    this.allocSite = allocSite;
    this.freeSite = NO_SITE;
  }

  /** The contents as bytes (a new array over the same memory: for bulk operations, not the access path). */
  get bytes(): Uint8Array {
    const v = this.view;
    return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }

  /** `alloc<id>`, as Miri names allocations. */
  get name(): string {
    return `alloc${this.id}`;
  }

  /** True when every byte of `[offset, offset + length)` is initialised. */
  isInit(offset: number, length: number): boolean {
    const mask = this.init;
    if (mask === null) return true;
    for (let i = offset, end = offset + length; i < end; i++) if (mask[i] === 0) return false;
    return true;
  }

  /** Marks `[offset, offset + length)` initialised; drops the mask once everything is. */
  markInit(offset: number, length: number): void {
    const mask = this.init;
    if (mask === null) return;
    let uninit = this.uninit;
    for (let i = offset, end = offset + length; i < end; i++) {
      if (mask[i] === 0) {
        mask[i] = 1;
        uninit--;
      }
    }
    this.uninit = uninit;
    if (uninit === 0) this.init = null;
  }

  /**
   * Marks `[offset, offset + length)` uninitialised (a `MaybeUninit::uninit()` write, struct
   * padding, a `realloc`'s new tail).
   */
  markUninit(offset: number, length: number): void {
    if (length === 0) return;
    let mask = this.init;
    if (mask === null) mask = this.init = new Uint8Array(this.size).fill(1);
    let uninit = this.uninit;
    for (let i = offset, end = offset + length; i < end; i++) {
      if (mask[i] === 1) {
        mask[i] = 0;
        uninit++;
      }
    }
    this.uninit = uninit;
  }

  /**
   * The first run of uninitialised bytes inside `[offset, offset + length)`, as `[start, end)`,
   * or `null` if there is none (for diagnostics: Miri reports this range).
   */
  firstUninit(offset: number, length: number): [number, number] | null {
    const mask = this.init;
    if (mask === null) return null;
    const end = offset + length;
    let i = offset;
    while (i < end && mask[i] === 1) i++;
    if (i === end) return null;
    let j = i;
    while (j < end && mask[j] === 0) j++;
    return [i, j];
  }

  /** Marks the allocation dead and releases its bytes (the metadata stays, for diagnostics). */
  kill(freeSite: number): void {
    this.live = false;
    this.freeSite = freeSite;
    this.view = EMPTY_VIEW;
    this.init = null;
    this.uninit = 0;
  }
}
