/**
 * The checked `kmiri/rt` memory API: raw pointers, allocation, `Box`. Every operation is checked
 * against the running Machine's memory (liveness, bounds, alignment, initialisation, validity,
 * deallocation layout) and every UNSAFE one against the Machine's unsafe regions.
 *
 * A {@link Ptr} is `(address, provenance, layout)`, the provenance being the {@link Allocation}
 * the pointer was derived from (or `null`): an access needs no lookup. The checks themselves live
 * in `interp/memory/access.ts`; this module is the API around them.
 */
import { current } from "../../interp/host.js";
import { checkDealloc, checkOffset, checkRange, checkReference, load, store } from "../../interp/memory/access.js";
import type { Allocation } from "../../interp/memory/allocation.js";
import { reportUB } from "../../interp/memory/diagnose.js";
import { invalidValueMessage } from "../../interp/memory/messages.js";
import type { Layout } from "../layouts.js";
import { SharedRef, UniqueRef } from "./simple-ref.js";
import { unsafeCallOutsideUnsafe, unsupported } from "./unsafe.js";

/** A raw pointer `*mut T`: an address, a provenance and the layout of its pointee. */
export class Ptr<T> {
  /** The address. (The `addr()` method is the Rust API; this is the field.) */
  readonly address: number;
  /** The allocation this pointer may access, or `null` (no provenance: never dereferenceable). */
  readonly provenance: Allocation | null;
  /** The pointee's layout. */
  readonly layout: Layout<T>;

  constructor(address: number, provenance: Allocation | null, layout: Layout<T>) {
    this.address = address;
    this.provenance = provenance;
    this.layout = layout;
  }

  /** UNSAFE. `p.add(count)`: arithmetic in units of `T`; must stay inside the allocation (or one past it). */
  add(count: number): Ptr<T> {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::add");
    return this.offsetBytes(count * this.layout.size);
  }

  /** UNSAFE. `p.sub(count)`. */
  sub(count: number): Ptr<T> {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::sub");
    return this.offsetBytes(-count * this.layout.size);
  }

  /** UNSAFE. `p.offset(count)` (signed). */
  offset(count: number): Ptr<T> {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::offset");
    return this.offsetBytes(count * this.layout.size);
  }

  /** UNSAFE. `p.byte_add(bytes)`. */
  byte_add(bytes: number): Ptr<T> {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::byte_add");
    return this.offsetBytes(bytes);
  }

  /** UNSAFE. `p.byte_sub(bytes)`. */
  byte_sub(bytes: number): Ptr<T> {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::byte_sub");
    return this.offsetBytes(-bytes);
  }

  /** `p.wrapping_add(count)`: may leave the allocation; only dereferencing such a pointer is UB. */
  wrapping_add(count: number): Ptr<T> {
    return new Ptr(this.address + count * this.layout.size, this.provenance, this.layout);
  }

  /** `p.wrapping_sub(count)`. */
  wrapping_sub(count: number): Ptr<T> {
    return new Ptr(this.address - count * this.layout.size, this.provenance, this.layout);
  }

  /**
   * UNSAFE. `p.offset_from(origin)`: the distance in units of `T`. Both pointers must be derived
   * from the same allocation, the range between them in bounds, the distance a multiple of the size.
   */
  offset_from(origin: Ptr<T>): number {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::offset_from");
    const bytes = this.address - origin.address;
    const size = this.layout.size;
    if (bytes === 0) return 0;
    const a = this.provenance;
    if (a === null || a !== origin.provenance) {
      reportUB(
        a === null || origin.provenance === null ? "no-provenance" : "out-of-bounds",
        "`ptr_offset_from` called on two different pointers that are not both derived from the same allocation",
      );
    }
    const off = origin.address - a.base;
    if (!a.live || off < 0 || off > a.size || off + bytes < 0 || off + bytes > a.size) {
      reportUB(
        a.live ? "out-of-bounds" : "use-after-free",
        "`ptr_offset_from` called on two different pointers where the memory range between them is not in-bounds of an allocation",
      );
    }
    if (size === 0) unsupported("`offset_from` of a pointer to a zero-sized type (Rust panics: pointee size must be > 0)");
    if (bytes % size !== 0) {
      reportUB("out-of-bounds", `exact_div: ${bytes} cannot be divided by ${size} without remainder`);
    }
    return bytes / size;
  }

  /** `p.cast::<U>()`: same address and provenance, another pointee. */
  cast<U>(layout: Layout<U>): Ptr<U> {
    return new Ptr(this.address, this.provenance, layout);
  }

  /** UNSAFE. `&raw mut (*p).field`. Not yet: struct layouts come with the memory-model issue. */
  field(name: string): never {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::field");
    return unsupported(`\`Ptr::field\` ("${name}") is not supported yet: struct layouts come with the memory-model issue`);
  }

  /** UNSAFE. `&raw mut (*p)[i]`. Not yet: array layouts come with the memory-model issue. */
  index(i: number): never {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::index");
    return unsupported(`\`Ptr::index\` (${i}) is not supported yet: array layouts come with the memory-model issue`);
  }

  /** `p.is_null()`. */
  is_null(): boolean {
    return this.address === 0;
  }

  /** `p.is_aligned()`: the address is a multiple of the pointee's alignment. */
  is_aligned(): boolean {
    return this.address % this.layout.align === 0;
  }

  /** `p.addr()`: the address, without exposing the provenance. */
  addr(): number {
    return this.address;
  }

  /** `p.expose_provenance()`: the address, exposing the provenance for a later `ptr_from_exposed`. */
  expose_provenance(): number {
    if (this.provenance !== null) this.provenance.exposed = true;
    return this.address;
  }

  /** `p.with_addr(addr)`: same provenance, another address. */
  with_addr(addr: number): Ptr<T> {
    return new Ptr(addr, this.provenance, this.layout);
  }

  /** UNSAFE. `p.read()` (`ptr::read`): the pointer must be aligned. */
  read(): T {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::read");
    return load(this.address, this.provenance, this.layout, true);
  }

  /** UNSAFE. `p.write(value)` (`ptr::write`). */
  write(value: T): void {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::write");
    store(this.address, this.provenance, this.layout, true, value);
  }

  /** UNSAFE. `p.read_unaligned()`. */
  read_unaligned(): T {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::read_unaligned");
    return load(this.address, this.provenance, this.layout, false);
  }

  /** UNSAFE. `p.write_unaligned(value)`. */
  write_unaligned(value: T): void {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::write_unaligned");
    store(this.address, this.provenance, this.layout, false, value);
  }

  /** UNSAFE. `p.read_volatile()` (aligned, like `read`; MMIO routing comes with Mirch). */
  read_volatile(): T {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::read_volatile");
    return load(this.address, this.provenance, this.layout, true);
  }

  /** UNSAFE. `p.write_volatile(value)`. */
  write_volatile(value: T): void {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::write_volatile");
    store(this.address, this.provenance, this.layout, true, value);
  }

  /** UNSAFE. `p.replace(value)` (`ptr::replace`): writes `value`, returns the old one. */
  replace(value: T): T {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::replace");
    const old = load(this.address, this.provenance, this.layout, true);
    store(this.address, this.provenance, this.layout, true, value);
    return old;
  }

  /** UNSAFE. `&*p`: a shared reference (checked dereferenceable and aligned; no retag yet). */
  as_ref(): SharedRef<T> {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::as_ref");
    checkReference(this.address, this.provenance, this.layout, false);
    return new SharedRef(this);
  }

  /** UNSAFE. `&mut *p`: a unique reference (checked dereferenceable and aligned; no retag yet). */
  as_mut(): UniqueRef<T> {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::as_mut");
    checkReference(this.address, this.provenance, this.layout, true);
    return new UniqueRef(this);
  }

  /** `{:?}` of a pointer: its address in hex. */
  toString(): string {
    return `0x${this.address.toString(16)}`;
  }

  /** The in-bounds offset by `bytes`, checked. */
  private offsetBytes(bytes: number): Ptr<T> {
    checkOffset(this.address, this.provenance, bytes);
    return new Ptr(this.address + bytes, this.provenance, this.layout);
  }
}

/** `ptr::null_mut()` (and `ptr::null()`). */
export function null_mut<T>(layout: Layout<T>): Ptr<T> {
  return new Ptr(0, null, layout);
}

/**
 * `ptr::with_exposed_provenance_mut(addr)`. The provenance is picked now, among the allocations
 * whose provenance was exposed, rather than at each access as Miri's wildcard does (the borrow
 * tracker's wildcard tags come with the memory-model issue). No exposed allocation there: a
 * pointer without provenance.
 */
export function ptr_from_exposed<T>(addr: number, layout: Layout<T>): Ptr<T> {
  const a = current.memory.findByAddress(addr);
  return new Ptr(addr, a !== undefined && a.exposed && a.live ? a : null, layout);
}

/** `ptr::without_provenance_mut(addr)`: never dereferenceable. */
export function without_provenance<T>(addr: number, layout: Layout<T>): Ptr<T> {
  return new Ptr(addr, null, layout);
}

/** A fresh heap block for `layout`, its pointer. */
function allocate<T>(layout: Layout<T>, size: number, zeroed: boolean): Ptr<T> {
  const a = current.memory.allocate(size, layout.align, "heap", current.currentSite(), zeroed);
  return new Ptr(a.base, a, layout);
}

/** UNSAFE. `alloc::alloc`: uninitialised memory for one `T`. */
export function alloc<T>(layout: Layout<T>): Ptr<T> {
  if (!current.inUnsafe()) unsafeCallOutsideUnsafe("alloc");
  return allocate(layout, layout.size, false);
}

/** UNSAFE. `alloc::alloc_zeroed`. */
export function alloc_zeroed<T>(layout: Layout<T>): Ptr<T> {
  if (!current.inUnsafe()) unsafeCallOutsideUnsafe("alloc_zeroed");
  return allocate(layout, layout.size, true);
}

/** UNSAFE. `alloc::dealloc`: `p` must be the start of a live heap block allocated with `layout`. */
export function dealloc<T>(p: Ptr<T>, layout: Layout<T>): void {
  if (!current.inUnsafe()) unsafeCallOutsideUnsafe("dealloc");
  const a = checkDealloc(p.address, p.provenance, layout.size, layout.align, "deallocating");
  current.memory.deallocate(a, current.currentSite());
}

/**
 * UNSAFE. `alloc::realloc`: a new block of `new_size` bytes holding the old contents (up to the
 * smaller size; a grown tail is uninitialised); the old block is freed.
 */
export function realloc<T>(p: Ptr<T>, layout: Layout<T>, new_size: number): Ptr<T> {
  if (!current.inUnsafe()) unsafeCallOutsideUnsafe("realloc");
  const old = checkDealloc(p.address, p.provenance, layout.size, layout.align, "reallocating");
  const q = allocate(layout, new_size, false);
  const a = q.provenance!;
  const n = Math.min(old.size, new_size);
  a.bytes.set(old.bytes.subarray(0, n));
  copyInit(old, 0, a, 0, n);
  current.memory.deallocate(old, current.currentSite());
  return q;
}

/** Copies the init state of `n` bytes from `src` at `s` to `dst` at `d` (ranges checked, may overlap). */
function copyInit(src: Allocation, s: number, dst: Allocation, d: number, n: number): void {
  if (src.init === null) {
    dst.markInit(d, n);
    return;
  }
  const mask = src.init.slice(s, s + n);
  for (let i = 0; i < n; i++) {
    if (mask[i] === 1) dst.markInit(d + i, 1);
    else dst.markUninit(d + i, 1);
  }
}

/** `ptr::copy` and `ptr::copy_nonoverlapping`, checked. */
function copyChecked<T>(src: Ptr<T>, dst: Ptr<T>, count: number, nonoverlapping: boolean): void {
  const n = count * src.layout.size;
  const align = src.layout.align;
  const so = checkRange(src.address, src.provenance, n, align, false);
  const doff = checkRange(dst.address, dst.provenance, n, align, true);
  if (n === 0) return;
  const sa = src.provenance!;
  const da = dst.provenance!;
  if (nonoverlapping && sa === da && so < doff + n && doff < so + n) {
    reportUB("overlapping-copy", "`copy_nonoverlapping` called on overlapping ranges");
  }
  // copyWithin / set on a subarray both behave like memmove.
  if (sa === da) da.bytes.copyWithin(doff, so, so + n);
  else da.bytes.set(sa.bytes.subarray(so, so + n), doff);
  copyInit(sa, so, da, doff, n);
}

/** UNSAFE. `ptr::copy(src, dst, count)`: may overlap; copies initialisation along with the bytes. */
export function copy<T>(src: Ptr<T>, dst: Ptr<T>, count: number): void {
  if (!current.inUnsafe()) unsafeCallOutsideUnsafe("copy");
  copyChecked(src, dst, count, false);
}

/** UNSAFE. `ptr::copy_nonoverlapping(src, dst, count)`: overlapping ranges are `overlapping-copy`. */
export function copy_nonoverlapping<T>(src: Ptr<T>, dst: Ptr<T>, count: number): void {
  if (!current.inUnsafe()) unsafeCallOutsideUnsafe("copy_nonoverlapping");
  copyChecked(src, dst, count, true);
}

/** UNSAFE. `ptr::write_bytes(dst, byte, count)`: sets `count * size_of::<T>()` bytes. */
export function write_bytes<T>(dst: Ptr<T>, byte: number, count: number): void {
  if (!current.inUnsafe()) unsafeCallOutsideUnsafe("write_bytes");
  const n = count * dst.layout.size;
  const off = checkRange(dst.address, dst.provenance, n, dst.layout.align, true);
  if (n === 0) return;
  const a = dst.provenance!;
  a.bytes.fill(byte, off, off + n);
  a.markInit(off, n);
}

/**
 * UNSAFE. `mem::transmute`: the bytes of `value` as `to`. The sizes must match (rustc's E0512
 * otherwise); the result is checked for validity. Scalars only until composite layouts exist.
 */
export function transmute<T, U>(value: T, from: Layout<T>, to: Layout<U>): U {
  if (!current.inUnsafe()) unsafeCallOutsideUnsafe("transmute");
  if (from.size !== to.size) {
    unsupported(
      `cannot transmute between types of different sizes: \`${from.name}\` (${from.size * 8} bits) and \`${to.name}\` (${to.size * 8} bits)`,
    );
  }
  const view = new DataView(new ArrayBuffer(from.size));
  from.encode(view, 0, value);
  const why = to.invalid === null ? null : to.invalid(view, 0);
  if (why !== null) reportUB("invalid-value", invalidValueMessage(to.name, why));
  return to.decode(view, 0);
}

/** `Box<T>`: an owned heap block. JavaScript has no destructors: `drop()` frees it, else it leaks. */
export class BoxImpl<T> {
  /** The box's pointer (`Box::into_raw` hands it out). */
  readonly raw: Ptr<T>;
  /** The boxed value's layout. */
  readonly layout: Layout<T>;

  constructor(raw: Ptr<T>) {
    this.raw = raw;
    this.layout = raw.layout;
  }

  /** `*b` (a copy of the value). */
  read(): T {
    return load(this.raw.address, this.raw.provenance, this.layout, true);
  }

  /** `*b = value`. */
  write(value: T): void {
    store(this.raw.address, this.raw.provenance, this.layout, true, value);
  }

  /** `&*b`. */
  as_ref(): SharedRef<T> {
    checkReference(this.raw.address, this.raw.provenance, this.layout, false);
    return new SharedRef(this.raw);
  }

  /** `&mut *b`. */
  as_mut(): UniqueRef<T> {
    checkReference(this.raw.address, this.raw.provenance, this.layout, true);
    return new UniqueRef(this.raw);
  }

  /** `drop(b)`: frees the block (a second drop is `double-free`). */
  drop(): void {
    const a = checkDealloc(this.raw.address, this.raw.provenance, this.layout.size, this.layout.align, "deallocating");
    current.memory.deallocate(a, current.currentSite());
  }
}

/** `Box<T>`: see {@link BoxImpl}. */
export type Box<T> = BoxImpl<T>;

/** `Box::new`, `Box::into_raw`, `Box::from_raw`, `Box::leak`. */
export const Box = {
  /** `Box::new(value)`: a heap block holding `value`. */
  new<T>(layout: Layout<T>, value: T): BoxImpl<T> {
    const p = allocate(layout, layout.size, false);
    store(p.address, p.provenance, layout, true, value);
    return new BoxImpl(p);
  },
  /** `Box::into_raw(b)`: the pointer; freeing it is now the caller's job (`dealloc` or `Box::from_raw`). */
  into_raw<T>(b: BoxImpl<T>): Ptr<T> {
    return b.raw;
  },
  /** UNSAFE. `Box::from_raw(p)`: takes ownership of a block allocated for a `Box` of the same layout. */
  from_raw<T>(p: Ptr<T>): BoxImpl<T> {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Box::from_raw");
    return new BoxImpl(p);
  },
  /** `Box::leak(b)`: a `&'static mut` to the value; the block is never freed and is not a leak. */
  leak<T>(b: BoxImpl<T>): UniqueRef<T> {
    checkReference(b.raw.address, b.raw.provenance, b.layout, true);
    if (b.raw.provenance !== null) b.raw.provenance.leakOk = true;
    return new UniqueRef(b.raw);
  },
};
