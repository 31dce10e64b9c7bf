/**
 * One allocation: a heap block, a stack slot, a static, (later) physical RAM or an MMIO window.
 *
 * The fields read on every access (`live`, `base`, `size`, `view`, `init`, `writable`, `ptrs`)
 * are plain fields set in the constructor in a fixed order, so that every `Allocation` shares one
 * hidden class and the access path's property loads stay monomorphic.
 *
 * Initialisation is tracked per byte, but only while it matters: `init` is a mask (1 = initialised)
 * while some byte is uninitialised and `null` once every byte is, so a read of fully initialised
 * memory — the common case — pays one comparison.
 *
 * Provenance in memory: the bytes of a stored pointer hold its address; its provenance goes into
 * `ptrs`, a sparse side table from the offset the pointer was written at to the allocation it may
 * access. The table is created by the first pointer stored, so plain data costs one `null` test per
 * write. Every write removes the entries it overlaps (a pointer partly overwritten is no pointer),
 * so an entry always describes the 8 bytes at its offset; reading those bytes as a `ptr` gives the
 * pointer back with its provenance, reading them as integers gives the address alone.
 *
 * Pointer fragments (Miri's per-byte provenance): a byte of a stored pointer that is no longer part
 * of a whole one — the rest of a pointer partly overwritten, or the bytes an untyped copy
 * (`copy`, `copy_nonoverlapping`, `realloc`) took of part of a pointer — keeps "byte `index` of a
 * pointer with this provenance and tag" in a second sparse table, `frags`, made only when the first
 * fragment appears. A copy carries fragments along; when it leaves all 8 fragments of one
 * pointer (same provenance, tag and address) in order (index 0 at offset k, …, 7 at k + 7) they become a whole pointer in
 * `ptrs` again. Reads never look at `frags`: fragments out of order, of two pointers, or next to
 * plain bytes are no pointer (a `ptr` read gives the address without provenance), and a typed
 * integer read drops provenance anyway — as in Miri.
 */
import { reportTypeError } from "./type-error.js";
import type { Memory } from "./memory.js";
import type { SeamAllocation } from "./seam.js";
import type { Layout, LayoutMemory } from "./layouts.js";
import { usize } from "./layouts.js";

/** What kind of memory an allocation is. */
export type AllocKind = "heap" | "stack" | "static" | "ram" | "untyped" | "mmio";

/** How an allocation's kind is named in diagnostics (Miri's `MiriMemoryKind` display). */
export const ALLOC_KIND_NAMES: Readonly<Record<AllocKind, string>> = {
  heap: "Rust heap",
  stack: "stack variable",
  static: "static",
  ram: "physical RAM",
  untyped: "untyped physical RAM",
  mmio: "MMIO",
};

/** A zero-length view: the storage of a zero-sized or freed allocation. */
export const EMPTY_VIEW = new DataView(new ArrayBuffer(0));

/** Site id meaning "no site recorded". */
export const NO_SITE = -1;

/** Bytes of a stored pointer. */
const PTR_SIZE = 8;

/**
 * What a stored pointer value must offer: its address, its provenance and its borrow tag (the
 * runtime's `Ptr` is one). The side table keeps the pointer object itself, which is immutable.
 */
export interface StoredPointer {
  readonly address: number;
  readonly provenance: Allocation | null;
  readonly tag: number;
}

/** One byte of a stored pointer that is not part of a whole one: byte `index` (0–7) of `ptr`. */
export interface Fragment {
  /** The pointer the byte came from (its `provenance`, `tag` and `address` must agree to reassemble). */
  readonly ptr: StoredPointer;
  /** Which byte of that pointer it is (0 = lowest address). */
  readonly index: number;
}

/** A whole pointer reassembled from fragments: the address is read from the bytes anyway. */
class ReassembledPointer implements StoredPointer {
  constructor(
    readonly address: number,
    readonly provenance: Allocation | null,
    readonly tag: number,
  ) {}
}

/** An allocation of the Machine's memory. */
export class Allocation implements LayoutMemory, SeamAllocation {
  /**
   * The memory it belongs to (its pointer factory makes the pointers read from it; its host
   * reports type errors); `null` for a provenance marker such as {@link WILDCARD}.
   */
  readonly memory: Memory | null;
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
  /** The site that allocated it. */
  readonly allocSite: number;
  /** The site that freed it, or {@link NO_SITE}. */
  freeSite: number;
  /**
   * The provenance of the pointers stored here: offset → the pointer written there, whose
   * `provenance` is the allocation it may access ({@link WILDCARD} for a pointer from
   * `ptr_from_exposed`, never `null`) and whose `tag` is its borrow tag; `null` until the first
   * is stored. A pointer read back gets both: its provenance and the tag it was written with.
   */
  ptrs: Map<number, StoredPointer> | null;
  /**
   * Pointer fragments: offset → the byte of a stored pointer it holds, for the bytes of pointers
   * that are no longer whole (see the module comment); `null` while there are none. Set only
   * while {@link ptrs} is, and covered by {@link ptrsLo}/{@link ptrsHi}, so that the write path's
   * one `ptrs` test also guards it.
   */
  frags: Map<number, Fragment> | null;
  /** True while every offset in {@link ptrs} is a multiple of 8 (then a write looks up fewer offsets). */
  ptrsAligned: boolean;
  /**
   * Bounds of the bytes stored pointers have ever covered, `[ptrsLo, ptrsHi)`: a write outside
   * them overwrites no pointer and skips the table (a node's data fields next to its `next`).
   */
  ptrsLo: number;
  /** See {@link ptrsLo}. */
  ptrsHi: number;
  /**
   * True for a provenance marker that is not an allocation (never live): a pointer carrying it
   * has its allocation found by address, on the slow path, by the memory's resolvers
   * ({@link WILDCARD}; with Mirch, virtual, physical and MMIO addresses).
   */
  readonly indirect: boolean;
  /**
   * The data-race detector's slot (seam.ts): its state of the allocation, made when it is
   * allocated while several threads exist, else on its first access in such a phase; `null` until then.
   */
  race: object | null;
  /**
   * The borrow tracker's slot (seam.ts): the allocation's borrow stacks, set by the tracker when
   * the allocation is made; `null` when borrows are not tracked, or once it is freed. The access
   * path checks it without a lookup.
   */
  borrows: object | null;
  /** Mirch's slot (seam.ts): the page state of physical memory; `null` for ordinary allocations. */
  page: object | null;
  /**
   * A tag whose reads of any bytes of this allocation change no borrow stack (the top item of its
   * one stack), so that the access path skips the borrow tracker for it; -1 for none. Kept by the
   * borrow tracker; only meaningful while {@link borrows} is set.
   */
  borrowRead: number;
  /** Likewise for reads and writes (a `Unique` or `SharedReadWrite` top item); -1 for none. */
  borrowWrite: number;

  /**
   * @param view the allocation's storage, `size` bytes, all zero.
   * @param zeroed whether those zeros count as initialised (`alloc_zeroed`) or not (`alloc`).
   */
  constructor(
    memory: Memory | null,
    id: number,
    base: number,
    size: number,
    align: number,
    kind: AllocKind,
    view: DataView,
    zeroed: boolean,
    allocSite: number,
  ) {
    this.memory = memory;
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
    this.allocSite = allocSite;
    this.freeSite = NO_SITE;
    this.ptrs = null;
    this.frags = null;
    this.ptrsAligned = true;
    this.ptrsLo = 0;
    this.ptrsHi = 0;
    this.indirect = false;
    this.race = null;
    this.borrows = null;
    this.page = null;
    this.borrowRead = -1;
    this.borrowWrite = -1;
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

  /**
   * True when the bytes a read of a value at `offset` needs are initialised: every byte of
   * `[offset, offset + length)` when `ranges` is `null`, else those of `ranges` (pairs relative to
   * `offset`: a struct's fields, not its padding).
   */
  isInitRanges(offset: number, length: number, ranges: readonly number[] | null): boolean {
    if (ranges === null) return this.isInit(offset, length);
    for (let i = 0; i < ranges.length; i += 2) {
      if (!this.isInit(offset + ranges[i]!, ranges[i + 1]! - ranges[i]!)) return false;
    }
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
   * Takes its initialisation from `mask` (a mask of an allocation this one is split from, starting
   * at `offset`; `null`: every byte initialised) in one copy, replacing its own.
   */
  initFrom(mask: Uint8Array | null, offset: number): void {
    if (mask === null) {
      this.init = null;
      this.uninit = 0;
      return;
    }
    const own = mask.slice(offset, offset + this.size);
    // Count the initialised bytes (each 0 or 1) four at a time: a word's bytes summed by one multiply.
    let ones = 0;
    const n4 = own.length >> 2;
    const words = new Uint32Array(own.buffer, own.byteOffset, n4);
    for (let i = 0; i < n4; i++) {
      const w = words[i]!;
      if (w !== 0) ones += Math.imul(w, 0x01010101) >>> 24;
    }
    for (let i = n4 << 2; i < own.length; i++) ones += own[i]!;
    const uninit = own.length - ones;
    this.uninit = uninit;
    this.init = uninit === 0 ? null : own;
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

  /** Marks the `ranges` (pairs relative to `offset`) uninitialised: a struct's padding after a write. */
  markUninitRanges(offset: number, ranges: readonly number[]): void {
    for (let i = 0; i < ranges.length; i += 2) this.markUninit(offset + ranges[i]!, ranges[i + 1]! - ranges[i]!);
  }

  /**
   * The first run of uninitialised bytes among those a read at `offset` needs (see
   * {@link isInitRanges}), as absolute `[start, end)`, or `null`.
   */
  firstUninitRanges(offset: number, length: number, ranges: readonly number[] | null): [number, number] | null {
    if (ranges === null) return this.firstUninit(offset, length);
    for (let i = 0; i < ranges.length; i += 2) {
      const bad = this.firstUninit(offset + ranges[i]!, ranges[i + 1]! - ranges[i]!);
      if (bad !== null) return bad;
    }
    return null;
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

  // ── provenance in memory (the LayoutMemory a `ptr` layout reads and writes through) ──

  /** The pointer stored at `offset`: its address from the bytes, its provenance and tag from {@link ptrs}. */
  loadPtr(view: DataView, offset: number, pointee: Layout<unknown>): unknown {
    const m = this.ptrs;
    const stored = m === null ? undefined : m.get(offset);
    const make = this.memory!.pointer;
    return stored === undefined
      ? make(usize.decode(view, offset), null, pointee, 0)
      : make(usize.decode(view, offset), stored.provenance, pointee, stored.tag);
  }

  /**
   * Stores pointer `value` at `offset`: the address into the bytes, the provenance into
   * {@link ptrs}. The write path has already removed the entries the 8 bytes overlapped.
   */
  storePtr(view: DataView, offset: number, value: unknown): void {
    const p = this.memory!.readPointer(value);
    if (p === null) {
      this.typeError("E0308", `mismatched types: expected a raw pointer, found ${value === null ? "null" : typeof value}`);
    }
    usize.encode(view, offset, p.address);
    if (p.provenance !== null) this.storeProvenance(offset, p);
  }

  /**
   * Forgets the pointers that overlap `[offset, offset + length)` (a write over them): a pointer
   * partly overwritten is no pointer any more, the bytes of it left outside the range become
   * fragments (so that a later copy of the missing bytes can make it whole again), and the
   * fragments inside the range are gone.
   */
  forgetPtrs(offset: number, length: number): void {
    const m = this.ptrs;
    const end = offset + length;
    if (m === null || end <= this.ptrsLo || offset >= this.ptrsHi || length === 0) return;
    if (m.size !== 0) {
      // Probe the offsets a pointer overlapping the range could start at (every 8th one while all
      // pointers are 8-aligned), or walk the table when it is the smaller. Only the first and the
      // last can stick out of the range.
      const aligned = this.ptrsAligned;
      const first = aligned ? offset & ~(PTR_SIZE - 1) : offset - PTR_SIZE + 1;
      const probes = aligned ? ((end - 1 - first) >> 3) + 1 : end - first;
      if (probes <= m.size) {
        for (let k = first; k < end; k += aligned ? PTR_SIZE : 1) {
          if (k < offset || k + PTR_SIZE > end) this.breakPtr(m, k, offset, end);
          else m.delete(k);
        }
      } else {
        for (const k of m.keys()) {
          if (k < end && k + PTR_SIZE > offset) {
            if (k < offset || k + PTR_SIZE > end) this.breakPtr(m, k, offset, end);
            else m.delete(k);
          }
        }
      }
    }
    const f = this.frags;
    if (f !== null) {
      if (length <= f.size) for (let k = offset; k < end; k++) f.delete(k);
      else for (const k of f.keys()) if (k >= offset && k < end) f.delete(k);
      if (f.size === 0) this.frags = null;
    }
  }

  /**
   * Removes the pointer at `k` (if any), which `[offset, end)` overwrites in part: its bytes
   * outside the range become fragments (those inside are dropped by the caller).
   */
  private breakPtr(m: Map<number, StoredPointer>, k: number, offset: number, end: number): void {
    const p = m.get(k);
    if (p === undefined) return;
    m.delete(k);
    const f = (this.frags ??= new Map());
    for (let i = 0; i < PTR_SIZE; i++) {
      const j = k + i;
      if (j < offset || j >= end) f.set(j, { ptr: p, index: i });
    }
  }

  /**
   * The fragments an untyped copy of `[offset, offset + length)` takes along, as `[offset,
   * fragment]`: those stored there, and the bytes inside the range of the pointers that stick out
   * of it. Empty when the range holds no part of a pointer.
   */
  fragmentsIn(offset: number, length: number): [number, Fragment][] {
    const out: [number, Fragment][] = [];
    const m = this.ptrs;
    const end = offset + length;
    if (m === null || end <= this.ptrsLo || offset >= this.ptrsHi || length === 0) return out;
    if (m.size !== 0) {
      // The pointers that start before the range or end after it: at most 7 offsets on each side.
      const edge = (k: number): void => {
        if (k < offset || k + PTR_SIZE > end) {
          const p = m.get(k);
          if (p === undefined) return;
          for (let i = 0; i < PTR_SIZE; i++) {
            const j = k + i;
            if (j >= offset && j < end) out.push([j, { ptr: p, index: i }]);
          }
        }
      };
      for (let k = Math.max(offset - PTR_SIZE + 1, this.ptrsLo); k < offset; k++) edge(k);
      for (let k = Math.max(end - PTR_SIZE + 1, offset); k < end; k++) edge(k);
    }
    const f = this.frags;
    if (f !== null) {
      if (length <= f.size) {
        for (let k = offset; k < end; k++) {
          const x = f.get(k);
          if (x !== undefined) out.push([k, x]);
        }
      } else {
        for (const [k, x] of f) if (k >= offset && k < end) out.push([k, x]);
      }
    }
    return out;
  }

  /** The pointers stored in `[offset, offset + length)` (whole ones only), as `[offset, pointer]` in offset order. */
  ptrsIn(offset: number, length: number): [number, StoredPointer][] {
    const m = this.ptrs;
    const out: [number, StoredPointer][] = [];
    if (m === null || m.size === 0) return out;
    const last = offset + length - PTR_SIZE;
    if (m.size <= 4 || m.size * PTR_SIZE < length) {
      for (const [k, a] of m) if (k >= offset && k <= last) out.push([k, a]);
      out.sort((x, y) => x[0] - y[0]);
      return out;
    }
    // A short range of a table of many pointers: probe the offsets a pointer could start at.
    const step = this.ptrsAligned ? PTR_SIZE : 1;
    for (let k = this.ptrsAligned ? (offset + PTR_SIZE - 1) & ~(PTR_SIZE - 1) : offset; k <= last; k += step) {
      const a = m.get(k);
      if (a !== undefined) out.push([k, a]);
    }
    return out;
  }

  /**
   * Copies `length` bytes from `src` at `from` to this allocation at `to` — bytes, initialisation
   * and the provenance of whole pointers (as `ptr::copy` does; the ranges are checked and may
   * overlap).
   */
  copyFrom(src: Allocation, from: number, to: number, length: number): void {
    if (length === 0) return;
    const moved = src.ptrsIn(from, length);
    const pieces = src.ptrs === null ? null : src.fragmentsIn(from, length);
    const dst = this.bytes;
    // copyWithin / set on a subarray both behave like memmove.
    if (src === this) dst.copyWithin(to, from, from + length);
    else dst.set(src.bytes.subarray(from, from + length), to);
    this.copyInitFrom(src, from, to, length);
    this.forgetPtrs(to, length);
    for (const [k, a] of moved) this.storeProvenance(to + (k - from), a);
    if (pieces !== null && pieces.length > 0) this.storeFragments(pieces, to - from);
  }

  /**
   * Stores the `pieces` (fragments at source offsets) at their offset plus `shift`, then makes
   * whole pointers of the 8-byte runs they complete: one provenance and tag, indexes 0 to 7 in order.
   */
  private storeFragments(pieces: readonly [number, Fragment][], shift: number): void {
    (this.ptrs ??= new Map());
    const f = (this.frags ??= new Map());
    for (const [k, x] of pieces) {
      const at = k + shift;
      f.set(at, x);
      if (at < this.ptrsLo || this.ptrsHi <= this.ptrsLo) this.ptrsLo = at;
      if (at + 1 > this.ptrsHi) this.ptrsHi = at + 1;
    }
    for (const [k, x] of pieces) {
      const start = k + shift - x.index;
      if (start < 0 || start + PTR_SIZE > this.size) continue;
      const p = x.ptr;
      let whole = true;
      for (let i = 0; i < PTR_SIZE && whole; i++) {
        const y = f.get(start + i);
        whole =
          y !== undefined &&
          y.index === i &&
          y.ptr.provenance === p.provenance &&
          y.ptr.tag === p.tag &&
          y.ptr.address === p.address;
      }
      if (!whole) continue;
      for (let i = 0; i < PTR_SIZE; i++) f.delete(start + i);
      this.storeProvenance(start, new ReassembledPointer(usize.decode(this.view, start), p.provenance, p.tag));
    }
    if (f.size === 0) this.frags = null;
  }

  /** The provenances and tags held in this allocation: its whole pointers and its fragments. */
  *storedPointers(): IterableIterator<StoredPointer> {
    if (this.ptrs !== null) yield* this.ptrs.values();
    if (this.frags !== null) for (const x of this.frags.values()) yield x.ptr;
  }

  /** Sets the provenance (and tag) of the pointer at `offset` (its bytes already hold the address). */
  private storeProvenance(offset: number, a: StoredPointer): void {
    const m = this.ptrs;
    if ((m === null || m.size === 0) && this.frags === null) {
      this.ptrsLo = offset;
      this.ptrsHi = offset + PTR_SIZE;
    } else {
      if (offset < this.ptrsLo) this.ptrsLo = offset;
      if (offset + PTR_SIZE > this.ptrsHi) this.ptrsHi = offset + PTR_SIZE;
    }
    (this.ptrs ??= new Map()).set(offset, a);
    if ((offset & (PTR_SIZE - 1)) !== 0) this.ptrsAligned = false;
  }

  /** Copies the init state of `length` bytes of `src` at `from` to `to` here. */
  private copyInitFrom(src: Allocation, from: number, to: number, length: number): void {
    if (src.init === null) {
      this.markInit(to, length);
      return;
    }
    const mask = src.init.slice(from, from + length);
    let i = 0;
    while (i < length) {
      let j = i;
      while (j < length && mask[j] === mask[i]) j++;
      if (mask[i] === 1) this.markInit(to + i, j - i);
      else this.markUninit(to + i, j - i);
      i = j;
    }
  }

  /** Reports a value that does not fit its layout, as rustc would reject it (`error[E0063]`). */
  typeError(code: string, message: string): never {
    if (this.memory === null) throw new TypeError(`kmiri internal error: a type error (${message}) on a provenance marker`);
    return reportTypeError(this.memory.host, code, message);
  }

  /** Marks the allocation dead and releases its bytes (the metadata stays, for diagnostics). */
  kill(freeSite: number): void {
    this.live = false;
    this.freeSite = freeSite;
    this.view = EMPTY_VIEW;
    this.init = null;
    this.uninit = 0;
    this.ptrs = null;
    this.frags = null;
    this.race = null;
  }
}

/**
 * The provenance of a pointer from `ptr_from_exposed` (Miri's wildcard): at each access it stands
 * for whichever exposed live allocation contains the address. Never live, so the access path's
 * fast test fails and the slow path resolves it (`Memory.findExposed`): only wildcards pay the lookup.
 */
export const WILDCARD: Allocation = indirectMarker();

/**
 * What a resolver answers for pointer arithmetic through a pointer that stands for no allocation
 * but may move freely (Mirch's device memory, a mapping translated only at access): the offset is
 * not checked; the accesses through the result are.
 */
export const UNCHECKED_OFFSET: Allocation = indirectMarker();

/** True for an allocation (or a provenance marker): what only kmiri makes. */
export function isAllocation(x: unknown): x is Allocation {
  return x instanceof Allocation;
}

/**
 * A new provenance marker: an allocation that is never live and is {@link Allocation.indirect},
 * so that the access path sends every pointer carrying it to the memory's resolvers.
 */
export function indirectMarker(): Allocation {
  const marker = new Allocation(null, 0, 0, 0, 1, "heap", EMPTY_VIEW, true, NO_SITE);
  marker.live = false;
  (marker as { indirect: boolean }).indirect = true;
  return marker;
}

/**
 * Turns a dead allocation into a provenance marker: pointers that still carry it take the slow
 * path, where a resolver decides what they reach now. Mirch does this when some pages of a
 * physical allocation are freed or retyped: the rest lives on in new allocations, which its
 * resolver finds for the old pointers.
 */
export function markIndirect(a: Allocation): void {
  (a as { indirect: boolean }).indirect = true;
}
