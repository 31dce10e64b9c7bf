/**
 * The checked `kmiri/rt` memory API: raw pointers, allocation, `Box`. Every operation is checked
 * against the running Machine's memory (liveness, bounds, alignment, initialisation, validity,
 * writability, deallocation layout) and every UNSAFE one against the Machine's unsafe regions.
 *
 * A {@link Ptr} is `(address, provenance, layout)`, the provenance being the {@link Allocation}
 * the pointer was derived from, {@link WILDCARD} for a pointer from `ptr_from_exposed`, or `null`:
 * an access needs no lookup. The checks live in `interp/memory/` (`access.ts` the fast path,
 * `diagnose.ts` the reports, `bulk.ts` copies and transmutes); this module is the API around them.
 */
import { trustInspect } from "../../interp/program-console.js";
import { current, mem, running } from "./context.js";
import { checkDealloc, checkOffset, checkReference, load, store } from "../../interp/memory/access.js";
import { isAllocation, UNCHECKED_OFFSET, WILDCARD, type Allocation } from "../../interp/memory/allocation.js";
import type { PointerParts } from "../../interp/memory/seam.js";
import { copyBytes, fillBytes, transmuteValue } from "../../interp/memory/bulk.js";
import { reportUB, resolveIndirect } from "../../interp/memory/diagnose.js";
import { isMirchKernelAddress } from "../../interp/mirch/pointers.js";
import {
  INT2PTR_HELP,
  INT2PTR_WARNING,
  STRICT_PROVENANCE_HELP,
  STRICT_PROVENANCE_MESSAGE,
  ZERO_SIZE_ALLOCATION,
} from "../../interp/memory/messages.js";
import { reportTypeError } from "../../interp/memory/type-error.js";
import {
  describeValue,
  fieldOf,
  intArgumentMismatch,
  isLayout,
  notALayoutMessage,
  setLayoutErrorReporter,
  throughUninit,
  u8,
  usize,
  type Layout,
} from "../../interp/memory/layouts.js";
import { retag, rootTag, trackDealloc, tracker } from "./borrow-hooks.js";
import { panic } from "./panic.js";
import { SharedRef, UniqueRef } from "./refs.js";
import { unsafeCallOutsideUnsafe, unsupported } from "./unsafe.js";

/** The element type of an array value type. */
type Elem<T> = T extends (infer E)[] ? E : never;

/** How Node prints an object that has this method (`console.log(p)`): as Rust's `{:?}` of a pointer. */
const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/** The provenance of `p` (its allocation, {@link WILDCARD} or null): kmiri's eyes only. */
export let provenanceOf: (p: Ptr<unknown>) => Allocation | null;
/** The borrow tag `p` carries. */
export let tagOf: (p: Ptr<unknown>) => number;

/** A raw pointer `*mut T`: an address, a provenance and the layout of its pointee. */
export class Ptr<T> {
  /** The address. (The `addr()` method is the Rust API; this is the field.) */
  readonly address: number;
  /**
   * The allocation this pointer may access; {@link WILDCARD} for a pointer from
   * `ptr_from_exposed` (resolved at each access); `null` for none (never dereferenceable).
   * Private: the program must not reach the allocation (and through it the Machine) or forge
   * one; kmiri reads it with {@link provenanceOf}.
   */
  #provenance: Allocation | null;
  /** The pointee's layout. */
  readonly layout: Layout<T>;
  /**
   * The borrow tag (Stacked Borrows) the pointer carries with its provenance: the root tag of its
   * allocation, or the tag of the reference it was cast from (`as_ptr`, `as_mut_ptr`), kept by
   * every arithmetic and projection and through memory. 0 for a wildcard pointer
   * (`ptr_from_exposed`), a pointer without provenance, or when no borrow tracker runs.
   * Private, as the provenance ({@link tagOf}).
   */
  #tag: number;

  constructor(address: number, provenance: Allocation | null, layout: Layout<T>, tag = 0) {
    this.address = address;
    // A provenance the program made up (it may call the constructor) is no allocation.
    if (provenance !== null && !isAllocation(provenance)) forgedProvenance();
    this.#provenance = provenance;
    this.layout = layout;
    this.#tag = tag;
  }

  /** UNSAFE. `p.add(count)`: arithmetic in units of `T`; must stay inside the allocation (or one past it). */
  add(count: number): Ptr<T> {
    if (!Number.isInteger(count)) notAnInteger("Ptr::add", count);
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::add");
    return this.offsetBytes(count * this.layout.size);
  }

  /** UNSAFE. `p.sub(count)`. */
  sub(count: number): Ptr<T> {
    if (!Number.isInteger(count)) notAnInteger("Ptr::sub", count);
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::sub");
    return this.offsetBytes(-count * this.layout.size);
  }

  /** UNSAFE. `p.offset(count)` (signed). */
  offset(count: number): Ptr<T> {
    if (!Number.isInteger(count)) notAnInteger("Ptr::offset", count);
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::offset");
    return this.offsetBytes(count * this.layout.size);
  }

  /** UNSAFE. `p.byte_add(bytes)`. */
  byte_add(bytes: number): Ptr<T> {
    if (!Number.isInteger(bytes)) notAnInteger("Ptr::byte_add", bytes);
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::byte_add");
    return this.offsetBytes(bytes);
  }

  /** UNSAFE. `p.byte_sub(bytes)`. */
  byte_sub(bytes: number): Ptr<T> {
    if (!Number.isInteger(bytes)) notAnInteger("Ptr::byte_sub", bytes);
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::byte_sub");
    return this.offsetBytes(-bytes);
  }

  /** `p.wrapping_add(count)`: may leave the allocation; only dereferencing such a pointer is UB. */
  wrapping_add(count: number): Ptr<T> {
    if (!Number.isInteger(count)) notAnInteger("Ptr::wrapping_add", count);
    return new Ptr(this.address + count * this.layout.size, this.#provenance, this.layout, this.#tag);
  }

  /** `p.wrapping_sub(count)`. */
  wrapping_sub(count: number): Ptr<T> {
    if (!Number.isInteger(count)) notAnInteger("Ptr::wrapping_sub", count);
    return new Ptr(this.address - count * this.layout.size, this.#provenance, this.layout, this.#tag);
  }

  /**
   * UNSAFE. `p.offset_from(origin)`: the distance in units of `T`. Both pointers must be derived
   * from the same allocation, the range between them in bounds, the distance a multiple of the size.
   */
  offset_from(origin: Ptr<T>): number {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::offset_from");
    if (!(origin instanceof Ptr)) notAPtr("Ptr::offset_from", "origin", origin);
    const bytes = this.address - origin.address;
    const size = this.layout.size;
    if (bytes === 0) return 0;
    // Miri checks that the range between the two is dereferenceable from each end: `bytes` from
    // `origin`, `-bytes` from `this`. A wildcard is resolved for that signed range, as Miri's
    // `alloc_id_from_addr` does: at the address when the range goes up from it, at the address
    // minus one when it goes down — so a one-past-the-end wildcard finds the exposed allocation
    // that ends there, and a wildcard at a base, going down, finds none of that allocation.
    const a = resolved(this.address, this.#provenance, -bytes);
    const b = resolved(origin.address, provenanceOf(origin), bytes);
    if (a === null || a !== b) {
      reportUB(mem, 
        a === null || b === null ? "no-provenance" : "out-of-bounds",
        "`ptr_offset_from` called on two different pointers that are not both derived from the same allocation",
      );
    }
    let base = origin.address;
    let alloc: Allocation = a;
    if (a.indirect) {
      // A pointer whose provenance is resolved at each access (Mirch's untyped memory, mappings):
      // the range between the two, from its low end, must lie in one allocation, as it must for
      // any other pointer. Resolved as arithmetic (no access rule), at the translated address.
      const low = bytes > 0 ? origin.address : this.address;
      mem.resolvingOffset = true;
      let r: Allocation | null;
      try {
        r = resolveIndirect(mem, low, Math.abs(bytes), a);
      } finally {
        mem.resolvingOffset = false;
      }
      if (r === UNCHECKED_OFFSET) {
        if (size === 0) unsupported("`offset_from` of a pointer to a zero-sized type (Rust panics: pointee size must be > 0)");
        if (bytes % size !== 0) reportUB(mem, "out-of-bounds", `exact_div: ${bytes} cannot be divided by ${size} without remainder`);
        return bytes / size;
      }
      if (r === null) {
        reportUB(mem, "out-of-bounds", "`ptr_offset_from` called on two different pointers where the memory range between them is not in-bounds of an allocation");
      }
      alloc = r;
      base = bytes > 0 ? mem.translated : mem.translated - bytes; // origin's translated address
    }
    const off = base - alloc.base;
    if (!alloc.live || off < 0 || off > alloc.size || off + bytes < 0 || off + bytes > alloc.size) {
      reportUB(mem, 
        alloc.live ? "out-of-bounds" : "use-after-free",
        "`ptr_offset_from` called on two different pointers where the memory range between them is not in-bounds of an allocation",
      );
    }
    if (size === 0) unsupported("`offset_from` of a pointer to a zero-sized type (Rust panics: pointee size must be > 0)");
    if (bytes % size !== 0) {
      reportUB(mem, "out-of-bounds", `exact_div: ${bytes} cannot be divided by ${size} without remainder`);
    }
    return bytes / size;
  }

  /** `p.cast::<U>()`: same address and provenance, another pointee. */
  cast<U>(layout: Layout<U>): Ptr<U> {
    if (!isLayout(layout)) notALayout("Ptr::cast", "layout", layout);
    return new Ptr(this.address, this.#provenance, layout, this.#tag);
  }

  /**
   * UNSAFE. `&raw mut (*p).field`: a pointer to a field of the struct `p` points to. No access and
   * no retag; the field's offset is an in-bounds offset of `p` (checked like `byte_add`).
   */
  field<K extends keyof T & string>(name: K): Ptr<T[K]> {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::field");
    const f = fieldOf(this.layout, name);
    if (f === undefined) {
      reportTypeError(current, "E0609", `no field ${typeof name === "string" ? `\`${name}\`` : describeValue(name)} on type \`${this.layout.name}\``);
    }
    checkOffset(mem, this.address, this.#provenance, f.offset);
    return new Ptr(this.address + f.offset, this.#provenance, f.layout as Layout<T[K]>, this.#tag);
  }

  /**
   * UNSAFE. `&raw mut (*p)[i]`: a pointer to element `i` of the array `p` points to. An index out
   * of bounds panics, as Rust's indexing does; the element's offset is an in-bounds offset of `p`.
   */
  index(i: number): Ptr<Elem<T>> {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::index");
    // A `*mut MaybeUninit<[T; N]>` indexes its array (see `throughUninit`).
    const array = this.layout.kind === "maybe_uninit" ? throughUninit(this.layout) : this.layout;
    const elem = array.elem;
    if (array.kind !== "array" || elem === undefined) {
      reportTypeError(current, "E0608", `cannot index into a value of type \`${this.layout.name}\``);
    }
    if (!Number.isInteger(i)) reportTypeError(current, "E0277", `the type \`${this.layout.name}\` cannot be indexed by ${describeValue(i)}`);
    const len = array.len;
    if (i < 0 || i >= len) panic(`index out of bounds: the len is ${len} but the index is ${i}`);
    const bytes = i * elem.size;
    checkOffset(mem, this.address, this.#provenance, bytes);
    return new Ptr(this.address + bytes, this.#provenance, elem as Layout<Elem<T>>, this.#tag);
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
    const a = this.#provenance;
    if (a !== null && a !== WILDCARD) {
      a.exposed = true;
      // Wildcard pointers may now access the allocation with this pointer's tag.
      if (a.live) tracker()?.expose(a, this.#tag);
    }
    return this.address;
  }

  /** `p.with_addr(addr)`: same provenance, another address. */
  with_addr(addr: number): Ptr<T> {
    checkIntArg(usize, "Ptr::with_addr", "addr", addr);
    return new Ptr(addr, this.#provenance, this.layout, this.#tag);
  }

  /** UNSAFE. `p.read()` (`ptr::read`): the pointer must be aligned. */
  read(): T {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::read");
    return load(mem, this.address, this.#provenance, this.layout, true, this.#tag);
  }

  /** UNSAFE. `p.write(value)` (`ptr::write`). */
  write(value: T): void {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::write");
    store(mem, this.address, this.#provenance, this.layout, true, value, this.#tag);
  }

  /** UNSAFE. `p.read_unaligned()`. */
  read_unaligned(): T {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::read_unaligned");
    return load(mem, this.address, this.#provenance, this.layout, false, this.#tag);
  }

  /** UNSAFE. `p.write_unaligned(value)`. */
  write_unaligned(value: T): void {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::write_unaligned");
    store(mem, this.address, this.#provenance, this.layout, false, value, this.#tag);
  }

  /** UNSAFE. `p.read_volatile()` (aligned, like `read`; MMIO routing comes with Mirch). */
  read_volatile(): T {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::read_volatile");
    const a = this.#provenance;
    // Mirch's untyped memory and MMIO take volatile accesses: their resolver is told.
    if (a !== null && a.indirect) return volatileAccess(() => load(mem, this.address, a, this.layout, true, this.#tag));
    return load(mem, this.address, a, this.layout, true, this.#tag);
  }

  /** UNSAFE. `p.write_volatile(value)`. */
  write_volatile(value: T): void {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::write_volatile");
    const a = this.#provenance;
    if (a !== null && a.indirect) {
      volatileAccess(() => store(mem, this.address, a, this.layout, true, value, this.#tag));
      // A write to MMIO reaches its device once stored (src/interp/mirch/devices.ts).
      running?.mirch?.devices.completeWrite();
      return;
    }
    store(mem, this.address, a, this.layout, true, value, this.#tag);
  }

  /** UNSAFE. `p.replace(value)` (`ptr::replace`): writes `value`, returns the old one. */
  replace(value: T): T {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::replace");
    const old = load(mem, this.address, this.#provenance, this.layout, true, this.#tag);
    store(mem, this.address, this.#provenance, this.layout, true, value, this.#tag);
    return old;
  }

  /** UNSAFE. `&*p`: a shared reference (checked non-null, dereferenceable and aligned). */
  as_ref(): SharedRef<T> {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::as_ref");
    const p = this.concrete();
    checkReference(mem, p.address, provenanceOf(p), p.layout, false);
    return new SharedRef(p);
  }

  /** UNSAFE. `&mut *p`: a unique reference (checked non-null, dereferenceable and aligned). */
  as_mut(): UniqueRef<T> {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::as_mut");
    const p = this.concrete();
    checkReference(mem, p.address, provenanceOf(p), p.layout, true);
    return new UniqueRef(p);
  }

  /** `{:?}` of a pointer: its address in hex. */
  toString(): string {
    return `0x${this.address.toString(16)}`;
  }

  /** `console.log(p)` prints the address, as Rust's `{:?}` does (and as the native runtime does). */
  [INSPECT](): string {
    return this.toString();
  }

  /** The in-bounds offset by `bytes`, checked. */
  private offsetBytes(bytes: number): Ptr<T> {
    checkOffset(mem, this.address, this.#provenance, bytes);
    return new Ptr(this.address + bytes, this.#provenance, this.layout, this.#tag);
  }

  /**
   * This pointer with a wildcard provenance replaced by the exposed allocation it points into
   * (or none): a reference made from it keeps that allocation (a retag picks one, as in Miri).
   */
  private concrete(): Ptr<T> {
    const a = this.#provenance;
    if (a !== WILDCARD) {
      // A reference through a Mirch virtual address keeps the place it translates to now.
      if (a !== null && a.indirect && running?.mirch) {
        const c = running.mirch.concrete(this.address, a, this.layout, false);
        if (c !== null) return new Ptr(c.address, c.provenance, this.layout, c.tag);
      }
      return this;
    }
    return new Ptr(this.address, current.memory.findExposed(this.address, this.layout.size), this.layout, this.#tag);
  }

  static {
    provenanceOf = (p) => p.#provenance;
    tagOf = (p) => p.#tag;
  }
}


// `console.log(p)` prints `p` as its inspect method does (program-console.ts).
trustInspect(Ptr.prototype);

/** A count or byte offset that is no integer (`p.add(1.5)`): rustc's E0308 at the call. */
function notAnInteger(call: string, x: unknown): never {
  return reportTypeError(current, "E0308", `mismatched types: expected an integer for \`${call}\`, found ${describeValue(x)}`);
}

/** `new Ptr(address, provenance, ...)` by the program with a provenance it made up. */
function forgedProvenance(): never {
  return unsupported("a `Ptr` constructed by the program with a made-up provenance: make pointers with `alloc`, `Box`, `local`, references or `ptr_from_exposed`");
}

/** How memory reads a pointer written to it (the memory's pointer reader): this runtime's `Ptr` only. */
export function readPtr(value: unknown): PointerParts<Allocation> | null {
  return value instanceof Ptr ? { address: value.address, provenance: provenanceOf(value), tag: tagOf(value) } : null;
}

/** What a `ptr` layout read from memory makes: this runtime's pointers (the memory's pointer factory). */
export function makePtr(address: number, provenance: Allocation | null, pointee: unknown, tag: number): Ptr<unknown> {
  return new Ptr(address, provenance, pointee as Layout<unknown>, tag);
}

/**
 * The allocation a pointer refers to at `addr` for a range of `size` bytes (signed) from it: its
 * provenance, or for a wildcard the exposed allocation holding that range's first byte
 * (`Memory.findExposed`: the byte before `addr` when `size` is negative).
 */
function resolved(addr: number, a: Allocation | null, size: number): Allocation | null {
  return a === WILDCARD ? mem.resolve(addr, size, a) : a;
}

// ── arguments of the wrong type ──

/**
 * Reports an argument `param` of `call` that is no layout (`alloc(undefined as any)`): rustc's
 * E0308, as the program's error at the call.
 */
export function notALayout(call: string, param: string, x: unknown): never {
  return reportTypeError(current, "E0308", notALayoutMessage(call, param, x));
}

/**
 * Reports the integer argument `param` of `call` when `x` is no value of `layout` (`write_bytes`'s
 * byte is a `u8`, a count a `usize`), as a write of it would be reported. Called only when the
 * inline test failed.
 */
export function checkIntArg(layout: Layout<number>, call: string, param: string, x: unknown): void {
  const bad = intArgumentMismatch(layout, x);
  if (bad !== null) reportTypeError(current, bad[0], `${bad[1]} (the argument \`${param}\` of \`${call}\`)`);
}

/** Reports an argument `param` of `call` that is no raw pointer of this runtime. */
/** An argument that should be a `Box` (`Box::leak(3)`): rustc's E0308 at the call. */
function notABox(call: string, x: unknown): never {
  return reportTypeError(current, "E0308", `mismatched types: \`${call}\` expects a \`Box\`, found ${describeValue(x)}`);
}

function notAPtr(call: string, param: string, x: unknown): never {
  return reportTypeError(current, "E0308", `mismatched types: expected a raw pointer for the argument \`${param}\` of \`${call}\`, found ${describeArg(x)}`);
}

/** `x` named for a message (a `Ref` or a `Box` where a pointer was expected is named as such). */
function describeArg(x: unknown): string {
  if (x instanceof BoxImpl) return "a `Box`";
  if (typeof x === "object" && x !== null && "ptr" in x && (x as { ptr: unknown }).ptr instanceof Ptr) return "a reference";
  return describeValue(x);
}

/**
 * True while a Machine runs program code (a module's top level, a thread): then a layout built
 * wrong (`array(u8, -5)`) is the program's error, reported at its call. Not once the Machine's run
 * is over (the native runtime may run the same program next, in the same process) nor before any
 * Machine ran: then the layout constructor throws a `TypeError`. A test's fake host (no Machine)
 * reports.
 */
function machineRunsProgram(): boolean {
  if (current === undefined) return false;
  const m = running;
  if (m === null) return true;
  return m.stopped === null && m.threads.length > 0 && m.threads[0]!.state !== "done";
}

setLayoutErrorReporter((code, message) => {
  if (machineRunsProgram()) reportTypeError(current, code, message);
});

/** `ptr::null_mut()` (and `ptr::null()`). */
export function null_mut<T>(layout: Layout<T>): Ptr<T> {
  if (!isLayout(layout)) notALayout("null_mut", "layout", layout);
  return new Ptr(0, null, layout);
}

/**
 * `ptr::with_exposed_provenance_mut(addr)`: a wildcard pointer. Like Miri's, it picks no
 * allocation now: each access through it (or through a pointer derived from it) uses the exposed
 * live allocation holding the address at that moment, and one with no such allocation is
 * `no-provenance`. The first call of a run warns (`integer-to-pointer cast`); with
 * `--strict-provenance` every call is `unsupported`.
 */
export function ptr_from_exposed<T>(addr: number, layout: Layout<T>): Ptr<T> {
  if (typeof addr !== "number" || addr >>> 0 !== addr) checkIntArg(usize, "ptr_from_exposed", "addr", addr);
  if (!isLayout(layout)) notALayout("ptr_from_exposed", "layout", layout);
  if (current.checks.strictProvenance) {
    current.report("unsupported", STRICT_PROVENANCE_MESSAGE, {
      title: "unsupported operation",
      label: "unsupported operation occurred here",
      help: [{ message: STRICT_PROVENANCE_HELP }],
    });
  }
  // On Mirch, a kernel address below the kernel image is physical memory, a mapping or MMIO,
  // exposed from boot (mirch.d.ts): no cast to warn about.
  const mm = running?.mirch;
  if (mm && isMirchKernelAddress(addr)) {
    const p = mm.pointer(addr);
    return new Ptr(addr, p.provenance, layout, p.tag);
  }
  current.warn(INT2PTR_WARNING, {
    key: "int2ptr",
    label: INT2PTR_WARNING,
    help: INT2PTR_HELP.map((message) => ({ message })),
  });
  return new Ptr(addr, WILDCARD, layout);
}

/** Runs a volatile access (the memory's resolvers see it as one). */
function volatileAccess<R>(f: () => R): R {
  mem.accessMode = "volatile";
  try {
    return f();
  } finally {
    mem.accessMode = "plain";
  }
}

/** `ptr::without_provenance_mut(addr)`: never dereferenceable. */
export function without_provenance<T>(addr: number, layout: Layout<T>): Ptr<T> {
  if (typeof addr !== "number" || addr >>> 0 !== addr) checkIntArg(usize, "without_provenance", "addr", addr);
  if (!isLayout(layout)) notALayout("without_provenance", "layout", layout);
  return new Ptr(addr, null, layout);
}

/** A fresh heap block of `size` bytes for `layout`, its pointer (carrying the allocation's root tag). */
function allocate<T>(layout: Layout<T>, size: number, zeroed: boolean): Ptr<T> {
  const a = current.memory.allocate(size, layout.align, "heap", current.currentSite(), zeroed);
  return new Ptr(a.base, a, layout, rootTag(a));
}

/** Frees `a` through a pointer tagged `tag` (the borrow tracker checks the deallocation first). */
function free(a: Allocation, tag: number): void {
  const site = current.currentSite();
  trackDealloc(a, tag, site);
  current.memory.deallocate(a, site);
}

/**
 * Rust's allocator API forbids zero-sized requests (`GlobalAlloc::alloc`: "undefined behavior can
 * result if the caller does not ensure that layout has non-zero size"). Reported as `bad-dealloc`,
 * the kind of the allocator's layout contract.
 */
function checkAllocSize(size: number): void {
  if (size === 0) reportUB(mem, "bad-dealloc", ZERO_SIZE_ALLOCATION);
}

/** UNSAFE. `alloc::alloc`: uninitialised memory for one `T` (a zero-sized `T` is UB). */
export function alloc<T>(layout: Layout<T>): Ptr<T> {
  if (!isLayout(layout)) notALayout("alloc", "layout", layout);
  if (!current.inUnsafe()) unsafeCallOutsideUnsafe("alloc");
  checkAllocSize(layout.size);
  return allocate(layout, layout.size, false);
}

/** UNSAFE. `alloc::alloc_zeroed` (a zero-sized `T` is UB). */
export function alloc_zeroed<T>(layout: Layout<T>): Ptr<T> {
  if (!isLayout(layout)) notALayout("alloc_zeroed", "layout", layout);
  if (!current.inUnsafe()) unsafeCallOutsideUnsafe("alloc_zeroed");
  checkAllocSize(layout.size);
  return allocate(layout, layout.size, true);
}

/** UNSAFE. `alloc::dealloc`: `p` must be the start of a live heap block allocated with `layout`. */
export function dealloc<T>(p: Ptr<T>, layout: Layout<T>): void {
  if (!(p instanceof Ptr)) notAPtr("dealloc", "ptr", p);
  if (!isLayout(layout)) notALayout("dealloc", "layout", layout);
  if (!current.inUnsafe()) unsafeCallOutsideUnsafe("dealloc");
  const a = checkDealloc(mem, p.address, provenanceOf(p), layout.size, layout.align, "deallocating");
  free(a, tagOf(p));
}

/**
 * UNSAFE. `alloc::realloc`: a new block of `new_size` bytes holding the old contents (up to the
 * smaller size, pointers' provenance included; a grown tail is uninitialised); the old block is
 * freed. A `new_size` of 0 is UB.
 */
export function realloc<T>(p: Ptr<T>, layout: Layout<T>, new_size: number): Ptr<T> {
  if (!(p instanceof Ptr)) notAPtr("realloc", "ptr", p);
  if (!isLayout(layout)) notALayout("realloc", "layout", layout);
  if (typeof new_size !== "number" || new_size >>> 0 !== new_size) checkIntArg(usize, "realloc", "new_size", new_size);
  if (!current.inUnsafe()) unsafeCallOutsideUnsafe("realloc");
  checkAllocSize(new_size);
  const old = checkDealloc(mem, p.address, provenanceOf(p), layout.size, layout.align, "reallocating");
  const q = allocate(layout, new_size, false);
  const kept = Math.min(old.size, new_size);
  // As Miri's `realloc`: the copy reads the old block through `p`, then frees it through `p`.
  if (kept > 0) tracker()?.access("read", old, tagOf(p), 0, kept, current.currentSite());
  provenanceOf(q)!.copyFrom(old, 0, 0, kept);
  free(old, tagOf(p));
  return q;
}

/** UNSAFE. `ptr::copy(src, dst, count)`: may overlap; copies initialisation and provenance along with the bytes. */
export function copy<T>(src: Ptr<T>, dst: Ptr<T>, count: number): void {
  checkCopyArgs("copy", src, dst, count);
  if (!current.inUnsafe()) unsafeCallOutsideUnsafe("copy");
  const l = src.layout;
  copyBytes(mem, src.address, provenanceOf(src), dst.address, provenanceOf(dst), count * l.size, l.align, false, tagOf(src), tagOf(dst));
}

/** UNSAFE. `ptr::copy_nonoverlapping(src, dst, count)`: overlapping ranges are `overlapping-copy`. */
export function copy_nonoverlapping<T>(src: Ptr<T>, dst: Ptr<T>, count: number): void {
  checkCopyArgs("copy_nonoverlapping", src, dst, count);
  if (!current.inUnsafe()) unsafeCallOutsideUnsafe("copy_nonoverlapping");
  const l = src.layout;
  copyBytes(mem, src.address, provenanceOf(src), dst.address, provenanceOf(dst), count * l.size, l.align, true, tagOf(src), tagOf(dst));
}

/** The arguments of `copy` and `copy_nonoverlapping`: two pointers and a `usize`. */
function checkCopyArgs(call: string, src: unknown, dst: unknown, count: unknown): void {
  if (!(src instanceof Ptr)) notAPtr(call, "src", src);
  if (!(dst instanceof Ptr)) notAPtr(call, "dst", dst);
  if (typeof count !== "number" || count >>> 0 !== count) checkIntArg(usize, call, "count", count);
}

/** UNSAFE. `ptr::write_bytes(dst, byte, count)`: sets `count * size_of::<T>()` bytes (`byte` is a `u8`). */
export function write_bytes<T>(dst: Ptr<T>, byte: number, count: number): void {
  if (!(dst instanceof Ptr)) notAPtr("write_bytes", "dst", dst);
  if (typeof byte !== "number" || (byte & 0xff) !== byte) checkIntArg(u8, "write_bytes", "val", byte);
  if (typeof count !== "number" || count >>> 0 !== count) checkIntArg(usize, "write_bytes", "count", count);
  if (!current.inUnsafe()) unsafeCallOutsideUnsafe("write_bytes");
  fillBytes(mem, dst.address, provenanceOf(dst), byte, count * dst.layout.size, dst.layout.align, tagOf(dst));
}

/**
 * UNSAFE. `mem::transmute`: the bytes of `value` (as `from`) read as `to`. The sizes must match
 * (rustc's E0512 otherwise); the result is checked: padding read as data is `uninit`, an invalid
 * bit pattern `invalid-value`. Pointers keep their provenance when read back as pointers.
 */
export function transmute<T, U>(value: T, from: Layout<T>, to: Layout<U>): U {
  if (!isLayout(from)) notALayout("transmute", "from", from);
  if (!isLayout(to)) notALayout("transmute", "to", to);
  if (!current.inUnsafe()) unsafeCallOutsideUnsafe("transmute");
  if (from.size !== to.size) {
    unsupported(
      `cannot transmute between types of different sizes: \`${from.name}\` (${from.size * 8} bits) and \`${to.name}\` (${to.size * 8} bits)`,
    );
  }
  return transmuteValue(mem, value, from, to);
}

/**
 * `Box<T>`: an owned heap block. JavaScript has no destructors: `drop()` frees it, else it leaks.
 *
 * Under Stacked Borrows a box is a unique pointer, as in Miri: `Box.new` hands it the root tag
 * of its fresh allocation (no other pointer has it), `Box.from_raw` retags the pointer `Unique` (a
 * `box` retag, so the raw pointer it came from may no longer be used alongside it), every use
 * goes through the box's tag, and a box passed to a function declared to take a `Box<…>` is
 * retagged on entry with a *weak* protector (the callee may free it, not invalidate it).
 */
export class BoxImpl<T> {
  /** The box's pointer, carrying the box's tag (`Box::into_raw` hands it out). */
  readonly raw: Ptr<T>;
  /** The boxed value's layout. */
  readonly layout: Layout<T>;

  constructor(raw: Ptr<T>) {
    this.raw = raw;
    this.layout = raw.layout;
  }

  /** `*b` (a copy of the value). */
  read(): T {
    return load(mem, this.raw.address, provenanceOf(this.raw), this.layout, true, tagOf(this.raw));
  }

  /** `*b = value`. */
  write(value: T): void {
    store(mem, this.raw.address, provenanceOf(this.raw), this.layout, true, value, tagOf(this.raw));
  }

  /** `&*b`. */
  as_ref(): SharedRef<T> {
    checkReference(mem, this.raw.address, provenanceOf(this.raw), this.layout, false);
    return new SharedRef(this.raw);
  }

  /** `&mut *b`. */
  as_mut(): UniqueRef<T> {
    checkReference(mem, this.raw.address, provenanceOf(this.raw), this.layout, true);
    return new UniqueRef(this.raw);
  }

  /** `drop(b)`: frees the block (a second drop is `double-free`). */
  drop(): void {
    const a = checkDealloc(mem, this.raw.address, provenanceOf(this.raw), this.layout.size, this.layout.align, "deallocating");
    free(a, tagOf(this.raw));
  }
}

/**
 * `p` retagged as a `Box` (`Unique`; with `mode` `fn-entry`, weakly protected until the call
 * returns). Nothing without a borrow tracker, or when `p` does not point into a live allocation
 * (the box's first use reports that).
 */
export function boxRetag<T>(p: Ptr<T>, mode: "default" | "fn-entry" = "default"): Ptr<T> {
  if (tracker() === null) return p;
  const a = provenanceOf(p);
  if (a === null || a === WILDCARD || !a.live || p.address < a.base || p.address + p.layout.size > a.base + a.size) return p;
  return new Ptr(p.address, a, p.layout, retag("box", true, p, a, tagOf(p), mode));
}

/** `Box<T>`: see {@link BoxImpl}. */
export type Box<T> = BoxImpl<T>;

/** `Box::new`, `Box::into_raw`, `Box::from_raw`, `Box::leak`. */
export const Box = {
  /** `Box::new(value)`: a heap block holding `value` (a zero-sized `T` gets a zero-sized block, which is no leak). */
  new<T>(layout: Layout<T>, value: T): BoxImpl<T> {
    if (!isLayout(layout)) notALayout("Box::new", "layout", layout);
    const p = allocate(layout, layout.size, false);
    store(mem, p.address, provenanceOf(p), layout, true, value, tagOf(p));
    // The box holds the allocation's root tag: no other pointer has it, so the box is unique
    // without a retag (and a fresh allocation needs no borrow stacks: see interp/borrows.ts).
    return new BoxImpl(p);
  },
  /** `Box::into_raw(b)`: the pointer; freeing it is now the caller's job (`dealloc` or `Box::from_raw`). */
  into_raw<T>(b: BoxImpl<T>): Ptr<T> {
    if (!(b instanceof BoxImpl)) notABox("Box::into_raw", b);
    return b.raw;
  },
  /** UNSAFE. `Box::from_raw(p)`: takes ownership of a block allocated for a `Box` of the same layout. */
  from_raw<T>(p: Ptr<T>): BoxImpl<T> {
    if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Box::from_raw");
    if (!(p instanceof Ptr)) notAPtr("Box::from_raw", "raw", p);
    return new BoxImpl(boxRetag(p));
  },
  /**
   * `Box::leak(b)`: a `&'static mut` to the value; the block is never freed. As in Miri, it is
   * still a leak at the end of the program unless a static reaches it (store the pointer in one).
   */
  leak<T>(b: BoxImpl<T>): UniqueRef<T> {
    if (!(b instanceof BoxImpl)) notABox("Box::leak", b);
    checkReference(mem, b.raw.address, provenanceOf(b.raw), b.layout, true);
    return new UniqueRef(b.raw);
  },
};
