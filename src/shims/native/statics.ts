/**
 * Native statics: the twin of `checked/statics.ts`, unchecked. The static's bytes are allocated
 * from the same address space as on the Machine (so addresses print the same) and never freed.
 */
import type { Layout } from "../../interp/memory/layouts.js";
import { alloc, type Ptr } from "./memory.js";
import { Ref, RefMut } from "./refs.js";

/** Options of {@link static_}. */
export interface StaticOptions {
  /** `static mut`. */
  mut?: boolean;
  /** The static's name. */
  name?: string;
}

/** A `static` or `static mut`, unchecked. */
export class Static<T> {
  /** The static's layout. */
  readonly layout: Layout<T>;
  /** True for a `static mut`. */
  readonly mutable: boolean;
  /** The static's name, or `null`. */
  readonly name: string | null;
  /** The pointer to the static. */
  readonly ptr: Ptr<T>;

  /** @internal Use {@link static_}. */
  constructor(layout: Layout<T>, ptr: Ptr<T>, mutable: boolean, name: string | null) {
    this.layout = layout;
    this.ptr = ptr;
    this.mutable = mutable;
    this.name = name;
  }
  /** `&STATIC`. */
  as_ref(): Ref<T> {
    return new Ref(this.ptr);
  }
  /** `&mut STATIC`. */
  as_mut(): RefMut<T> {
    return new RefMut(this.ptr);
  }
  /** `&raw mut STATIC`. */
  as_ptr(): Ptr<T> {
    return this.ptr;
  }
  /** `STATIC`. */
  read(): T {
    return this.ptr.read();
  }
  /** `STATIC = value`. */
  write(value: T): void {
    this.ptr.write(value);
  }
}

/** `static NAME: T = init;` (or `static mut`). */
export function static_<T>(layout: Layout<T>, init: T, options: StaticOptions = {}): Static<T> {
  const p = alloc(layout);
  p.write(init);
  return new Static(layout, p, options.mut === true, options.name ?? null);
}
