/**
 * Native references `&T` / `&mut T`: a pointer, unchecked. The twin of `checked/simple-ref.ts`;
 * projections and atomics come with later issues and throw here.
 */
import type { Layout } from "../layouts.js";
import type { Ptr } from "./memory.js";

/** Throws for a reference method that comes with a later issue. */
function notYet(what: string): never {
  throw new Error(`kmiri native: \`${what}\` is not supported yet`);
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
  /** `*r`. */
  read(): T {
    return this.layout.decode(this.ptr.view!, this.ptr.address - this.ptr.start);
  }
  /** `&*r`. */
  reborrow(): SharedRef<T> {
    return new SharedRef(this.ptr);
  }
  /** `r as *const T`. */
  as_ptr(): Ptr<T> {
    return this.ptr;
  }
  /** Not yet. */
  field(name: string): never {
    return notYet(`Ref::field("${name}")`);
  }
  /** Not yet. */
  index(i: number): never {
    return notYet(`Ref::index(${i})`);
  }
  /** Not yet. */
  get(): never {
    return notYet("Ref::get");
  }
  /** Not yet. */
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
    this.layout.encode(this.ptr.view!, this.ptr.address - this.ptr.start, value);
  }
  /** `&mut *r`. */
  reborrow_mut(): UniqueRef<T> {
    return new UniqueRef(this.ptr);
  }
  /** `r as *mut T`. */
  as_mut_ptr(): Ptr<T> {
    return this.ptr;
  }
  /** Not yet. */
  field_mut(name: string): never {
    return notYet(`RefMut::field_mut("${name}")`);
  }
  /** Not yet. */
  index_mut(i: number): never {
    return notYet(`RefMut::index_mut(${i})`);
  }
}
