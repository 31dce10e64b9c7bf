// OSTD's `io/io_mem/mod.rs` (asterinas/asterinas, MPL-2.0), re-written for kmiri: I/O memory
// (MMIO) and its allocator, which hands MMIO to device drivers.
//
// Differences from OSTD, all forced by what exists so far:
// - OSTD maps an `IoMem` into a `KVirtArea` with its cache policy (untracked mappings, then a TLB
//   flush on all CPUs). Until the kernel-space module exists, the port reaches the device window
//   through the linear map (`arch::mmio_vaddr`), which Mirch accepts for MMIO; the cache policy is
//   recorded only.
// - OSTD's `Drop` does not recycle the range yet (a TODO, because of `Clone` and `slice`). Here
//   the `IoMem`s of one acquisition (the original, its clones and slices) share the mapping, as
//   they share OSTD's `Arc<KVirtArea>`, and the last one dropped gives the range back to the
//   allocator and ends Mirch's claim on it.
import { assert, local, panic, size_of, type Layout, type Ref, type RefMut } from "kmiri/rt";
import { PAGE_SIZE, io_mem_claim, io_mem_release, mmio_vaddr, read_once as arch_read_once, write_once as arch_write_once } from "../../arch/io.js";
import {
  Err,
  Error,
  Ok,
  VmReader,
  VmWriter,
  memcpy,
  memset,
  type Fallible,
  type Infallible,
  type PartialError,
  type Result,
  type VmIo,
  type VmIoFill,
  type VmIoOnce,
} from "../../mm/io.js";
import { io_mem_allocator } from "./allocator.js";
import type { Range } from "./range_alloc.js";

export { IoMemAllocator, IoMemAllocatorBuilder, init, io_mem_allocator } from "./allocator.js";
export type { Range } from "./range_alloc.js";

/** OSTD's `CachePolicy` (mm/page_prop.rs). */
export type CachePolicy = "Uncacheable" | "WriteCombining" | "WriteProtected" | "Writethrough" | "Writeback";

/** The marker of MMIO used for security-sensitive operations (system devices; crate-internal). */
export interface Sensitive {
  readonly __sensitivity: "Sensitive";
}

/** The marker of MMIO whose side effects cannot break soundness (what drivers get). */
export interface Insensitive {
  readonly __sensitivity: "Insensitive";
}

/** Either marker. */
export type SecuritySensitivity = Sensitive | Insensitive;

/** What the `IoMem`s of one acquisition share (OSTD's `Arc<KVirtArea>`). */
interface IoMemArea {
  /** Where the kernel reaches the first page of the range. */
  readonly start: number;
  /** The range acquired (claimed in Mirch). */
  readonly range: Range;
  /** Live `IoMem`s of the acquisition. */
  count: number;
  /** How to give the range back (`null` for a reserved, sensitive one: never given back). */
  readonly recycle: ((range: Range) => void) | null;
}

/** I/O memory: a window of device registers, accessed only through bounds-checked copies. */
export class IoMem<S extends SecuritySensitivity = Insensitive> implements VmIo, VmIoFill, VmIoOnce {
  private area: IoMemArea | null;
  /** The used range is `area.start + offset .. + limit`. */
  private readonly offset: number;
  private readonly limit: number;
  private readonly pa: number;
  private readonly cache_policy_: CachePolicy;
  declare private readonly _phantom: S;

  private constructor(area: IoMemArea, offset: number, limit: number, pa: number, cache_policy: CachePolicy) {
    this.area = area;
    this.offset = offset;
    this.limit = limit;
    this.pa = pa;
    this.cache_policy_ = cache_policy;
  }

  /**
   * `IoMem::new(range, flags, cache)` (crate-internal).
   *
   * Safety:
   * 1. Called after the kernel page table is activated.
   * 2. The physical range is I/O memory.
   * 3. Accessing it may have side effects; for `Insensitive` memory they must not break soundness
   *    (e.g. corrupt kernel memory).
   */
  static new<S extends SecuritySensitivity>(range: Range, cache: CachePolicy, recycle: ((range: Range) => void) | null): IoMem<S> {
    "unsafe";
    const first_page_start = Math.floor(range.start / PAGE_SIZE) * PAGE_SIZE;
    // The range now belongs to its driver: Mirch checks every device access against the claims.
    io_mem_claim(range.start, range.end - range.start);
    const area: IoMemArea = { start: mmio_vaddr(first_page_start), range: { start: range.start, end: range.end }, count: 1, recycle };
    return new IoMem<S>(area, range.start - first_page_start, range.end - range.start, range.start, cache);
  }

  /** Acquires an `IoMem` for `[start, end)`, uncacheable. `Err(AccessDenied)` when it is not available. */
  static acquire(start: number, end: number): Result<IoMem<Insensitive>> {
    return IoMem.acquire_with_cache_policy(start, end, "Uncacheable");
  }

  /** Acquires an `IoMem` for `[start, end)` with `cache_policy`. */
  static acquire_with_cache_policy(start: number, end: number, cache_policy: CachePolicy): Result<IoMem<Insensitive>> {
    const io_mem = io_mem_allocator().acquire({ start, end }, cache_policy);
    return io_mem === null ? Err(Error.AccessDenied) : Ok(io_mem);
  }

  /** The subslice `[start, end)` of this `IoMem`. Panics when the range is empty or out of bounds. */
  slice(start: number, end: number): IoMem<S> {
    // `start < end` and `end <= limit`.
    assert(start < end && end <= this.limit, `IoMem::slice: ${start}..${end} is empty or past ${this.limit}`);
    const area = this.live();
    area.count++;
    return new IoMem<S>(area, this.offset + start, end - start, this.pa + start, this.cache_policy_);
  }

  /** `Clone::clone`: another `IoMem` of the same window. */
  clone(): IoMem<S> {
    const area = this.live();
    area.count++;
    return new IoMem<S>(area, this.offset, this.limit, this.pa, this.cache_policy_);
  }

  /** The cache policy. */
  cache_policy(): CachePolicy {
    return this.cache_policy_;
  }

  /** `HasPaddr::paddr`: the physical address of the first byte. */
  paddr(): number {
    return this.pa;
  }

  /** `HasSize::size`: the length in bytes. */
  size(): number {
    return this.limit;
  }

  /** The kernel virtual address of the first byte. */
  private base(): number {
    return this.live().start + this.offset;
  }

  private live(): IoMemArea {
    if (this.area === null) panic("IoMem used after drop");
    return this.area;
  }

  /** `Err(InvalidArgs)` unless `[offset, offset + len)` lies within the window. */
  private check_range(offset: number, len: number): Result<void> {
    const end = offset + len;
    if (!Number.isSafeInteger(end) || offset < 0 || len < 0 || end > this.limit) return Err(Error.InvalidArgs);
    return Ok(undefined);
  }

  // ───────────── IoMem<Sensitive> (crate-internal, unsafe) ─────────────

  /**
   * `IoMem<Sensitive>::read_once`: one non-tearing load at `offset`, unchecked.
   *
   * Safety: the offset and the read are valid (they follow the device's specification, stay in
   * bounds, and have no unsound side effect such as corrupting kernel memory).
   */
  read_once_sensitive<T>(this: IoMem<Sensitive>, offset: number, layout: Layout<T>): T {
    "unsafe";
    assert(offset + size_of(layout) <= this.limit);
    return arch_read_once(this.base() + offset, layout);
  }

  /** `IoMem<Sensitive>::write_once`: one non-tearing store, unchecked. Safety: as `read_once_sensitive`. */
  write_once_sensitive<T>(this: IoMem<Sensitive>, offset: number, layout: Layout<T>, value: T): void {
    "unsafe";
    assert(offset + size_of(layout) <= this.limit);
    arch_write_once(this.base() + offset, layout, value);
  }

  // ───────────── IoMem<Insensitive> ─────────────

  /**
   * Reads from MMIO at `offset` into fallible memory: the bytes copied, or the error with the
   * bytes copied so far (the same copy as `read`, with partial progress reported).
   */
  read_fallible(this: IoMem<Insensitive>, offset: number, writer: VmWriter<Fallible>): Result<number, PartialError> {
    const len = writer.avail();
    const c = this.check_range(offset, len);
    if (!c.ok) return Err([c.error, 0]);
    let copied: number;
    unsafe: {
      // SAFETY: the source is a checked MMIO range; the destination is the writer's fallible memory.
      copied = memcpy("Fallible", "Io", writer.cursor(), this.base() + offset, len);
    }
    writer.skip(copied);
    return copied < len ? Err([Error.PageFault, copied]) : Ok(copied);
  }

  /** Writes from fallible memory to MMIO at `offset` (see `read_fallible`). */
  write_fallible(this: IoMem<Insensitive>, offset: number, reader: VmReader<Fallible>): Result<number, PartialError> {
    const len = reader.remain();
    const c = this.check_range(offset, len);
    if (!c.ok) return Err([c.error, 0]);
    let copied: number;
    unsafe: {
      // SAFETY: the destination is a checked MMIO range; the source is the reader's fallible memory.
      copied = memcpy("Io", "Fallible", this.base() + offset, reader.cursor(), len);
    }
    reader.skip(copied);
    return copied < len ? Err([Error.PageFault, copied]) : Ok(copied);
  }

  /** `VmIoOnce::read_once`: one non-tearing load; `Err(InvalidArgs)` out of bounds or unaligned. */
  read_once<T>(offset: number, layout: Layout<T>): Result<T> {
    this.insensitive_only();
    const c = this.check_range(offset, size_of(layout));
    if (!c.ok) return c;
    const ptr = this.base() + offset;
    if (ptr % layout.align !== 0) return Err(Error.InvalidArgs);
    unsafe: {
      // SAFETY: the address is aligned and within the checked range.
      return Ok(arch_read_once(ptr, layout));
    }
  }

  /** `VmIoOnce::write_once`: one non-tearing store. */
  write_once<T>(offset: number, layout: Layout<T>, value: T): Result<void> {
    this.insensitive_only();
    const c = this.check_range(offset, size_of(layout));
    if (!c.ok) return c;
    const ptr = this.base() + offset;
    if (ptr % layout.align !== 0) return Err(Error.InvalidArgs);
    unsafe: {
      // SAFETY: the address is aligned and within the checked range.
      arch_write_once(ptr, layout, value);
    }
    return Ok(undefined);
  }

  /** `VmIo::read`: fills `writer` from MMIO at `offset`; no short reads. */
  read(offset: number, writer: VmWriter<Fallible>): Result<void> {
    this.insensitive_only();
    const len = writer.avail();
    const c = this.check_range(offset, len);
    if (!c.ok) return c;
    let copied: number;
    unsafe: {
      // SAFETY: a checked MMIO range, and the writer's fallible memory.
      copied = memcpy("Fallible", "Io", writer.cursor(), this.base() + offset, len);
    }
    if (copied < len) return Err(Error.PageFault);
    writer.skip(copied);
    return Ok(undefined);
  }

  /** `VmIo::read_bytes`: `size_of(buf)` bytes at `offset` into a kernel buffer. */
  read_bytes(offset: number, buf: RefMut<unknown>): Result<void> {
    this.insensitive_only();
    const len = size_of(buf.layout);
    const c = this.check_range(offset, len);
    if (!c.ok) return c;
    unsafe: {
      // SAFETY: the buffer is valid for writes of `len` bytes (a unique reference), the source a
      // checked MMIO range.
      memcpy("Infallible", "Io", buf.as_mut_ptr().expose_provenance(), this.base() + offset, len);
    }
    return Ok(undefined);
  }

  /** `VmIo::read_val` (the default: read into a zeroed value through `read_bytes`). */
  read_val<T>(offset: number, layout: Layout<T>): Result<T> {
    const val = local(layout);
    // Zero it first: the value is then initialised even if a read wrote less than it should.
    VmWriter.from(val.as_mut()).fill_zeros(size_of(layout));
    const r = this.read_bytes(offset, val.as_mut());
    if (!r.ok) return r;
    return Ok(val.read());
  }

  /** `VmIo::read_slice` (through `read_bytes`). */
  read_slice(offset: number, slice: RefMut<unknown>): Result<void> {
    return this.read_bytes(offset, slice);
  }

  /** `VmIo::write`: all of `reader` to MMIO at `offset`; no short writes. */
  write(offset: number, reader: VmReader<Fallible>): Result<void> {
    this.insensitive_only();
    const len = reader.remain();
    const c = this.check_range(offset, len);
    if (!c.ok) return c;
    let copied: number;
    unsafe: {
      // SAFETY: a checked MMIO range, and the reader's fallible memory.
      copied = memcpy("Io", "Fallible", this.base() + offset, reader.cursor(), len);
    }
    if (copied < len) return Err(Error.PageFault);
    reader.skip(copied);
    return Ok(undefined);
  }

  /** `VmIo::write_bytes`: the bytes of a kernel buffer to MMIO at `offset`. */
  write_bytes(offset: number, buf: Ref<unknown>): Result<void> {
    this.insensitive_only();
    const len = size_of(buf.layout);
    const c = this.check_range(offset, len);
    if (!c.ok) return c;
    unsafe: {
      // SAFETY: the buffer is valid for reads of `len` bytes, the destination a checked MMIO range.
      memcpy("Io", "Infallible", this.base() + offset, buf.as_ptr().expose_provenance(), len);
    }
    return Ok(undefined);
  }

  /** `VmIo::write_val` (the default, through `write_bytes`). */
  write_val<T>(offset: number, layout: Layout<T>, new_val: T): Result<void> {
    const val = local(layout, new_val);
    return this.write_bytes(offset, val.as_ref());
  }

  /** `VmIo::write_slice` (through `write_bytes`). */
  write_slice(offset: number, slice: Ref<unknown>): Result<void> {
    return this.write_bytes(offset, slice);
  }

  /** `VmIoFill::fill_zeros`: up to `len` zeros at `offset`; a short fill is an error with its length. */
  fill_zeros(offset: number, len: number): Result<void, PartialError> {
    this.insensitive_only();
    if (len === 0) return Ok(undefined);
    if (offset > this.limit) return Err([Error.InvalidArgs, 0]);
    const write_len = Math.min(len, this.limit - offset);
    if (write_len === 0) return Err([Error.InvalidArgs, 0]);
    unsafe: {
      // SAFETY: the destination is the checked MMIO range of `write_len` bytes.
      memset("Io", this.base() + offset, 0, write_len);
    }
    return write_len === len ? Ok(undefined) : Err([Error.InvalidArgs, write_len]);
  }

  /**
   * A reader of the whole window (infallible: MMIO here never faults; each copy becomes device
   * accesses of at most 8 naturally aligned bytes). Older OSTD had it; HEAD copies directly.
   */
  reader(this: IoMem<Insensitive>): VmReader<Infallible> {
    unsafe: {
      // SAFETY: the window is claimed MMIO, alive while this `IoMem` is, reached only through
      // this module.
      return VmReader.from_kernel_space(this.base(), this.limit);
    }
  }

  /** A writer of the whole window (see `reader`). */
  writer(this: IoMem<Insensitive>): VmWriter<Infallible> {
    unsafe: {
      // SAFETY: as for `reader`.
      return VmWriter.from_kernel_space(this.base(), this.limit);
    }
  }

  /**
   * `Drop`: the last `IoMem` of an acquisition ends the claim and gives the range back to the
   * allocator (see the module's note).
   */
  drop(): void {
    const area = this.area;
    if (area === null) return;
    this.area = null;
    area.count--;
    if (area.count > 0 || area.recycle === null) return;
    io_mem_release(area.range.start, area.range.end - area.range.start);
    unsafe: {
      // SAFETY: the acquisition owned the range, and no `IoMem` of it is left.
      area.recycle(area.range);
    }
  }

  /** The `VmIo`/`VmIoOnce`/`VmIoFill` impls are for `IoMem<Insensitive>` only. */
  private insensitive_only(): void {
    if (this.area !== null && this.area.recycle === null) panic("VmIo on a sensitive IoMem (use the unsafe *_sensitive accessors)");
  }
}
