/**
 * Native locals: the twin of `checked/locals.ts`, unchecked. The slot takes its address from the
 * same address space as on the Machine (so addresses print the same); nothing frees it when its
 * function returns (plain Node has no hook there), so it is released to the address space's
 * bookkeeping at once and its bytes live as long as a pointer to them does.
 */
import type { Layout } from "../../interp/memory/layouts.js";
import { alloc, dealloc, type Ptr } from "./memory.js";
import { Ref, RefMut } from "./refs.js";

/** A local variable whose address is taken, unchecked. */
export class Local<T> {
  /** The variable's layout. */
  readonly layout: Layout<T>;
  /** The pointer to the slot. */
  readonly ptr: Ptr<T>;

  /** @internal Use {@link local}. */
  constructor(layout: Layout<T>, ptr: Ptr<T>) {
    this.layout = layout;
    this.ptr = ptr;
  }
  /** `x`. */
  read(): T {
    return this.ptr.read();
  }
  /** `x = value`. */
  write(value: T): void {
    this.ptr.write(value);
  }
  /** `&x`. */
  as_ref(): Ref<T> {
    return new Ref(this.ptr);
  }
  /** `&mut x`. */
  as_mut(): RefMut<T> {
    return new RefMut(this.ptr);
  }
  /** `&raw mut x`. */
  as_ptr(): Ptr<T> {
    return this.ptr;
  }
}

/** `let mut x: T = init;`. */
export function local<T>(layout: Layout<T>, init?: T): Local<T> {
  const p = alloc(layout);
  if (init !== undefined) p.write(init);
  // The chunk's count of live blocks drops now: a hot function's locals must not pin chunks.
  dealloc(p, layout);
  return new Local(layout, p);
}
