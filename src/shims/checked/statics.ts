/**
 * Statics on the Machine: `static_(layout, init, { mut, name })` is Rust's `static NAME: T = init;`
 * (or `static mut`). The value lives in an allocation of kind `static`, made and initialised when
 * `static_` runs (normally while its module is instantiated), never freed and never a leak.
 *
 * Rules, as rustc and Miri apply them:
 * - An immutable static is read-only memory: a write through a raw pointer to it is `read-only`
 *   (`writing to alloc3 which is read-only`), and so is a `&mut` to it (`encountered mutable
 *   reference pointing to read-only memory`). Exception, as rustc places such statics: a static
 *   whose type contains an `UnsafeCell` (a `cell` or an atomic) lives in writable memory, so that
 *   its cells can be mutated through shared references. Telling its frozen bytes from its cells is
 *   the borrow tracker's job (a shared retag is freeze-sensitive), not the memory's.
 * - Using a `static mut` (`as_ref`, `as_mut`, `read`, `write`) outside an unsafe region is
 *   rustc's E0133 (`use of mutable static is unsafe and requires unsafe block`); taking its
 *   address with `as_ptr` (`&raw mut STATIC`) is safe.
 * - `as_mut` and `write` on an immutable static are rustc's E0596 / E0594, reported as `read-only`.
 */
import type { BorTag } from "../../borrowtracker/hooks.js";
import { current, mem } from "./context.js";
import { load, store, write } from "../../interp/memory/access.js";
import type { Allocation } from "../../interp/memory/allocation.js";
import { isLayout, type Layout } from "../../interp/memory/layouts.js";
import { hasInterior } from "../projections.js";
import { retag, rootTag, taggedPtr, tracker } from "./borrow-hooks.js";
import { notALayout, Ptr, provenanceOf } from "./memory.js";
import { Ref, RefMut, borrow, withTag } from "./refs.js";
import { UNSAFE_CALL_TITLE, unsupported } from "./unsafe.js";

/** Options of {@link static_}. */
export interface StaticOptions {
  /** `static mut`: writable, and every use but `as_ptr` needs an unsafe region. Default `false`. */
  mut?: boolean;
  /** The static's name (`COUNTER`), shown in diagnostics. */
  name?: string;
}

/** The names of statics by allocation, for diagnostics elsewhere (`alloc3` is the static `COUNTER`). */
const staticNames = new WeakMap<Allocation, string>();

/** The name given to the static that owns allocation `a`, if `a` is a named static. */
export function staticName(a: Allocation): string | undefined {
  return staticNames.get(a);
}

/** A `static` or `static mut`. */
/** The pointer to a static's slot (its root provenance): kmiri's eyes only. */
export let slotOfStatic: <T>(x: Static<T>) => Ptr<T>;

/** The constructor's token: only `static_` makes a Static. */
const INTERNAL: unique symbol = Symbol("Static");

export class Static<T> {
  /** The static's layout. */
  readonly layout: Layout<T>;
  /** True for a `static mut`. */
  #mutable: boolean;
  /** The static's name, or `null`. */
  readonly name: string | null;
  /** The pointer to the static (its root provenance). */
  #ptr: Ptr<T>;
  /** The root tag of the static's allocation. */
  #tag: BorTag;

  /** @internal Use {@link static_}. */
  constructor(layout: Layout<T>, ptr: Ptr<T>, tag: BorTag, mutable: boolean, name: string | null, internal?: typeof INTERNAL) {
    if (internal !== INTERNAL) unsupported("a `Static` constructed by the program: use `static_`");
    this.layout = layout;
    this.#ptr = ptr;
    this.#tag = tag;
    this.#mutable = mutable;
    this.name = name;
  }

  /** `&STATIC`: a shared reference (UNSAFE for a `static mut`). */
  as_ref(): Ref<T> {
    if (this.#mutable && !current.inUnsafe()) useOfMutableStatic();
    return withTag(Ref, this.#ptr, borrow(this.#ptr, false, this.#tag));
  }

  /** UNSAFE, `static mut` only: `&mut STATIC`. */
  as_mut(): RefMut<T> {
    if (!this.#mutable) this.immutable("borrow", "as mutable");
    if (!current.inUnsafe()) useOfMutableStatic();
    return withTag(RefMut, this.#ptr, borrow(this.#ptr, true, this.#tag));
  }

  /**
   * `&raw const STATIC` / `&raw mut STATIC` (safe, even for a `static mut`). A write through it to
   * an immutable static is `read-only`.
   */
  as_ptr(): Ptr<T> {
    if (tracker() === null) return this.#ptr;
    return taggedPtr(this.#ptr, this.#ptr.address, this.layout, retag("raw", this.#mutable, this.#ptr, provenanceOf(this.#ptr), this.#tag));
  }

  /** `STATIC` used as a value: a copy of it (UNSAFE for a `static mut`). An addition to the contract. */
  read(): T {
    if (this.#mutable && !current.inUnsafe()) useOfMutableStatic();
    const p = this.#ptr;
    return load(mem, p.address, provenanceOf(p), this.layout, true, this.#tag);
  }

  /** UNSAFE, `static mut` only: `STATIC = value`. An addition to the contract. */
  write(value: T): void {
    if (!this.#mutable) this.immutable("assign to", "");
    if (!current.inUnsafe()) useOfMutableStatic();
    const p = this.#ptr;
    store(mem, p.address, provenanceOf(p), this.layout, true, value, this.#tag);
  }

  /** Reports a mutation of an immutable static, as rustc does (E0596 for a borrow, E0594 for an assignment). */
  private immutable(verb: "borrow" | "assign to", how: string): never {
    const what = `immutable static item${this.name === null ? "" : ` \`${this.name}\``}`;
    const a = provenanceOf(this.#ptr)!;
    return current.report("read-only", `cannot ${verb} ${what}${how ? ` ${how}` : ""}`, {
      title: verb === "borrow" ? "error[E0596]" : "error[E0594]",
      label: verb === "borrow" ? "cannot borrow as mutable" : "cannot assign",
      help: [
        { message: `${a.name} is the static${this.name === null ? "" : ` \`${this.name}\``}, defined here:`, location: current.siteLocation(a.allocSite) },
        { message: "declare it `static_(layout, init, { mut: true })` (a `static mut`), or give it interior mutability (`cell`, atomics)" },
      ],
    });
  }

  static {
    slotOfStatic = (x) => x.#ptr;
  }
}


/** Reports a use of a `static mut` outside an unsafe region (rustc's E0133). */
function useOfMutableStatic(): never {
  return current.report("unsafe-outside-unsafe", "use of mutable static is unsafe and requires unsafe block", {
    title: UNSAFE_CALL_TITLE,
    label: "use of mutable static",
    help: [{ message: 'wrap the use in an `unsafe: { ... }` block, or mark the enclosing function `"unsafe";`' }],
    notes: ["mutable statics can be mutated by multiple threads: aliasing violations or data races will cause undefined behavior"],
  });
}

/**
 * `static NAME: T = init;` (or `static mut` with `{ mut: true }`): a new static holding `init`.
 * @example
 * const COUNTER = static_(u32, 0, { mut: true, name: "COUNTER" });
 */
export function static_<T>(layout: Layout<T>, init: T, options: StaticOptions = {}): Static<T> {
  if (!isLayout(layout)) notALayout("static_", "layout", layout);
  if (typeof options !== "object" || options === null) options = {};
  const mutable = options.mut === true;
  if (options.name !== undefined && typeof options.name !== "string") unsupported("the `name` of `static_` must be a string");
  const site = current.currentSite();
  const a = current.memory.allocate(layout.size, layout.align, "static", site, false);
  if (options.name !== undefined) staticNames.set(a, options.name);
  write(a, 0, layout, init);
  // rustc puts a static in read-only memory unless it is `mut` or holds an `UnsafeCell`.
  a.writable = mutable || hasInterior(layout);
  const tag = rootTag(a);
  return new Static(layout, new Ptr(a.base, a, layout, tag), tag, mutable, options.name ?? null, INTERNAL);
}
