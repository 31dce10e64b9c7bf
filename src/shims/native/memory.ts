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
 *
 * A pointer stored in memory is its address (8 bytes); reading it back as a `ptr` finds its chunk
 * again by address (the last chunk found is cached, so that is O(1) for pointers into the same
 * chunk) — no side table, and a pointer stored natively reads back as a pointer.
 */
import { trustInspect } from "../../interp/program-console.js";
import { AddressSpace, type AddressSpaceOptions } from "../../interp/memory/address-space.js";
import {
  describeValue,
  encodeAddress,
  fieldOf,
  intArgumentMismatch,
  isLayout,
  notALayoutMessage,
  setDefaultLayoutMemory,
  throughUninit,
  typeErrorText,
  u8,
  usize,
  type Layout,
  type LayoutMemory,
} from "../../interp/memory/layouts.js";
import { NativePanic } from "./panic.js";
import { SharedRef, UniqueRef } from "./refs.js";

/** The element type of an array value type. */
type Elem<T> = T extends (infer E)[] ? E : never;

/** How Node prints an object that has this method (`console.log(p)`): as Rust's `{:?}` of a pointer. */
const INSPECT = Symbol.for("nodejs.util.inspect.custom");

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
  lastFound = null;
}

/** The chunk {@link chunkAt} found last. */
let lastFound: Chunk | null = null;

/** The chunk holding `addr`, or `null`. O(log chunks), O(1) when it is the last one found. */
function chunkAt(addr: number): Chunk | null {
  const last = lastFound;
  if (last !== null && addr >= last.start && addr < last.start + last.length) return last;
  let lo = 0;
  let hi = chunks.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = chunks[mid]!;
    if (addr < c.start) hi = mid - 1;
    else if (addr >= c.start + c.length) lo = mid + 1;
    else return (lastFound = c);
  }
  return null;
}

/**
 * Memory outside the `kmiri/rt` heap: native Mirch's RAM and MMIO (mirch-state.ts), installed while
 * a program runs on Mirch, else `null`. It makes the pointers to addresses no heap chunk holds, and
 * does the volatile accesses through pointers that have no bytes (`view === null`: a device's
 * registers, a vmalloc address not mapped when the pointer was made).
 */
export interface OutsideHeap {
  /** A pointer to `layout` at `addr`, which no heap chunk holds. */
  pointerAt<T>(addr: number, layout: Layout<T>): Ptr<T>;
  /** `p.read_volatile()` for a pointer with no bytes. */
  readVolatile<T>(p: Ptr<T>): T;
  /** `p.write_volatile(value)` for a pointer with no bytes. */
  writeVolatile<T>(p: Ptr<T>, value: T): void;
}

/** See {@link OutsideHeap}. */
let outside: OutsideHeap | null = null;

/** Installs (or, with `null`, removes) the memory outside the heap (native Mirch's boot). */
export function setOutsideHeap(o: OutsideHeap | null): void {
  outside = o;
}

/**
 * A pointer to `layout` at `addr` with the chunk holding it (or the byte before it: a
 * one-past-the-end pointer at the end of a chunk), as `ptr_from_exposed` and a `ptr` read make.
 * An address outside the heap goes to {@link OutsideHeap} when one is installed.
 */
function pointerAt<T>(addr: number, layout: Layout<T>): Ptr<T> {
  const c = addr === 0 ? null : chunkAt(addr) ?? chunkAt(addr - 1);
  if (c === null) return outside === null ? new Ptr(addr, layout, null, 0) : outside.pointerAt(addr, layout);
  return c.view === null ? new Ptr(addr, layout, null, 0) : new Ptr(addr, layout, c.view, c.start);
}

/**
 * The native heap as a `ptr` layout sees it: a pointer is its address, found again by address;
 * there is no initialisation to track; a value of the wrong type throws a `TypeError` with the
 * message the Machine reports (and rustc's code).
 */
export const NATIVE_MEMORY: LayoutMemory = {
  loadPtr: (view, offset, pointee) => pointerAt(usize.decode(view, offset), pointee),
  storePtr: (view, offset, value) => {
    if (typeof value !== "object" || value === null || typeof (value as Ptr<unknown>).address !== "number") {
      NATIVE_MEMORY.typeError("E0308", `mismatched types: expected a raw pointer, found ${value === null ? "null" : typeof value}`);
    }
    // Unchecked: a pointer moved out of `usize`'s range by `wrapping_sub` is still a pointer.
    encodeAddress(view, offset, (value as Ptr<unknown>).address);
  },
  markUninit: () => {},
  typeError: (code, message) => {
    throw new TypeError(typeErrorText(code, message));
  },
};
setDefaultLayoutMemory(NATIVE_MEMORY);

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
    if (!isLayout(layout)) notALayout("Ptr::cast", "layout", layout);
    return new Ptr(this.address, layout, this.view, this.start);
  }
  /** `&raw mut (*p).field`. */
  field<K extends keyof T & string>(name: K): Ptr<T[K]> {
    const f = fieldOf(this.layout, name);
    if (f === undefined) NATIVE_MEMORY.typeError("E0609", `no field \`${name}\` on type \`${this.layout.name}\``);
    return new Ptr(this.address + f.offset, f.layout as Layout<T[K]>, this.view, this.start);
  }
  /** `&raw mut (*p)[i]`: panics when `i` is out of bounds, as Rust's indexing does. */
  index(i: number): Ptr<Elem<T>> {
    // A `*mut MaybeUninit<[T; N]>` indexes its array (see `throughUninit`).
    const array = this.layout.kind === "maybe_uninit" ? throughUninit(this.layout) : this.layout;
    const elem = array.elem;
    if (elem === undefined) NATIVE_MEMORY.typeError("E0608", `cannot index into a value of type \`${this.layout.name}\``);
    if (!Number.isInteger(i)) NATIVE_MEMORY.typeError("E0277", `the type \`${this.layout.name}\` cannot be indexed by \`${i}\``);
    if (i < 0 || i >= array.len) {
      throw new NativePanic(`index out of bounds: the len is ${array.len} but the index is ${i}`);
    }
    return new Ptr(this.address + i * elem.size, elem as Layout<Elem<T>>, this.view, this.start);
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
    return this.layout.decode(this.view!, this.address - this.start, NATIVE_MEMORY);
  }
  /** `p.write(value)`. */
  write(value: T): void {
    this.layout.encode(this.view!, this.address - this.start, value, NATIVE_MEMORY);
  }
  /** `p.read_unaligned()`. */
  read_unaligned(): T {
    return this.layout.decode(this.view!, this.address - this.start, NATIVE_MEMORY);
  }
  /** `p.write_unaligned(value)`. */
  write_unaligned(value: T): void {
    this.layout.encode(this.view!, this.address - this.start, value, NATIVE_MEMORY);
  }
  /** `p.read_volatile()` (a pointer with no bytes, such as MMIO, goes to {@link OutsideHeap}). */
  read_volatile(): T {
    const v = this.view;
    if (v === null && outside !== null) return outside.readVolatile(this);
    return this.layout.decode(v!, this.address - this.start, NATIVE_MEMORY);
  }
  /** `p.write_volatile(value)` (a pointer with no bytes, such as MMIO, goes to {@link OutsideHeap}). */
  write_volatile(value: T): void {
    const v = this.view;
    if (v === null && outside !== null) return outside.writeVolatile(this, value);
    this.layout.encode(v!, this.address - this.start, value, NATIVE_MEMORY);
  }
  /** `p.replace(value)`. */
  replace(value: T): T {
    const off = this.address - this.start;
    const old = this.layout.decode(this.view!, off, NATIVE_MEMORY);
    this.layout.encode(this.view!, off, value, NATIVE_MEMORY);
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
  /** `console.log(p)` prints the address, as the checked runtime does. */
  [INSPECT](): string {
    return this.toString();
  }
}

// `console.log(p)` prints `p` as its inspect method does (program-console.ts).
trustInspect(Ptr.prototype);

// ── arguments of the wrong type: the checked runtime's messages, thrown ──

/** Throws for an argument `param` of `call` that is no layout (rustc's E0308). */
function notALayout(call: string, param: string, x: unknown): never {
  return NATIVE_MEMORY.typeError("E0308", notALayoutMessage(call, param, x));
}

/** Throws when `x`, the integer argument `param` of `call`, is no value of `layout`. */
function checkIntArg(layout: Layout<number>, call: string, param: string, x: unknown): void {
  const bad = intArgumentMismatch(layout, x);
  if (bad !== null) NATIVE_MEMORY.typeError(bad[0], `${bad[1]} (the argument \`${param}\` of \`${call}\`)`);
}

/** Throws for an argument `param` of `call` that is no raw pointer. */
function notAPtr(call: string, param: string, x: unknown): never {
  return NATIVE_MEMORY.typeError("E0308", `mismatched types: expected a raw pointer for the argument \`${param}\` of \`${call}\`, found ${describeArg(x)}`);
}

/** `x` named for a message (a `Ref` or a `Box` where a pointer was expected is named as such). */
function describeArg(x: unknown): string {
  if (x instanceof BoxImpl) return "a `Box`";
  if (typeof x === "object" && x !== null && "ptr" in x && (x as { ptr: unknown }).ptr instanceof Ptr) return "a reference";
  return describeValue(x);
}

/** The arguments of `copy` and `copy_nonoverlapping`: two pointers and a `usize`. */
function checkCopyArgs(call: string, src: unknown, dst: unknown, count: unknown): void {
  if (!(src instanceof Ptr)) notAPtr(call, "src", src);
  if (!(dst instanceof Ptr)) notAPtr(call, "dst", dst);
  if (typeof count !== "number" || count >>> 0 !== count) checkIntArg(usize, call, "count", count);
}

/** `ptr::null_mut()`. */
export function null_mut<T>(layout: Layout<T>): Ptr<T> {
  if (!isLayout(layout)) notALayout("null_mut", "layout", layout);
  return new Ptr(0, layout, null, 0);
}

/** `ptr::with_exposed_provenance_mut(addr)`: the live chunk holding `addr`, if any. */
export function ptr_from_exposed<T>(addr: number, layout: Layout<T>): Ptr<T> {
  if (typeof addr !== "number" || addr >>> 0 !== addr) checkIntArg(usize, "ptr_from_exposed", "addr", addr);
  if (!isLayout(layout)) notALayout("ptr_from_exposed", "layout", layout);
  return pointerAt(addr, layout);
}

/** `ptr::without_provenance_mut(addr)`. */
export function without_provenance<T>(addr: number, layout: Layout<T>): Ptr<T> {
  if (typeof addr !== "number" || addr >>> 0 !== addr) checkIntArg(usize, "without_provenance", "addr", addr);
  if (!isLayout(layout)) notALayout("without_provenance", "layout", layout);
  return new Ptr(addr, layout, null, 0);
}

/** `alloc::alloc`. */
export function alloc<T>(layout: Layout<T>): Ptr<T> {
  if (!isLayout(layout)) notALayout("alloc", "layout", layout);
  return allocate(layout.size, layout.align, layout);
}

/** `alloc::alloc_zeroed`. */
export function alloc_zeroed<T>(layout: Layout<T>): Ptr<T> {
  if (!isLayout(layout)) notALayout("alloc_zeroed", "layout", layout);
  return allocate(layout.size, layout.align, layout);
}

/** `alloc::dealloc`. */
export function dealloc<T>(p: Ptr<T>, layout: Layout<T>): void {
  if (!(p instanceof Ptr)) notAPtr("dealloc", "ptr", p);
  if (!isLayout(layout)) notALayout("dealloc", "layout", layout);
  free(p.address);
}

/** `alloc::realloc`. */
export function realloc<T>(p: Ptr<T>, layout: Layout<T>, new_size: number): Ptr<T> {
  if (!(p instanceof Ptr)) notAPtr("realloc", "ptr", p);
  if (!isLayout(layout)) notALayout("realloc", "layout", layout);
  if (typeof new_size !== "number" || new_size >>> 0 !== new_size) checkIntArg(usize, "realloc", "new_size", new_size);
  const q = allocate(new_size, layout.align, layout);
  const n = Math.min(layout.size, new_size);
  if (n > 0) bytesOf(q, n).set(bytesOf(p, n));
  free(p.address);
  return q;
}

/** `ptr::copy` (may overlap: `TypedArray.set` copies as memmove does). */
export function copy<T>(src: Ptr<T>, dst: Ptr<T>, count: number): void {
  checkCopyArgs("copy", src, dst, count);
  const n = count * src.layout.size;
  if (n > 0) bytesOf(dst, n).set(bytesOf(src, n));
}

/** `ptr::copy_nonoverlapping`. */
export function copy_nonoverlapping<T>(src: Ptr<T>, dst: Ptr<T>, count: number): void {
  checkCopyArgs("copy_nonoverlapping", src, dst, count);
  const n = count * src.layout.size;
  if (n > 0) bytesOf(dst, n).set(bytesOf(src, n));
}

/** `ptr::write_bytes`. */
export function write_bytes<T>(dst: Ptr<T>, byte: number, count: number): void {
  if (!(dst instanceof Ptr)) notAPtr("write_bytes", "dst", dst);
  if (typeof byte !== "number" || (byte & 0xff) !== byte) checkIntArg(u8, "write_bytes", "val", byte);
  if (typeof count !== "number" || count >>> 0 !== count) checkIntArg(usize, "write_bytes", "count", count);
  const n = count * dst.layout.size;
  if (n > 0) bytesOf(dst, n).fill(byte);
}

/** `mem::transmute`: `value` written as `from`, read back as `to` (a pointer read back is found again by address). */
export function transmute<T, U>(value: T, from: Layout<T>, to: Layout<U>): U {
  if (!isLayout(from)) notALayout("transmute", "from", from);
  if (!isLayout(to)) notALayout("transmute", "to", to);
  const view = new DataView(new ArrayBuffer(Math.max(from.size, to.size)));
  from.encode(view, 0, value, NATIVE_MEMORY);
  return to.decode(view, 0, NATIVE_MEMORY);
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
    return this.layout.decode(this.raw.view!, this.raw.address - this.raw.start, NATIVE_MEMORY);
  }
  /** `*b = value`. */
  write(value: T): void {
    this.layout.encode(this.raw.view!, this.raw.address - this.raw.start, value, NATIVE_MEMORY);
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
    if (!isLayout(layout)) notALayout("Box::new", "layout", layout);
    const p = allocate(layout.size, layout.align, layout);
    layout.encode(p.view!, p.address - p.start, value, NATIVE_MEMORY);
    return new BoxImpl(p);
  },
  /** `Box::into_raw(b)`. */
  into_raw<T>(b: BoxImpl<T>): Ptr<T> {
    return b.raw;
  },
  /** `Box::from_raw(p)`. */
  from_raw<T>(p: Ptr<T>): BoxImpl<T> {
    if (!(p instanceof Ptr)) notAPtr("Box::from_raw", "raw", p);
    return new BoxImpl(p);
  },
  /** `Box::leak(b)`. */
  leak<T>(b: BoxImpl<T>): UniqueRef<T> {
    return new UniqueRef(b.raw);
  },
};
