// OSTD's `mm/io` (asterinas/asterinas `ostd/src/mm/io/{mod,copy,util}.rs`, MPL-2.0): reading and
// writing virtual memory through `VmReader` and `VmWriter`, re-written for kmiri.
//
// # Safety (the module's contract, as OSTD states it)
//
// Readers and writers are made from memory regions by `from_kernel_space` and `from_user_space`,
// whose safety rests on the region being *valid*:
//
// - the region as a whole is either typed or untyped memory, never both;
// - typed: Rust's validity requirements hold, and the type is plain old data, so a writer may
//   fill it with any bytes;
// - untyped: its pages stay alive while the reader/writer is in use, and the kernel reaches it
//   only through this module (devices and user programs do not count).
//
// Data races on untyped memory are allowed (pages may be mapped to user space): they may copy
// unexpected bytes but are not unsound. On Mirch untyped memory is never race-checked, and every
// copy below goes through Mirch's checked copies (`memcpy_volatile`, `memcpy_fallible`), which
// check page states, DMA ownership and bounds at each side.
//
// Pointers: a reader's cursor is an address (a `number`), as Mirch's copies take addresses and
// move no provenance. Rust's `&[u8]`/`&mut [u8]` are kmiri references to a POD value (an
// `array(u8, n)` usually): `VmReader.from(ref)` / `VmWriter.from(ref)`.
import { align_of, assert, local, panic, size_of, u32, type Layout, type Ref, type RefMut } from "kmiri/rt";
import {
  KERNEL_BASE_VADDR,
  KERNEL_END_VADDR,
  MAX_USERSPACE_VADDR,
  __atomic_cmpxchg_fallible,
  __atomic_load_fallible,
  __memcpy_fallible,
  __memset_fallible,
  copy_from_mmio,
  copy_from_mmio_fallible,
  copy_to_mmio,
  copy_to_mmio_fallible,
  is_non_tearing,
  memset_mmio,
  read_once as arch_read_once,
  volatile_copy_memory,
  volatile_set_memory,
  write_once as arch_write_once,
} from "../arch/io.js";

// ───────────────────────────── Error and Result (ostd/src/error.rs) ─────────────────────────────

/** OSTD's `Error`. */
export type Error = "InvalidArgs" | "NoMemory" | "PageFault" | "AccessDenied" | "IoError" | "NotEnoughResources" | "Overflow";
/** The variants of {@link Error}, as values. */
export const Error = {
  InvalidArgs: "InvalidArgs",
  NoMemory: "NoMemory",
  PageFault: "PageFault",
  AccessDenied: "AccessDenied",
  IoError: "IoError",
  NotEnoughResources: "NotEnoughResources",
  Overflow: "Overflow",
} as const;

/** `Result<T, E>` (PORTING.md's shape). */
export type Result<T, E = Error> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

/** `Ok(value)`. */
export function Ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

/** `Err(error)`. */
export function Err<E>(error: E): { readonly ok: false; readonly error: E } {
  return { ok: false, error };
}

/** `result.unwrap()`: the value, or a panic with the error. */
export function unwrap<T, E>(r: Result<T, E>): T {
  if (r.ok) return r.value;
  return panic(`called \`Result::unwrap()\` on an \`Err\` value: ${JSON.stringify(r.error)}`);
}

// ───────────────────────────── markers ─────────────────────────────

/**
 * Fallible memory: an access may page-fault (user memory). Infallible memory is a subset of it,
 * so code for fallible memory works on kernel memory too.
 */
export interface Fallible {
  readonly __fallibility: "Fallible";
}

/** Infallible memory: valid, never faults (kernel memory). */
export interface Infallible {
  readonly __fallibility: "Infallible";
}

/** Either marker. */
export type Fallibility = Fallible | Infallible;

/**
 * I/O memory (MMIO), a source or destination of {@link memcpy}/{@link memset} only. Whether an
 * access to it faults depends on the platform (every MMIO access traps in a TDX guest), so it is
 * neither of the other two. Crate-internal in OSTD.
 */
export interface Io {
  readonly __fallibility: "Io";
}

/** The memory kinds of {@link memcpy} and {@link memset}, as values. */
export type MemKind = "Fallible" | "Infallible" | "Io";

// ───────────────────────────── copy.rs ─────────────────────────────

/**
 * The generalised `memcpy::<Dst, Src>`: copies `len` bytes from `src` (memory of kind `src_kind`)
 * to `dst` (of kind `dst_kind`). Returns the number of bytes copied: always `len` when neither
 * side is fallible (OSTD returns `()` then), fewer when a fault stopped it.
 *
 * Safety: `src` points to memory of kind `src_kind` that may be read for `len` bytes, `dst` to
 * memory of kind `dst_kind` that may be written (valid kernel memory for `Infallible`, user space
 * or valid memory for `Fallible`, a device window for `Io`). `Io` to `Io` is not a copy OSTD has.
 */
export function memcpy(dst_kind: MemKind, src_kind: MemKind, dst: number, src: number, len: number): number {
  "unsafe";
  if (dst_kind === "Io" && src_kind === "Io") panic("memcpy: no copy from I/O memory to I/O memory");
  if (dst_kind === "Infallible" && src_kind === "Infallible") {
    // A volatile copy, as OSTD's `volatile_copy_memory`: racing with a device or a user on
    // untyped memory must not be undefined behaviour for the kernel. Volatile is not a guarantee
    // in Rust's model, but the Linux kernel's READ_ONCE/WRITE_ONCE rely on the same compilers.
    volatile_copy_memory(dst, src, len);
    return len;
  }
  if (src_kind === "Io") {
    if (dst_kind === "Infallible") {
      copy_from_mmio(dst, src, len);
      return len;
    }
    return copy_from_mmio_fallible(dst, src, len);
  }
  if (dst_kind === "Io") {
    if (src_kind === "Infallible") {
      copy_to_mmio(src, dst, len);
      return len;
    }
    return copy_to_mmio_fallible(src, dst, len);
  }
  // At least one side is fallible: `__memcpy_fallible` handles the page faults and says how many
  // bytes it could not copy.
  const failed_bytes = __memcpy_fallible(dst, src, len);
  return len - failed_bytes;
}

/**
 * The generalised `memset::<Dst>`: fills `len` bytes at `dst` with `value`; the number of bytes
 * set. Safety: `dst` points to memory of kind `kind` that may be written for `len` bytes.
 */
export function memset(kind: MemKind, dst: number, value: number, len: number): number {
  "unsafe";
  if (kind === "Infallible") {
    volatile_set_memory(dst, value, len);
    return len;
  }
  if (kind === "Io") {
    memset_mmio(dst, value, len);
    return len;
  }
  const failed_bytes = __memset_fallible(dst, value, len);
  return len - failed_bytes;
}

// ───────────────────────────── PodOnce / PodAtomic ─────────────────────────────

/** The `PodOnce` layouts: integers read or written by one instruction (sizes 1, 2, 4, 8). */
const POD_ONCE = new Set(["u8", "u16", "u32", "u64", "usize", "i8", "i16", "i32", "i64", "isize"]);

/** Panics (OSTD: a failed compile-time assertion) when `layout` is not a non-tearing `PodOnce` type. */
function assert_pod_once(layout: Layout<unknown>): void {
  if (!POD_ONCE.has(layout.name) || !is_non_tearing(layout)) panic(`${layout.name} is not a PodOnce type`);
}

/** `PodAtomic` is implemented for `u32` only. */
function assert_pod_atomic(layout: Layout<unknown>): void {
  if (layout.name !== "u32") panic(`${layout.name} is not a PodAtomic type (only u32 is)`);
}

/** `<u32 as PodAtomic>::atomic_load_fallible`. Safety: `ptr` is valid for reads of 4 bytes or in user space, and aligned. */
function atomic_load_fallible_u32(ptr: number): Result<number> {
  "unsafe";
  const result = __atomic_load_fallible(ptr);
  return result === -1 ? Err(Error.PageFault) : Ok(result);
}

/** `<u32 as PodAtomic>::atomic_cmpxchg_fallible`. Safety: `ptr` is valid for writes of 4 bytes or in user space, and aligned. */
function atomic_cmpxchg_fallible_u32(ptr: number, old_val: number, new_val: number): Result<number> {
  "unsafe";
  const result = __atomic_cmpxchg_fallible(ptr, old_val, new_val);
  return result === -1 ? Err(Error.PageFault) : Ok(result);
}

// ───────────────────────────── VmReader ─────────────────────────────

/** The error of a fallible copy: the error and how many bytes were copied before it. */
export type PartialError = [Error, number];

/**
 * `VmReader<'a, Fallibility>`: reads from a contiguous range of memory, in kernel space (valid,
 * reads infallible) or in user space (through the active page table; reads fallible).
 *
 * When one of a reader and a writer is typed memory, their ranges do not overlap. For overlapping
 * untyped ranges (virtual or physical) the result of a copy is unspecified.
 *
 * A reader may be cloned: it either points to untyped memory or stands for shared references.
 */
export class VmReader<F extends Fallibility = Fallible> {
  /** @internal the address of the next byte to read. */
  _cursor: number;
  /** @internal one past the last byte. */
  _end: number;
  /** @internal whether the reader is `Fallible` (the type parameter, at run time). */
  readonly _fallible: boolean;
  declare private readonly _phantom: F;

  private constructor(cursor: number, end: number, fallible: boolean) {
    this._cursor = cursor;
    this._end = end;
    this._fallible = fallible;
  }

  /**
   * Makes a reader of `len` bytes at kernel address `vaddr`.
   *
   * Safety: `[vaddr, vaddr + len)` is valid (see the module's contract) for reads while the
   * reader is used.
   */
  static from_kernel_space(vaddr: number, len: number): VmReader<Infallible> {
    "unsafe";
    // A zero-sized object may sit at a small address outside kernel space: check only when len > 0.
    assert(len === 0 || KERNEL_BASE_VADDR <= vaddr, "from_kernel_space: not a kernel address");
    assert(len === 0 || vaddr + len <= KERNEL_END_VADDR, "from_kernel_space: past the kernel's end");
    return new VmReader<Infallible>(vaddr, vaddr + len, false);
  }

  /** Makes a reader of user memory. Safety: `[vaddr, vaddr + len)` is in user space. */
  static from_user_space(vaddr: number, len: number): VmReader<Fallible> {
    "unsafe";
    assert(vaddr + len <= MAX_USERSPACE_VADDR, "from_user_space: not in user space");
    return new VmReader<Fallible>(vaddr, vaddr + len, true);
  }

  /**
   * `From<&[u8]>`: a reader of the bytes of a shared reference to plain-old-data (an `array(u8,
   * n)`, or any POD layout).
   */
  static from(slice: Ref<unknown>): VmReader<Infallible> {
    const len = size_of(slice.layout);
    unsafe: {
      // SAFETY: the memory is typed; it is valid for reads for as long as the reference lives,
      // which outlives the reader; the type is plain-old-data (the caller's `Pod` bound).
      return VmReader.from_kernel_space(slice.as_ptr().expose_provenance(), len);
    }
  }

  /** `Clone::clone`. */
  clone(): VmReader<F> {
    return new VmReader<F>(this._cursor, this._end, this._fallible);
  }

  /** The number of bytes left to read. */
  remain(): number {
    return this._end - this._cursor;
  }

  /** The address of the next byte to read. */
  cursor(): number {
    return this._cursor;
  }

  /** Whether there is something left to read. */
  has_remain(): boolean {
    return this.remain() > 0;
  }

  /** Limits the remaining data to at most `max_remain` bytes. */
  limit(max_remain: number): this {
    if (max_remain < this.remain()) this._end = this._cursor + max_remain;
    return this;
  }

  /** Skips `nbytes` bytes. Panics if `nbytes > self.remain()`. */
  skip(nbytes: number): this {
    assert(nbytes <= this.remain(), `skip: ${nbytes} bytes past the ${this.remain()} remaining`);
    this._cursor += nbytes;
    return this;
  }

  /**
   * Reads into `writer` until this reader is empty or the writer full; the number of bytes read.
   * Infallible to infallible only.
   */
  read(this: VmReader<Infallible>, writer: VmWriter<Infallible>): number {
    const copy_len = Math.min(this.remain(), writer.avail());
    if (copy_len === 0) return 0;
    unsafe: {
      // SAFETY: both ranges are within those of the reader and the writer, which are valid for
      // reading and writing.
      memcpy("Infallible", "Infallible", writer._cursor, this._cursor, copy_len);
    }
    this._cursor += copy_len;
    writer._cursor += copy_len;
    return copy_len;
  }

  /**
   * Reads into `writer` until this reader is empty, the writer full, or a page fault stops it: the
   * bytes read, or the error with the bytes read so far. At least one side is fallible.
   */
  read_fallible(this: VmReader<Fallible>, writer: VmWriter<Fallibility>): Result<number, PartialError>;
  read_fallible(this: VmReader<Infallible>, writer: VmWriter<Fallible>): Result<number, PartialError>;
  read_fallible(this: VmReader<Fallibility>, writer: VmWriter<Fallibility>): Result<number, PartialError> {
    if (!this._fallible && !writer._fallible) panic("read_fallible: between two infallible ranges (use `read`)");
    const copy_len = Math.min(this.remain(), writer.avail());
    if (copy_len === 0) return Ok(0);
    let copied_len: number;
    unsafe: {
      // SAFETY: the source and destination lie within the reader's and the writer's ranges, so
      // each is valid for the access or in user space.
      copied_len = memcpy(writer._fallible ? "Fallible" : "Infallible", this._fallible ? "Fallible" : "Infallible", writer._cursor, this._cursor, copy_len);
    }
    this._cursor += copied_len;
    writer._cursor += copied_len;
    if (copied_len < copy_len) return Err([Error.PageFault, copied_len]);
    return Ok(copied_len);
  }

  /**
   * Reads a value of `Pod` type `layout`. `Err(InvalidArgs)` when fewer than its size remain; for
   * a fallible reader, `Err(PageFault)` when the read faults, and the cursor stays where it was.
   */
  read_val<T>(layout: Layout<T>): Result<T> {
    const size = size_of(layout);
    if (this.remain() < size) return Err(Error.InvalidArgs);
    // The value is assembled in a local: an unaligned volatile load of the reader's bytes.
    const val = local(layout);
    const val_addr = val.as_ptr().expose_provenance();
    if (!this._fallible) {
      unsafe: {
        // SAFETY: at least `size` bytes remain; the rest is as for `read`.
        volatile_copy_memory(val_addr, this._cursor, size);
      }
      this._cursor += size;
      return Ok(val.read());
    }
    let writer: VmWriter<Infallible>;
    unsafe: {
      // SAFETY: `val` is typed memory of `T`, a local no reference points to while the writer
      // lives; `T` is plain-old-data.
      writer = VmWriter.from_kernel_space(val_addr, size);
    }
    const r = (this as VmReader<Fallible>).read_fallible(writer);
    if (!r.ok) {
      // Move the cursor back by the bytes read so far.
      this._cursor -= r.error[1];
      return Err(r.error[0]);
    }
    assert(!writer.has_avail());
    // The copy initialised every byte of `val`, and `T` is plain-old-data.
    return Ok(val.read());
  }

  /**
   * Reads a `PodOnce` value with one non-tearing load (infallible readers). `Err(InvalidArgs)`
   * when fewer than its size remain; panics when the cursor is not aligned for it.
   */
  read_once<T>(this: VmReader<Infallible>, layout: Layout<T>): Result<T> {
    assert_pod_once(layout);
    const size = size_of(layout);
    if (this.remain() < size) return Err(Error.InvalidArgs);
    assert(this._cursor % align_of(layout) === 0, "read_once: the cursor is not aligned");
    let val: T;
    unsafe: {
      // SAFETY: `size` bytes remain and the cursor is aligned; the rest is as for `read`.
      val = arch_read_once(this._cursor, layout);
    }
    this._cursor += size;
    return Ok(val);
  }

  /**
   * Atomically loads a `PodAtomic` value (fallible readers; `u32`), Relaxed. The cursor does not
   * move. `Err(InvalidArgs)` when fewer than 4 bytes remain, `Err(PageFault)` on a fault that
   * stays; panics when the cursor is not aligned.
   */
  atomic_load(this: VmReader<Fallible>, layout: Layout<number> = u32): Result<number> {
    assert_pod_atomic(layout);
    if (this.remain() < size_of(layout)) return Err(Error.InvalidArgs);
    assert(this._cursor % align_of(layout) === 0, "atomic_load: the cursor is not aligned");
    unsafe: {
      // SAFETY: the cursor is valid for reads of 4 bytes or in user space, and aligned.
      return atomic_load_fallible_u32(this._cursor);
    }
  }

  /** Converts to a fallible reader: an infallible one covers what a fallible one may do. */
  to_fallible(this: VmReader<Infallible>): VmReader<Fallible> {
    return new VmReader<Fallible>(this._cursor, this._end, true);
  }
}

// ───────────────────────────── VmWriter ─────────────────────────────

/**
 * `VmWriter<'a, Fallibility>`: writes to a contiguous range of memory, in kernel space (writes
 * infallible) or user space (fallible). Not `Clone`: it may stand for a `&mut [u8]`, which must
 * stay exclusive (see {@link clone_exclusive}).
 */
export class VmWriter<F extends Fallibility = Fallible> {
  /** @internal the address of the next byte to write. */
  _cursor: number;
  /** @internal one past the last byte. */
  _end: number;
  /** @internal whether the writer is `Fallible`. */
  readonly _fallible: boolean;
  declare private readonly _phantom: F;

  private constructor(cursor: number, end: number, fallible: boolean) {
    this._cursor = cursor;
    this._end = end;
    this._fallible = fallible;
  }

  /**
   * Makes a writer of `len` bytes at kernel address `vaddr`.
   *
   * Safety: `[vaddr, vaddr + len)` is valid (see the module's contract) for writes while the
   * writer is used.
   */
  static from_kernel_space(vaddr: number, len: number): VmWriter<Infallible> {
    "unsafe";
    // A pointer from a zero-sized slice may be null, outside kernel space: check only when len > 0.
    assert(len === 0 || KERNEL_BASE_VADDR <= vaddr, "from_kernel_space: not a kernel address");
    assert(len === 0 || vaddr + len <= KERNEL_END_VADDR, "from_kernel_space: past the kernel's end");
    return new VmWriter<Infallible>(vaddr, vaddr + len, false);
  }

  /**
   * Makes a writer of user memory. Safety: `[vaddr, vaddr + len)` is in user space (that the
   * right address space is active while it is used is for correctness, not safety).
   */
  static from_user_space(vaddr: number, len: number): VmWriter<Fallible> {
    "unsafe";
    assert(vaddr + len <= MAX_USERSPACE_VADDR, "from_user_space: not in user space");
    return new VmWriter<Fallible>(vaddr, vaddr + len, true);
  }

  /** `From<&mut [u8]>`: a writer of the bytes of a unique reference to plain-old-data. */
  static from(slice: RefMut<unknown>): VmWriter<Infallible> {
    const len = size_of(slice.layout);
    unsafe: {
      // SAFETY: the memory is typed; valid for writes since the pointer comes from a unique
      // reference that outlives the writer; the type is plain-old-data.
      return VmWriter.from_kernel_space(slice.as_mut_ptr().expose_provenance(), len);
    }
  }

  /** The number of bytes that may still be written. */
  avail(): number {
    return this._end - this._cursor;
  }

  /** The address of the next byte to write. */
  cursor(): number {
    return this._cursor;
  }

  /** Whether there is room left. */
  has_avail(): boolean {
    return this.avail() > 0;
  }

  /** Limits the room left to at most `max_avail` bytes. */
  limit(max_avail: number): this {
    if (max_avail < this.avail()) this._end = this._cursor + max_avail;
    return this;
  }

  /** Skips `nbytes` bytes. Panics if `nbytes > self.avail()`. */
  skip(nbytes: number): this {
    assert(nbytes <= this.avail(), `skip: ${nbytes} bytes past the ${this.avail()} available`);
    this._cursor += nbytes;
    return this;
  }

  /**
   * A second writer at the same cursor and limit, for while this one is not used (`&mut self`):
   * writes through it do not move this writer's cursor.
   */
  clone_exclusive(): VmWriter<F> {
    return new VmWriter<F>(this._cursor, this._end, this._fallible);
  }

  /** Writes all of `reader` that fits (infallible to infallible); the bytes written. */
  write(this: VmWriter<Infallible>, reader: VmReader<Infallible>): number {
    return reader.read(this);
  }

  /** Writes from `reader` until it is empty, this writer full, or a fault; see `read_fallible`. */
  write_fallible(this: VmWriter<Fallible>, reader: VmReader<Fallibility>): Result<number, PartialError>;
  write_fallible(this: VmWriter<Infallible>, reader: VmReader<Fallible>): Result<number, PartialError>;
  write_fallible(this: VmWriter<Fallibility>, reader: VmReader<Fallibility>): Result<number, PartialError> {
    return (reader as VmReader<Fallible>).read_fallible(this);
  }

  /**
   * Writes a value of `Pod` type `layout`. `Err(InvalidArgs)` when it does not fit; for a
   * fallible writer, `Err(PageFault)` on a fault, and the cursor stays where it was.
   */
  write_val<T>(layout: Layout<T>, new_val: T): Result<void> {
    const size = size_of(layout);
    if (this.avail() < size) return Err(Error.InvalidArgs);
    const val = local(layout, new_val);
    const val_addr = val.as_ptr().expose_provenance();
    if (!this._fallible) {
      unsafe: {
        // SAFETY: at least `size` bytes are available; the rest is as for `write`. (An unaligned
        // volatile store of the value.)
        volatile_copy_memory(this._cursor, val_addr, size);
      }
      this._cursor += size;
      return Ok(undefined);
    }
    let reader: VmReader<Infallible>;
    unsafe: {
      // SAFETY: `val` is a live local of plain-old-data `T`, only read while the reader lives.
      reader = VmReader.from_kernel_space(val_addr, size);
    }
    const r = (this as VmWriter<Fallible>).write_fallible(reader);
    if (!r.ok) {
      // Move the cursor back by the bytes written so far.
      this._cursor -= r.error[1];
      return Err(r.error[0]);
    }
    return Ok(undefined);
  }

  /**
   * Writes a `PodOnce` value with one non-tearing store (infallible writers). `Err(InvalidArgs)`
   * when it does not fit; panics when the cursor is not aligned for it.
   */
  write_once<T>(this: VmWriter<Infallible>, layout: Layout<T>, new_val: T): Result<void> {
    assert_pod_once(layout);
    const size = size_of(layout);
    if (this.avail() < size) return Err(Error.InvalidArgs);
    assert(this._cursor % align_of(layout) === 0, "write_once: the cursor is not aligned");
    unsafe: {
      // SAFETY: `size` bytes are available and the cursor is aligned; the rest is as for `write`.
      arch_write_once(this._cursor, layout, new_val);
    }
    this._cursor += size;
    return Ok(undefined);
  }

  /**
   * Atomically compares and exchanges a `PodAtomic` value (fallible writers; `u32`), Relaxed: the
   * previous value and whether it was `old_val` (then `new_val` was written). `reader` must point
   * at the same place (it shows reading is allowed). Cursors do not move. `Err(InvalidArgs)` when
   * fewer than 4 bytes remain on either side, `Err(PageFault)` on a fault; panics when the two
   * cursors differ or are not aligned.
   */
  atomic_compare_exchange(
    this: VmWriter<Fallible>,
    reader: VmReader<Fallible>,
    old_val: number,
    new_val: number,
    layout: Layout<number> = u32,
  ): Result<[number, boolean]> {
    assert_pod_atomic(layout);
    const size = size_of(layout);
    if (this.avail() < size || reader.remain() < size) return Err(Error.InvalidArgs);
    assert(this._cursor === reader._cursor, "atomic_compare_exchange: the reader and the writer point to different places");
    assert(this._cursor % align_of(layout) === 0, "atomic_compare_exchange: the cursor is not aligned");
    let r: Result<number>;
    unsafe: {
      // SAFETY: the cursor is valid for reads and writes of 4 bytes or in user space, and aligned.
      r = atomic_cmpxchg_fallible_u32(this._cursor, old_val, new_val);
    }
    if (!r.ok) return r;
    return Ok([r.value, r.value === old_val >>> 0]);
  }

  /**
   * Writes up to `len` zeros (as many as fit). Infallible: the number written. Fallible: that, or
   * `Err([PageFault, n])` after `n` on a fault that stays.
   */
  fill_zeros(this: VmWriter<Infallible>, len: number): number;
  fill_zeros(this: VmWriter<Fallible>, len: number): Result<number, PartialError>;
  fill_zeros(this: VmWriter<Fallibility>, len: number): number | Result<number, PartialError> {
    const len_to_set = Math.min(this.avail(), len);
    if (len_to_set === 0) return this._fallible ? Ok(0) : 0;
    let set_len: number;
    unsafe: {
      // SAFETY: the destination lies within the writer's range: valid for writes, or user space.
      set_len = memset(this._fallible ? "Fallible" : "Infallible", this._cursor, 0, len_to_set);
    }
    this._cursor += set_len;
    if (!this._fallible) return len_to_set;
    if (set_len < len_to_set) return Err([Error.PageFault, set_len]);
    return Ok(len_to_set);
  }

  /**
   * Fills the room left with copies of `value` (infallible writers; OSTD's former
   * `VmWriter::fill`): the number of values written. Panics when the room is not a multiple of
   * the value's size.
   */
  fill<T>(this: VmWriter<Infallible>, layout: Layout<T>, value: T): number {
    const size = size_of(layout);
    const avail = this.avail();
    assert(size > 0 && avail % size === 0, "fill: the room is not a multiple of the value's size");
    const n = avail / size;
    for (let i = 0; i < n; i++) {
      const r = this.write_val(layout, value);
      if (!r.ok) panic("fill: write_val failed");
    }
    return n;
  }

  /** Converts to a fallible writer. */
  to_fallible(this: VmWriter<Infallible>): VmWriter<Fallible> {
    return new VmWriter<Fallible>(this._cursor, this._end, true);
  }
}

// ───────────────────────────── VmIo, VmIoFill, VmIoOnce (mod.rs, util.rs) ─────────────────────────────

/**
 * Reading and writing a VM object at offsets. Concurrent readers and writers may run; callers who
 * need their results predictable or atomic add their own synchronisation.
 */
export interface VmIo {
  /** Reads at `offset` until `writer` is full; no short reads (a partial read is an error). */
  read(offset: number, writer: VmWriter<Fallible>): Result<void>;
  /** Reads `size_of(buf)` bytes at `offset` into `buf` (`&mut [u8]`). */
  read_bytes(offset: number, buf: RefMut<unknown>): Result<void>;
  /** Reads a `Pod` value at `offset`. */
  read_val<T>(offset: number, layout: Layout<T>): Result<T>;
  /** Reads a slice (an array reference) at `offset`. */
  read_slice(offset: number, slice: RefMut<unknown>): Result<void>;
  /** Writes all of `reader` at `offset`; no short writes. */
  write(offset: number, reader: VmReader<Fallible>): Result<void>;
  /** Writes the bytes of `buf` (`&[u8]`) at `offset`. */
  write_bytes(offset: number, buf: Ref<unknown>): Result<void>;
  /** Writes a `Pod` value at `offset`. */
  write_val<T>(offset: number, layout: Layout<T>, new_val: T): Result<void>;
  /** Writes a slice at `offset`. */
  write_slice(offset: number, slice: Ref<unknown>): Result<void>;
}

/** Filling a VM object. */
export interface VmIoFill {
  /** Writes `len` zeros at `offset`; a short fill is an error with the number of zeros written. */
  fill_zeros(offset: number, len: number): Result<void, PartialError>;
}

/** Reading and writing a VM object at offsets, with one non-tearing access. */
export interface VmIoOnce {
  read_once<T>(offset: number, layout: Layout<T>): Result<T>;
  write_once<T>(offset: number, layout: Layout<T>, new_val: T): Result<void>;
}

/**
 * `util::HasVmReaderWriter`: a type that hands out infallible readers and writers of itself
 * (directly, or as a `Result` when access may be denied, like a DMA stream of the wrong
 * direction). {@link VmIoByReaderWriter} derives `VmIo`, `VmIoFill` and `VmIoOnce` from them.
 */
export interface HasVmReaderWriter {
  reader(): VmReader<Infallible> | Result<VmReader<Infallible>>;
  writer(): VmWriter<Infallible> | Result<VmWriter<Infallible>>;
}

function reader_result(s: HasVmReaderWriter): Result<VmReader<Infallible>> {
  const r = s.reader();
  return r instanceof VmReader ? Ok(r) : r;
}

function writer_result(s: HasVmReaderWriter): Result<VmWriter<Infallible>> {
  const w = s.writer();
  return w instanceof VmWriter ? Ok(w) : w;
}

/** `impl<S: HasVmReaderWriter> VmIo for S`: `read`. */
export function vm_io_read(s: HasVmReaderWriter, offset: number, writer: VmWriter<Fallible>): Result<void> {
  const rr = reader_result(s);
  if (!rr.ok) return rr;
  const reader = rr.value;
  const limit = offset + writer.avail();
  if (!Number.isSafeInteger(limit)) return Err(Error.Overflow);
  if (limit > reader.remain()) return Err(Error.InvalidArgs);
  reader.skip(offset);
  const r = reader.to_fallible().read_fallible(writer);
  if (!r.ok) return Err(r.error[0]);
  assert(!writer.has_avail());
  return Ok(undefined);
}

/** `VmIo::read_bytes` for `S: HasVmReaderWriter`. */
export function vm_io_read_bytes(s: HasVmReaderWriter, offset: number, buf: RefMut<unknown>): Result<void> {
  const rr = reader_result(s);
  if (!rr.ok) return rr;
  const reader = rr.value;
  const len_buf = size_of(buf.layout);
  const limit = offset + len_buf;
  if (!Number.isSafeInteger(limit)) return Err(Error.Overflow);
  if (limit > reader.remain()) return Err(Error.InvalidArgs);
  const len = reader.skip(offset).read(VmWriter.from(buf));
  assert(len === len_buf);
  return Ok(undefined);
}

/** `VmIo::read_val` for `S: HasVmReaderWriter`. */
export function vm_io_read_val<T>(s: HasVmReaderWriter, offset: number, layout: Layout<T>): Result<T> {
  const rr = reader_result(s);
  if (!rr.ok) return rr;
  const reader = rr.value;
  if (offset > reader.remain()) return Err(Error.InvalidArgs);
  return reader.skip(offset).read_val(layout);
}

/** `VmIo::write` for `S: HasVmReaderWriter`. */
export function vm_io_write(s: HasVmReaderWriter, offset: number, reader: VmReader<Fallible>): Result<void> {
  const wr = writer_result(s);
  if (!wr.ok) return wr;
  const writer = wr.value;
  const limit = offset + reader.remain();
  if (!Number.isSafeInteger(limit)) return Err(Error.Overflow);
  if (limit > writer.avail()) return Err(Error.InvalidArgs);
  writer.skip(offset);
  const r = writer.to_fallible().write_fallible(reader);
  if (!r.ok) return Err(r.error[0]);
  assert(!reader.has_remain());
  return Ok(undefined);
}

/** `VmIo::write_bytes` for `S: HasVmReaderWriter`. */
export function vm_io_write_bytes(s: HasVmReaderWriter, offset: number, buf: Ref<unknown>): Result<void> {
  const wr = writer_result(s);
  if (!wr.ok) return wr;
  const writer = wr.value;
  const len_buf = size_of(buf.layout);
  const limit = offset + len_buf;
  if (!Number.isSafeInteger(limit)) return Err(Error.Overflow);
  if (limit > writer.avail()) return Err(Error.InvalidArgs);
  const len = writer.skip(offset).write(VmReader.from(buf));
  assert(len === len_buf);
  return Ok(undefined);
}

/** `VmIo::write_val` for `S: HasVmReaderWriter`. */
export function vm_io_write_val<T>(s: HasVmReaderWriter, offset: number, layout: Layout<T>, new_val: T): Result<void> {
  const wr = writer_result(s);
  if (!wr.ok) return wr;
  const writer = wr.value;
  if (offset > writer.avail()) return Err(Error.InvalidArgs);
  return writer.skip(offset).write_val(layout, new_val);
}

/** `VmIoFill::fill_zeros` for `S: HasVmReaderWriter`. */
export function vm_io_fill_zeros(s: HasVmReaderWriter, offset: number, len: number): Result<void, PartialError> {
  const wr = writer_result(s);
  if (!wr.ok) return Err([wr.error, 0]);
  const writer = wr.value;
  if (offset > writer.avail()) return Err([Error.InvalidArgs, 0]);
  const filled_len = writer.skip(offset).fill_zeros(len);
  if (filled_len === len) return Ok(undefined);
  return Err([Error.InvalidArgs, filled_len]);
}

/** `VmIoOnce::read_once` for `S: HasVmReaderWriter`. */
export function vm_io_read_once<T>(s: HasVmReaderWriter, offset: number, layout: Layout<T>): Result<T> {
  const rr = reader_result(s);
  if (!rr.ok) return rr;
  return rr.value.skip(offset).read_once(layout);
}

/** `VmIoOnce::write_once` for `S: HasVmReaderWriter`. */
export function vm_io_write_once<T>(s: HasVmReaderWriter, offset: number, layout: Layout<T>, new_val: T): Result<void> {
  const wr = writer_result(s);
  if (!wr.ok) return wr;
  return wr.value.skip(offset).write_once(layout, new_val);
}

/**
 * A base class deriving `VmIo`, `VmIoFill` and `VmIoOnce` from `reader()` and `writer()` (the
 * blanket impls of `util.rs`): extend it, or call the `vm_io_*` functions from your own methods.
 */
export abstract class VmIoByReaderWriter implements HasVmReaderWriter, VmIo, VmIoFill, VmIoOnce {
  abstract reader(): VmReader<Infallible> | Result<VmReader<Infallible>>;
  abstract writer(): VmWriter<Infallible> | Result<VmWriter<Infallible>>;

  read(offset: number, writer: VmWriter<Fallible>): Result<void> {
    return vm_io_read(this, offset, writer);
  }
  read_bytes(offset: number, buf: RefMut<unknown>): Result<void> {
    return vm_io_read_bytes(this, offset, buf);
  }
  read_val<T>(offset: number, layout: Layout<T>): Result<T> {
    return vm_io_read_val(this, offset, layout);
  }
  /** `read_slice`: the default of `VmIo`, through `read_bytes` (the elements are `Pod`). */
  read_slice(offset: number, slice: RefMut<unknown>): Result<void> {
    return vm_io_read_bytes(this, offset, slice);
  }
  write(offset: number, reader: VmReader<Fallible>): Result<void> {
    return vm_io_write(this, offset, reader);
  }
  write_bytes(offset: number, buf: Ref<unknown>): Result<void> {
    return vm_io_write_bytes(this, offset, buf);
  }
  write_val<T>(offset: number, layout: Layout<T>, new_val: T): Result<void> {
    return vm_io_write_val(this, offset, layout, new_val);
  }
  /** `write_slice`: through `write_bytes`. */
  write_slice(offset: number, slice: Ref<unknown>): Result<void> {
    return vm_io_write_bytes(this, offset, slice);
  }
  fill_zeros(offset: number, len: number): Result<void, PartialError> {
    return vm_io_fill_zeros(this, offset, len);
  }
  read_once<T>(offset: number, layout: Layout<T>): Result<T> {
    return vm_io_read_once(this, offset, layout);
  }
  write_once<T>(offset: number, layout: Layout<T>, new_val: T): Result<void> {
    return vm_io_write_once(this, offset, layout, new_val);
  }
}
