/**
 * The native `kmiri/rt` memory API: the same names and values as the checked one, no checks —
 * the speed baseline (`--native`) and the twin a clean program must behave identically on.
 *
 * Addresses come from the same bump {@link AddressSpace} as the checked Machine's, so a program
 * sees the same addresses in both modes. Bytes live in 1 MiB chunks, each a window onto a range
 * of the address space: allocating is a bump, and a pointer carries its chunk's `DataView` and
 * the address of the chunk's first byte, so an access is one subtraction and one `DataView` call.
 * A chunk counts its live allocations and is released to the garbage collector when the last is
 * freed (addresses are never reused, so neither are chunks).
 */
import { AddressSpace, type AddressSpaceOptions } from "../../interp/memory/address-space.js";
import type { Layout } from "../layouts.js";
import { SharedRef, UniqueRef } from "./simple-ref.js";

/** Bytes per chunk (a larger allocation gets a chunk of its size). */
const CHUNK_BYTES = 1 << 20;

/** A window of the address space backed by one buffer. */
interface Chunk {
  /** The address of the chunk's first byte. */
  readonly start: number;
  /** Its length in bytes. */
  readonly length: number;
  /** Its bytes; `null` once every allocation in it was freed. */
  view: DataView | null;
  /** Allocations in it not yet freed. */
  live: number;
}

/** The native heap: one per process (reset between tests with {@link resetNativeMemory}). */
let space = new AddressSpace();
/** Every chunk, in address order. */
let chunks: Chunk[] = [];
/** The chunk being filled. */
let current: Chunk | null = null;

/**
 * Resets the native heap (between tests), optionally with other address-space options — they must
 * be the checked Machine's for the two modes to see the same addresses.
 */
export function resetNativeMemory(options: AddressSpaceOptions = {}): void {
  space = new AddressSpace(options);
  chunks = [];
  current = null;
}

/** The chunk holding `addr`, or `null`. O(log chunks). */
function chunkAt(addr: number): Chunk | null {
  let lo = 0;
  let hi = chunks.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = chunks[mid]!;
    if (addr < c.start) hi = mid - 1;
    else if (addr >= c.start + c.length) lo = mid + 1;
    else return c;
  }
  return null;
}

/** Allocates `size` bytes aligned to `align`: zeroed (chunks are fresh and never reused). */
function allocate<T>(size: number, align: number, layout: Layout<T>): Ptr<T> {
  const base = space.reserve(size, align);
  if (base < 0) throw new RangeError("kmiri native: address space exhausted");
  let c = current;
  // max(size, 1): a zero-sized block must still lie inside its chunk, so that `free` finds it.
  if (c === null || base + Math.max(size, 1) > c.start + c.length) {
    if (c !== null && c.live === 0) c.view = null;
    const length = Math.max(CHUNK_BYTES, size);
    c = current = { start: base, length, view: new DataView(new ArrayBuffer(length)), live: 0 };
    chunks.push(c);
  }
  c.live++;
  return new Ptr(base, layout, c.view, c.start);
}

/** Frees the allocation at `addr`: its chunk's bytes go once nothing in it is live. */
function free(addr: number): void {
  const c = chunkAt(addr);
  if (c !== null && --c.live === 0 && c !== current) c.view = null;
}

/** The bytes `[addr, addr + n)` of the pointer's chunk. */
function bytesOf(p: Ptr<unknown>, n: number): Uint8Array {
  const v = p.view!;
  return new Uint8Array(v.buffer, v.byteOffset + (p.address - p.start), n);
}

/** A raw pointer `*mut T`, unchecked. */
export class Ptr<T> {
  /** The address. */
  readonly address: number;
  /** The pointee's layout. */
  readonly layout: Layout<T>;
  /** The bytes of the chunk the pointer points into, or `null` (no provenance). */
  readonly view: DataView | null;
  /** The address of `view`'s first byte. */
  readonly start: number;

  constructor(address: number, layout: Layout<T>, view: DataView | null, start: number) {
    this.address = address;
    this.layout = layout;
    this.view = view;
    this.start = start;
  }

  /** `p.add(count)`. */
  add(count: number): Ptr<T> {
    return new Ptr(this.address + count * this.layout.size, this.layout, this.view, this.start);
  }
  /** `p.sub(count)`. */
  sub(count: number): Ptr<T> {
    return new Ptr(this.address - count * this.layout.size, this.layout, this.view, this.start);
  }
  /** `p.offset(count)`. */
  offset(count: number): Ptr<T> {
    return new Ptr(this.address + count * this.layout.size, this.layout, this.view, this.start);
  }
  /** `p.byte_add(bytes)`. */
  byte_add(bytes: number): Ptr<T> {
    return new Ptr(this.address + bytes, this.layout, this.view, this.start);
  }
  /** `p.byte_sub(bytes)`. */
  byte_sub(bytes: number): Ptr<T> {
    return new Ptr(this.address - bytes, this.layout, this.view, this.start);
  }
  /** `p.wrapping_add(count)`. */
  wrapping_add(count: number): Ptr<T> {
    return new Ptr(this.address + count * this.layout.size, this.layout, this.view, this.start);
  }
  /** `p.wrapping_sub(count)`. */
  wrapping_sub(count: number): Ptr<T> {
    return new Ptr(this.address - count * this.layout.size, this.layout, this.view, this.start);
  }
  /** `p.offset_from(origin)`. */
  offset_from(origin: Ptr<T>): number {
    return (this.address - origin.address) / this.layout.size;
  }
  /** `p.cast::<U>()`. */
  cast<U>(layout: Layout<U>): Ptr<U> {
    return new Ptr(this.address, layout, this.view, this.start);
  }
  /** Not yet (struct layouts). */
  field(name: string): never {
    throw new Error(`kmiri native: Ptr::field("${name}") is not supported yet`);
  }
  /** Not yet (array layouts). */
  index(i: number): never {
    throw new Error(`kmiri native: Ptr::index(${i}) is not supported yet`);
  }
  /** `p.is_null()`. */
  is_null(): boolean {
    return this.address === 0;
  }
  /** `p.is_aligned()`. */
  is_aligned(): boolean {
    return this.address % this.layout.align === 0;
  }
  /** `p.addr()`. */
  addr(): number {
    return this.address;
  }
  /** `p.expose_provenance()`. */
  expose_provenance(): number {
    return this.address;
  }
  /** `p.with_addr(addr)`. */
  with_addr(addr: number): Ptr<T> {
    return new Ptr(addr, this.layout, this.view, this.start);
  }
  /** `p.read()`. */
  read(): T {
    return this.layout.decode(this.view!, this.address - this.start);
  }
  /** `p.write(value)`. */
  write(value: T): void {
    this.layout.encode(this.view!, this.address - this.start, value);
  }
  /** `p.read_unaligned()`. */
  read_unaligned(): T {
    return this.layout.decode(this.view!, this.address - this.start);
  }
  /** `p.write_unaligned(value)`. */
  write_unaligned(value: T): void {
    this.layout.encode(this.view!, this.address - this.start, value);
  }
  /** `p.read_volatile()`. */
  read_volatile(): T {
    return this.layout.decode(this.view!, this.address - this.start);
  }
  /** `p.write_volatile(value)`. */
  write_volatile(value: T): void {
    this.layout.encode(this.view!, this.address - this.start, value);
  }
  /** `p.replace(value)`. */
  replace(value: T): T {
    const off = this.address - this.start;
    const old = this.layout.decode(this.view!, off);
    this.layout.encode(this.view!, off, value);
    return old;
  }
  /** `&*p`. */
  as_ref(): SharedRef<T> {
    return new SharedRef(this);
  }
  /** `&mut *p`. */
  as_mut(): UniqueRef<T> {
    return new UniqueRef(this);
  }
  /** The address in hex. */
  toString(): string {
    return `0x${this.address.toString(16)}`;
  }
}

/** `ptr::null_mut()`. */
export function null_mut<T>(layout: Layout<T>): Ptr<T> {
  return new Ptr(0, layout, null, 0);
}

/** `ptr::with_exposed_provenance_mut(addr)`: the live chunk holding `addr`, if any. */
export function ptr_from_exposed<T>(addr: number, layout: Layout<T>): Ptr<T> {
  const c = chunkAt(addr);
  return c === null || c.view === null ? new Ptr(addr, layout, null, 0) : new Ptr(addr, layout, c.view, c.start);
}

/** `ptr::without_provenance_mut(addr)`. */
export function without_provenance<T>(addr: number, layout: Layout<T>): Ptr<T> {
  return new Ptr(addr, layout, null, 0);
}

/** `alloc::alloc`. */
export function alloc<T>(layout: Layout<T>): Ptr<T> {
  return allocate(layout.size, layout.align, layout);
}

/** `alloc::alloc_zeroed`. */
export function alloc_zeroed<T>(layout: Layout<T>): Ptr<T> {
  return allocate(layout.size, layout.align, layout);
}

/** `alloc::dealloc`. */
export function dealloc<T>(p: Ptr<T>, _layout: Layout<T>): void {
  free(p.address);
}

/** `alloc::realloc`. */
export function realloc<T>(p: Ptr<T>, layout: Layout<T>, new_size: number): Ptr<T> {
  const q = allocate(new_size, layout.align, layout);
  const n = Math.min(layout.size, new_size);
  if (n > 0) bytesOf(q, n).set(bytesOf(p, n));
  free(p.address);
  return q;
}

/** `ptr::copy` (may overlap: `TypedArray.set` copies as memmove does). */
export function copy<T>(src: Ptr<T>, dst: Ptr<T>, count: number): void {
  const n = count * src.layout.size;
  if (n > 0) bytesOf(dst, n).set(bytesOf(src, n));
}

/** `ptr::copy_nonoverlapping`. */
export function copy_nonoverlapping<T>(src: Ptr<T>, dst: Ptr<T>, count: number): void {
  const n = count * src.layout.size;
  if (n > 0) bytesOf(dst, n).set(bytesOf(src, n));
}

/** `ptr::write_bytes`. */
export function write_bytes<T>(dst: Ptr<T>, byte: number, count: number): void {
  const n = count * dst.layout.size;
  if (n > 0) bytesOf(dst, n).fill(byte);
}

/** `mem::transmute` (scalars). */
export function transmute<T, U>(value: T, from: Layout<T>, to: Layout<U>): U {
  const view = new DataView(new ArrayBuffer(Math.max(from.size, to.size)));
  from.encode(view, 0, value);
  return to.decode(view, 0);
}

/** `Box<T>`, unchecked. */
export class BoxImpl<T> {
  /** The box's pointer. */
  readonly raw: Ptr<T>;
  /** The boxed value's layout. */
  readonly layout: Layout<T>;

  constructor(raw: Ptr<T>) {
    this.raw = raw;
    this.layout = raw.layout;
  }
  /** `*b`. */
  read(): T {
    return this.layout.decode(this.raw.view!, this.raw.address - this.raw.start);
  }
  /** `*b = value`. */
  write(value: T): void {
    this.layout.encode(this.raw.view!, this.raw.address - this.raw.start, value);
  }
  /** `&*b`. */
  as_ref(): SharedRef<T> {
    return new SharedRef(this.raw);
  }
  /** `&mut *b`. */
  as_mut(): UniqueRef<T> {
    return new UniqueRef(this.raw);
  }
  /** `drop(b)`. */
  drop(): void {
    free(this.raw.address);
  }
}

/** `Box<T>`: see {@link BoxImpl}. */
export type Box<T> = BoxImpl<T>;

/** `Box::new`, `Box::into_raw`, `Box::from_raw`, `Box::leak`. */
export const Box = {
  /** `Box::new(value)`. */
  new<T>(layout: Layout<T>, value: T): BoxImpl<T> {
    const p = allocate(layout.size, layout.align, layout);
    layout.encode(p.view!, p.address - p.start, value);
    return new BoxImpl(p);
  },
  /** `Box::into_raw(b)`. */
  into_raw<T>(b: BoxImpl<T>): Ptr<T> {
    return b.raw;
  },
  /** `Box::from_raw(p)`. */
  from_raw<T>(p: Ptr<T>): BoxImpl<T> {
    return new BoxImpl(p);
  },
  /** `Box::leak(b)`. */
  leak<T>(b: BoxImpl<T>): UniqueRef<T> {
    return new UniqueRef(b.raw);
  },
};
