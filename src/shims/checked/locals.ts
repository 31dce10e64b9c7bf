/**
 * Locals on the Machine: `local(layout, init?)` is `let mut x: T = init;` for a variable whose
 * address is taken. It lives in an allocation of kind `stack`, registered with the running
 * function (`ShimHost.registerLocal`): when that function returns, the compiler's `finally`
 * frees it, with the function as its "deallocated here" site. A pointer or reference to it used
 * afterwards is `use-after-free` (Miri: `alloc7 has been freed, so this pointer is dangling`),
 * with help lines pointing at the `local(...)` call and at the function. The variable itself used
 * after that (a `Local` kept by a closure) is Miri's `accessing a dead local variable`, same kind.
 *
 * Outside any function that may own locals — at a module's top level, where a `let` is a global —
 * a `local` lives as long as the program, like a static. Any other caller (a `local` reached only
 * through an alias kmiri cannot see from the function's own code) is `unsupported`: the variable's
 * lifetime would be unknown.
 */
import type { BorTag } from "../../borrowtracker/hooks.js";
import { current, mem } from "./context.js";
import { load, store, write } from "../../interp/memory/access.js";
import { allocationHelp, reportUB } from "../../interp/memory/diagnose.js";
import type { Allocation } from "../../interp/memory/allocation.js";
import { isLayout, type Layout } from "../../interp/memory/layouts.js";
import { retag, rootTag, taggedPtr, trackDealloc, tracker } from "./borrow-hooks.js";
import { notALayout, Ptr, provenanceOf } from "./memory.js";
import { Ref, RefMut, borrow, withTag } from "./refs.js";
import { unsupported } from "./unsafe.js";

/** A local variable whose address is taken (`let mut x`): it dies when its function returns. */
/** The pointer to a local's slot (its root provenance): kmiri's eyes only. */
export let slotOfLocal: <T>(x: Local<T>) => Ptr<T>;

/** The constructor's token: only `local` makes a Local. */
const INTERNAL: unique symbol = Symbol("Local");

export class Local<T> {
  /** The variable's layout. */
  readonly layout: Layout<T>;
  /** The pointer to the slot (its root provenance). */
  #ptr: Ptr<T>;
  /** The root tag of the slot: direct reads and writes use it, as Miri's do. */
  #tag: BorTag;

  /** @internal Use {@link local}. */
  constructor(layout: Layout<T>, ptr: Ptr<T>, tag: BorTag, internal?: typeof INTERNAL) {
    if (internal !== INTERNAL) unsupported("a `Local` constructed by the program: use `local`");
    this.layout = layout;
    this.#ptr = ptr;
    this.#tag = tag;
  }

  /** `x`: reads the variable (it must be initialised). */
  read(): T {
    const p = this.#ptr;
    if (!provenanceOf(p)!.live) deadLocal(provenanceOf(p)!);
    return load(mem, p.address, provenanceOf(p), this.layout, true, this.#tag);
  }

  /** `x = value`. */
  write(value: T): void {
    const p = this.#ptr;
    if (!provenanceOf(p)!.live) deadLocal(provenanceOf(p)!);
    store(mem, p.address, provenanceOf(p), this.layout, true, value, this.#tag);
  }

  /** `&x`. */
  as_ref(): Ref<T> {
    if (!provenanceOf(this.#ptr)!.live) deadLocal(provenanceOf(this.#ptr)!);
    return withTag(Ref, this.#ptr, borrow(this.#ptr, false, this.#tag));
  }

  /** `&mut x`. */
  as_mut(): RefMut<T> {
    if (!provenanceOf(this.#ptr)!.live) deadLocal(provenanceOf(this.#ptr)!);
    return withTag(RefMut, this.#ptr, borrow(this.#ptr, true, this.#tag));
  }

  /** `&raw mut x`: a raw pointer to the slot. */
  as_ptr(): Ptr<T> {
    if (!provenanceOf(this.#ptr)!.live) deadLocal(provenanceOf(this.#ptr)!);
    if (tracker() === null) return this.#ptr;
    return taggedPtr(this.#ptr, this.#ptr.address, this.layout, retag("raw", true, this.#ptr, provenanceOf(this.#ptr), this.#tag));
  }

  static {
    slotOfLocal = (x) => x.#ptr;
  }
}


/** Reports a use of a local variable after its function returned (Miri's StorageDead check). */
function deadLocal(a: Allocation): never {
  return reportUB(mem, "use-after-free", "accessing a dead local variable", allocationHelp(mem, a));
}

/** True while a module's top-level code runs (the Machine's `instantiating`; false off the Machine). */
function atTopLevel(): boolean {
  return current.instantiating != null;
}

/**
 * `let mut x: T = init;` (uninitialised when `init` is left out): a stack slot of the running
 * function, freed when it returns.
 * @example
 * function f(): number { const x = local(u32, 1); x.as_mut().write(2); return x.read(); }
 */
export function local<T>(layout: Layout<T>, init?: T): Local<T> {
  if (!isLayout(layout)) notALayout("local", "layout", layout);
  const memory = current.memory;
  const a: Allocation = memory.allocate(layout.size, layout.align, "stack", current.currentSite(), false);
  const tag = rootTag(a);
  const free = (site: number) => {
    if (!a.live) return;
    trackDealloc(a, tag, site);
    memory.deallocate(a, site);
  };
  if (!current.registerLocal(free) && !atTopLevel()) {
    unsupported(
      "`local` called where kmiri cannot tell which function owns the variable (no function that calls " +
        "`local(...)` itself is running); call `local(...)` directly in the function the variable belongs to",
    );
  }
  const p = new Ptr(a.base, a, layout, tag);
  if (init !== undefined) write(a, 0, layout, init);
  return new Local(layout, p, tag, INTERNAL);
}
