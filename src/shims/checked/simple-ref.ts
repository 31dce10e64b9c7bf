/**
 * References `&T` / `&mut T`, first version: a checked pointer that was dereferenceable and aligned
 * when the reference was made, read and written without an `unsafe` region (references are safe).
 *
 * Placeholder until the memory-model issue: there is no retag and no borrow stack yet, so aliasing
 * violations go unnoticed; field and index projections wait for struct and array layouts, atomics
 * for the concurrency shims. Those methods report `unsupported` rather than doing something wrong.
 */
import { load, store } from "../../interp/memory/access.js";
import type { Layout } from "../layouts.js";
import type { Ptr } from "./memory.js";
import { unsupported } from "./unsafe.js";

/** Reports a reference method that comes with a later issue. */
function notYet(what: string): never {
  return unsupported(`\`${what}\` is not supported yet: it comes with the memory-model issue`);
}

/** A shared reference `&T`. */
export class SharedRef<T> {
  /** The pointer this reference was made from. */
  readonly ptr: Ptr<T>;
  /** The referent's layout. */
  readonly layout: Layout<T>;

  constructor(ptr: Ptr<T>) {
    this.ptr = ptr;
    this.layout = ptr.layout;
  }

  /** `*r` (a copy of the value). */
  read(): T {
    return load(this.ptr.address, this.ptr.provenance, this.layout, true);
  }

  /** `&*r` (a reborrow). */
  reborrow(): SharedRef<T> {
    return new SharedRef(this.ptr);
  }

  /** `r as *const T`. */
  as_ptr(): Ptr<T> {
    return this.ptr;
  }

  /** `&r.field`: not yet. */
  field(name: string): never {
    return notYet(`Ref::field("${name}")`);
  }

  /** `&r[i]`: not yet. */
  index(i: number): never {
    return notYet(`Ref::index(${i})`);
  }

  /** `UnsafeCell::get`: not yet (cell layouts). */
  get(): never {
    return notYet("Ref::get");
  }

  /** Atomic operations on a reference: not yet (they come with the concurrency shims). */
  load(_order: string): never {
    return notYet("Ref::load");
  }
  /** Not yet. */
  store(_value: T, _order: string): never {
    return notYet("Ref::store");
  }
  /** Not yet. */
  swap(_value: T, _order: string): never {
    return notYet("Ref::swap");
  }
  /** Not yet. */
  compare_exchange(_current: T, _next: T, _success: string, _failure: string): never {
    return notYet("Ref::compare_exchange");
  }
  /** Not yet. */
  compare_exchange_weak(_current: T, _next: T, _success: string, _failure: string): never {
    return notYet("Ref::compare_exchange_weak");
  }
  /** Not yet. */
  fetch_add(_value: T, _order: string): never {
    return notYet("Ref::fetch_add");
  }
  /** Not yet. */
  fetch_sub(_value: T, _order: string): never {
    return notYet("Ref::fetch_sub");
  }
  /** Not yet. */
  fetch_and(_value: T, _order: string): never {
    return notYet("Ref::fetch_and");
  }
  /** Not yet. */
  fetch_or(_value: T, _order: string): never {
    return notYet("Ref::fetch_or");
  }
  /** Not yet. */
  fetch_xor(_value: T, _order: string): never {
    return notYet("Ref::fetch_xor");
  }
}

/** A unique reference `&mut T`. */
export class UniqueRef<T> extends SharedRef<T> {
  /** `*r = value`. */
  write(value: T): void {
    store(this.ptr.address, this.ptr.provenance, this.layout, true, value);
  }

  /** `&mut *r` (a reborrow). */
  reborrow_mut(): UniqueRef<T> {
    return new UniqueRef(this.ptr);
  }

  /** `r as *mut T`. */
  as_mut_ptr(): Ptr<T> {
    return this.ptr;
  }

  /** `&mut r.field`: not yet. */
  field_mut(name: string): never {
    return notYet(`RefMut::field_mut("${name}")`);
  }

  /** `&mut r[i]`: not yet. */
  index_mut(i: number): never {
    return notYet(`RefMut::index_mut(${i})`);
  }
}
