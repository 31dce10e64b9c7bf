/**
 * Native references `&T` ({@link Ref}) and `&mut T` ({@link RefMut}): a pointer, unchecked. The
 * twin of `checked/refs.ts`: the same methods and values, no validity checks and no borrow
 * tracking. Indexing out of bounds panics, as on the Machine (that is Rust's behaviour, not a
 * check); atomics are plain reads and writes (`atomics.ts`).
 */
import type { Layout } from "../../interp/memory/layouts.js";
import { cellContents, elemOf, fieldOf, noFieldMessage } from "../projections.js";
import type { Ordering } from "../atomic-values.js";
import { nativeCompareExchange, nativeLoad, nativeRmw, nativeStore } from "./atomics.js";
import { Ptr } from "./memory.js";
import { NativePanic } from "./panic.js";

/** The element type of an array value type. */
type Elem<T> = T extends (infer E)[] ? E : never;

/** Throws for what the native runtime does not do. */
function unsupported(what: string): never {
  throw new Error(`kmiri native: ${what}`);
}

/** A shared reference `&T`. */
export class Ref<T> {
  /** The pointer the reference was made from. */
  readonly ptr: Ptr<T>;
  /** The referent's layout. */
  readonly layout: Layout<T>;

  constructor(ptr: Ptr<T>) {
    this.ptr = ptr;
    this.layout = ptr.layout;
  }

  /** `*r`. */
  read(): T {
    return this.layout.decode(this.ptr.view!, this.ptr.address - this.ptr.start);
  }
  /** `&r.field`. */
  field<K extends keyof T & string>(name: K): Ref<T[K]> {
    return new Ref(this.fieldPtr(name));
  }
  /** `&r[i]`; panics when out of bounds. */
  index(i: number): Ref<Elem<T>> {
    return new Ref(this.elemPtr(i));
  }
  /** `&*r`. */
  reborrow(): Ref<T> {
    return new Ref(this.ptr);
  }
  /** `r as *const T`. */
  as_ptr(): Ptr<T> {
    return this.ptr;
  }
  /** `UnsafeCell::get` on a `cell(T)`. */
  get(): Ptr<T> {
    const inner = cellContents(this.layout);
    if (inner === null) unsupported(`\`get\` on a reference to \`${this.layout.name}\`, which is not a \`cell(...)\``);
    return this.ptr.cast(inner as Layout<T>);
  }
  /** `AtomicT::load(order)`. */
  load(order: Ordering): T {
    return nativeLoad(this.ptr, order) as T;
  }
  /** `AtomicT::store(value, order)`. */
  store(value: T, order: Ordering): void {
    nativeStore(this.ptr, value, order);
  }
  /** `AtomicT::swap(value, order)`. */
  swap(value: T, order: Ordering): T {
    return nativeRmw(this.ptr, "swap", value, order) as T;
  }
  /** `AtomicT::compare_exchange(current, new, success, failure)`. */
  compare_exchange(current: T, next: T, success: Ordering, failure: Ordering): { ok: boolean; value: T } {
    return nativeCompareExchange(this.ptr, current, next, success, failure) as { ok: boolean; value: T };
  }
  /** `AtomicT::compare_exchange_weak(...)` (never fails spuriously natively). */
  compare_exchange_weak(current: T, next: T, success: Ordering, failure: Ordering): { ok: boolean; value: T } {
    return nativeCompareExchange(this.ptr, current, next, success, failure) as { ok: boolean; value: T };
  }
  /** `AtomicT::fetch_add(value, order)`. */
  fetch_add(value: T, order: Ordering): T {
    return nativeRmw(this.ptr, "fetch_add", value, order) as T;
  }
  /** `AtomicT::fetch_sub(value, order)`. */
  fetch_sub(value: T, order: Ordering): T {
    return nativeRmw(this.ptr, "fetch_sub", value, order) as T;
  }
  /** `AtomicT::fetch_and(value, order)`. */
  fetch_and(value: T, order: Ordering): T {
    return nativeRmw(this.ptr, "fetch_and", value, order) as T;
  }
  /** `AtomicT::fetch_or(value, order)`. */
  fetch_or(value: T, order: Ordering): T {
    return nativeRmw(this.ptr, "fetch_or", value, order) as T;
  }
  /** `AtomicT::fetch_xor(value, order)`. */
  fetch_xor(value: T, order: Ordering): T {
    return nativeRmw(this.ptr, "fetch_xor", value, order) as T;
  }

  /** The pointer to field `name`. */
  protected fieldPtr(name: string): Ptr<any> {
    const f = fieldOf(this.layout, name);
    if (f === null) unsupported(noFieldMessage(this.layout, name, "field"));
    const p = this.ptr;
    return new Ptr(p.address + f.offset, f.layout, p.view, p.start);
  }

  /** The pointer to element `i`, bounds-checked as Rust's indexing is. */
  protected elemPtr(i: number): Ptr<any> {
    const a = elemOf(this.layout);
    if (a === null) unsupported(`\`index(${i})\` on a reference to \`${this.layout.name}\`, which is not an array`);
    if (!(Number.isInteger(i) && i >= 0 && i < a.len)) {
      throw new NativePanic(`index out of bounds: the len is ${a.len} but the index is ${i}`);
    }
    const p = this.ptr;
    return new Ptr(p.address + i * a.elem.size, a.elem, p.view, p.start);
  }
}

/** A unique reference `&mut T`. */
export class RefMut<T> extends Ref<T> {
  /** `*r = value`. */
  write(value: T): void {
    this.layout.encode(this.ptr.view!, this.ptr.address - this.ptr.start, value);
  }
  /** `&mut r.field`. */
  field_mut<K extends keyof T & string>(name: K): RefMut<T[K]> {
    return new RefMut(this.fieldPtr(name));
  }
  /** `&mut r[i]`; panics when out of bounds. */
  index_mut(i: number): RefMut<Elem<T>> {
    return new RefMut(this.elemPtr(i));
  }
  /** `&mut *r`. */
  reborrow_mut(): RefMut<T> {
    return new RefMut(this.ptr);
  }
  /** `r as *mut T`. */
  as_mut_ptr(): Ptr<T> {
    return this.ptr;
  }
}

/** The name `memory.ts` imports for `&T`. */
export const SharedRef = Ref;
/** `&T`: see {@link Ref}. */
export type SharedRef<T> = Ref<T>;
/** The name `memory.ts` imports for `&mut T`. */
export const UniqueRef = RefMut;
/** `&mut T`: see {@link RefMut}. */
export type UniqueRef<T> = RefMut<T>;
