/**
 * References `&T` ({@link Ref}) and `&mut T` ({@link RefMut}) on the Machine.
 *
 * A reference is a raw pointer that was valid when the reference was made, plus the borrow tag
 * its creation was given. Every way of making one — `Ptr.as_ref/as_mut`, `Box.as_ref/as_mut/leak`,
 * `Static.as_ref/as_mut`, `Local.as_ref/as_mut`, a reborrow or a field/index projection — goes
 * through {@link borrow}, which checks the new reference's validity in Miri's words and order
 * (non-null, dereferenceable: provenance, live, in bounds; aligned; and, for `&mut`, not
 * pointing to read-only memory), then retags. Reads and writes through a reference are safe (no
 * `unsafe` region needed), checked like any access, and shown to the borrow tracker with the
 * reference's tag first.
 *
 * Atomic operations on references to atomic layouts (`load`, `store`, `swap`, `compare_exchange`,
 * `fetch_add`, …) are in `atomics.ts`: checked accesses that are also the race detector's atomic
 * operations and scheduling points.
 */
import { mem, running } from "./context.js";
import type { BorTag, RetagMode } from "../../borrowtracker/hooks.js";
import { checkReference, load, store } from "../../interp/memory/access.js";
import { reportUB } from "../../interp/memory/diagnose.js";
import { invalidValueMessage } from "../../interp/memory/messages.js";
import { describeValue, type Layout } from "../../interp/memory/layouts.js";
import type { Ordering } from "../atomic-values.js";
import { cellContents, elemOf, fieldOf, noFieldMessage } from "../projections.js";
import { atomicCompareExchange, atomicLoad, atomicRmw, atomicStore } from "./atomics.js";
import { ptrTag, retag, taggedPtr, tracker } from "./borrow-hooks.js";
import { Ptr, provenanceOf } from "./memory.js";
import { panic } from "./panic.js";
import { unsupported } from "./unsafe.js";

/** The element type of an array value type. */
type Elem<T> = T extends (infer E)[] ? E : never;

/** `Result<T, T>` of a compare-exchange: `ok` with the previous value, or not ok with the current one. */
export interface CasResult<T> {
  readonly ok: boolean;
  readonly value: T;
}

/**
 * Checks that a reference to `p`'s pointee may be made — `&mut` when `mutable` — and retags it
 * from `parent`: the one path every reference creation takes. Returns the new reference's tag.
 *
 * Reports `invalid-value` (a null reference: a reference must be non-null), `no-provenance` / `use-after-free` / `out-of-bounds` (dangling),
 * `misaligned`, or `read-only` (`&mut` to read-only memory), with Miri's
 * `constructing invalid value of type &mut u32: encountered …` wording.
 */
export function borrow(p: Ptr<any>, mutable: boolean, parent: BorTag, mode: RetagMode = "default"): BorTag {
  // The allocation the reference points into (for a wildcard pointer, the exposed one at its address).
  const a = checkReference(mem, p.address, provenanceOf(p), p.layout, mutable);
  if (mutable && a !== null && !a.writable && p.layout.size !== 0) {
    reportUB(mem, 
      "read-only",
      invalidValueMessage(`&mut ${p.layout.name}`, "encountered mutable reference pointing to read-only memory"),
    );
  }
  // Several threads exist: the retag is an access for the race detector (Miri counts retags).
  const races = running?.dataRaces;
  if (races !== undefined && races.active && a !== null && p.layout.size !== 0) races.reference(a, p.address - a.base, p.layout.size, p.layout.cells, mutable);
  return retag(mutable ? "unique" : "shared", mutable, p, a, parent, mode);
}

/** The pointer of a reference: kmiri's eyes only. */
export let refPtr: <T>(r: Ref<T>) => Ptr<T>;
/** The borrow tag of a reference. */
export let refTag: (r: Ref<any>) => BorTag;

/** A tag for the next reference constructed (see {@link withTag}); read and cleared by its constructor. */
let trustedTag: BorTag | undefined;

/**
 * `new C(p)` carrying `tag`, which the caller has already checked and retagged with
 * {@link borrow} (the runtime's reborrows): the only way a reference gets a tag it did not make.
 */
export function withTag<R extends Ref<any>>(C: new (p: Ptr<any>) => R, p: Ptr<any>, tag: BorTag): R {
  trustedTag = tag;
  return new C(p);
}

/**
 * A shared reference `&T`.
 *
 * `new Ref(p)` is `&*p`: it checks and retags (the runtime's `Ptr.as_ref` uses it). The runtime
 * passes `tag` when it has already done both through {@link borrow}.
 */
export class Ref<T> {
  /** The pointer the reference was made from (address, provenance, pointee layout); private, as its tag ({@link refPtr}). */
  #ptr: Ptr<T>;
  /** The referent's layout. */
  readonly layout: Layout<T>;
  /**
   * The borrow tag of this reference (`UNTAGGED` while no tracker is installed). Private: a
   * program that could set it would speak with another reference's permissions ({@link refTag}).
   */
  #tag: BorTag;

  /**
   * @param ptr the pointee; checked valid for a reference (`&mut` for a {@link RefMut}).
   */
  constructor(ptr: Ptr<T>) {
    if (!(ptr instanceof Ptr)) unsupported("`new Ref(p)` needs a raw pointer");
    this.#ptr = ptr;
    this.layout = ptr.layout;
    // A tag the runtime already checked and retagged (withTag), else `&*p` now.
    const tag = trustedTag;
    trustedTag = undefined;
    this.#tag = tag ?? borrow(ptr, this instanceof RefMut, ptrTag(ptr));
  }

  static {
    refPtr = (r) => r.#ptr;
    refTag = (r) => r.#tag;
  }

  /** `*r`: a typed read of the whole value (initialised and valid), through the reference's tag. */
  read(): T {
    const p = this.#ptr;
    return load(mem, p.address, provenanceOf(p), this.layout, true, this.#tag);
  }

  /** `&r.field` (a shared reborrow of the field). */
  field<K extends keyof T & string>(name: K): Ref<T[K]> {
    const p = this.fieldPtr(name, "field");
    return withTag(Ref, p, borrow(p, false, this.#tag));
  }

  /** `&r[i]` (a shared reborrow of the element); panics when `i` is out of bounds, as Rust's indexing does. */
  index(i: number): Ref<Elem<T>> {
    const p = this.elemPtr(i, "index");
    return withTag(Ref, p, borrow(p, false, this.#tag));
  }

  /** `&*r` (a shared reborrow). */
  reborrow(): Ref<T> {
    return withTag(Ref, this.#ptr, borrow(this.#ptr, false, this.#tag));
  }

  /** `r as *const T`: a raw pointer with the reference's provenance. */
  as_ptr(): Ptr<T> {
    return this.raw(false, this.layout);
  }

  /** `UnsafeCell::get` on a reference to a `cell(T)`: a `*mut T` to the contents. */
  get(): Ptr<T> {
    const inner = cellContents(this.layout);
    if (inner === null) {
      return unsupported(
        `\`get\` is \`UnsafeCell::get\`, but this reference is to \`${this.layout.name}\`, not to a \`cell(...)\`; ` +
          "use `as_ptr()` for a raw pointer to any referent",
      );
    }
    return this.raw(true, inner as Layout<T>);
  }

  /** `AtomicT::load(order)` on a reference to an atomic layout (src/shims/checked/atomics.ts). */
  load(order: Ordering): T {
    return atomicLoad(this, order) as T;
  }
  /** `AtomicT::store(value, order)`. */
  store(value: T, order: Ordering): void {
    atomicStore(this, value, order);
  }
  /** `AtomicT::swap(value, order)`: the previous value. */
  swap(value: T, order: Ordering): T {
    return atomicRmw(this, "swap", value, order) as T;
  }
  /** `AtomicT::compare_exchange(current, new, success, failure)`. */
  compare_exchange(current: T, next: T, success: Ordering, failure: Ordering): CasResult<T> {
    return atomicCompareExchange(this, false, current, next, success, failure) as CasResult<T>;
  }
  /** `AtomicT::compare_exchange_weak(current, new, success, failure)`: may fail spuriously. */
  compare_exchange_weak(current: T, next: T, success: Ordering, failure: Ordering): CasResult<T> {
    return atomicCompareExchange(this, true, current, next, success, failure) as CasResult<T>;
  }
  /** `AtomicT::fetch_add(value, order)` (wrapping): the previous value. */
  fetch_add(value: T, order: Ordering): T {
    return atomicRmw(this, "fetch_add", value, order) as T;
  }
  /** `AtomicT::fetch_sub(value, order)` (wrapping): the previous value. */
  fetch_sub(value: T, order: Ordering): T {
    return atomicRmw(this, "fetch_sub", value, order) as T;
  }
  /** `AtomicT::fetch_and(value, order)`: the previous value. */
  fetch_and(value: T, order: Ordering): T {
    return atomicRmw(this, "fetch_and", value, order) as T;
  }
  /** `AtomicT::fetch_or(value, order)`: the previous value. */
  fetch_or(value: T, order: Ordering): T {
    return atomicRmw(this, "fetch_or", value, order) as T;
  }
  /** `AtomicT::fetch_xor(value, order)`: the previous value. */
  fetch_xor(value: T, order: Ordering): T {
    return atomicRmw(this, "fetch_xor", value, order) as T;
  }

  /**
   * A raw pointer to the referent as `layout` (`*mut` when `mutable`). With a borrow tracker, a
   * raw retag (checked dereferenceable first, as Miri's retags are); without one, the pointer.
   */
  protected raw<U>(mutable: boolean, layout: Layout<U>): Ptr<U> {
    const p: Ptr<any> = this.#ptr;
    if (tracker() === null) return (layout as Layout<any>) === this.layout ? p : p.cast(layout);
    const a = checkReference(mem, p.address, provenanceOf(p), p.layout, mutable);
    return taggedPtr(p, p.address, layout, retag("raw", mutable, p, a, this.#tag));
  }

  /** The pointer to field `name` of the referent (`what` names the method, for the report). */
  protected fieldPtr(name: string, what: string): Ptr<any> {
    if (typeof name !== "string") unsupported(`\`${what}(${describeValue(name)})\`: a field name must be a string`);
    const f = fieldOf(this.layout, name);
    if (f === null) return unsupported(noFieldMessage(this.layout, name, what));
    return taggedPtr(this.#ptr, this.#ptr.address + f.offset, f.layout, this.#tag);
  }

  /** The pointer to element `i` of the referent, bounds-checked as Rust's indexing is. */
  protected elemPtr(i: number, what: string): Ptr<any> {
    const a = elemOf(this.layout);
    if (!Number.isInteger(i)) unsupported(`\`${what}(${describeValue(i)})\`: an index must be an integer`);
    if (a === null) {
      return unsupported(`\`${what}(${i})\` on a reference to \`${this.layout.name}\`, which is not an array`);
    }
    if (i < 0 || i >= a.len) panic(`index out of bounds: the len is ${a.len} but the index is ${i}`);
    return taggedPtr(this.#ptr, this.#ptr.address + i * a.elem.size, a.elem, this.#tag);
  }
}

/**
 * A unique reference `&mut T`. `new RefMut(p)` is `&mut *p`: checked (including that the memory
 * is writable) and retagged `unique`.
 */
export class RefMut<T> extends Ref<T> {
  /** `*r = value`, through the reference's tag. */
  write(value: T): void {
    const p = refPtr(this);
    store(mem, p.address, provenanceOf(p), this.layout, true, value, refTag(this));
  }

  /** `&mut r.field` (a unique reborrow of the field). */
  field_mut<K extends keyof T & string>(name: K): RefMut<T[K]> {
    const p = this.fieldPtr(name, "field_mut");
    return withTag(RefMut, p, borrow(p, true, refTag(this)));
  }

  /** `&mut r[i]` (a unique reborrow of the element); panics when out of bounds. */
  index_mut(i: number): RefMut<Elem<T>> {
    const p = this.elemPtr(i, "index_mut");
    return withTag(RefMut, p, borrow(p, true, refTag(this)));
  }

  /** `&mut *r` (a unique reborrow). */
  reborrow_mut(): RefMut<T> {
    return withTag(RefMut, refPtr(this), borrow(refPtr(this), true, refTag(this)));
  }

  /** `r as *mut T`: a raw pointer with the reference's provenance. */
  as_mut_ptr(): Ptr<T> {
    return this.raw(true, this.layout);
  }
}

/** The name `memory.ts` imports for `&T` (kept so that its import line need not change). */
export const SharedRef = Ref;
/** `&T`: see {@link Ref}. */
export type SharedRef<T> = Ref<T>;
/** The name `memory.ts` imports for `&mut T`. */
export const UniqueRef = RefMut;
/** `&mut T`: see {@link RefMut}. */
export type UniqueRef<T> = RefMut<T>;
