// `alloc::sync::Arc` and `Weak` (Rust's standard library, which OSTD uses as its `Arc`), re-written
// for kmiri: the counts and the value live in one heap block in kmiri memory, `ArcInner { strong,
// weak, data }`, so the race detector checks the reference-count protocol: clones are Relaxed
// increments, a drop is a Release decrement, and the last one takes an Acquire fence before the
// value is dropped and the block freed.
//
// The value is either in kmiri memory (`Arc.new(layout, value)`: `data` has that layout) or a
// JavaScript value held alongside (`Arc.new_value(value)`: `data` is `unit`, the value is shared by
// the handles, and its `drop()` method, if it has one, is called when the last strong reference
// goes). As in Rust, all strong references together hold one weak reference.
//
// Differences from std: the counts are `AtomicUsize` numbers, so the cap that aborts on overflow
// (`isize::MAX` in std) is 2^52 here, and `get_mut`'s "weak count locked" sentinel (`usize::MAX`
// in std) is `Number.MAX_SAFE_INTEGER`.
import { AtomicUsize, Box, fence, offset_of, panic, struct, unit, type Layout, type Ptr, type Ref, type RefMut } from "kmiri/rt";

const MAX_REFCOUNT = 2 ** 52;
const WEAK_LOCKED = Number.MAX_SAFE_INTEGER;

interface ArcInnerV<T> {
  strong: number;
  weak: number;
  data: T;
}

/** `ArcInner<T>`'s layout for a value layout (one per layout, so one allocation site shape). */
const inner_layouts = new Map<Layout<unknown>, Layout<ArcInnerV<unknown>>>();
function arc_inner<T>(layout: Layout<T>): Layout<ArcInnerV<T>> {
  let l = inner_layouts.get(layout as Layout<unknown>);
  if (l === undefined) {
    l = struct("ArcInner", { strong: AtomicUsize, weak: AtomicUsize, data: layout as Layout<unknown> }, { repr: "C" }) as Layout<ArcInnerV<unknown>>;
    inner_layouts.set(layout as Layout<unknown>, l);
  }
  return l as unknown as Layout<ArcInnerV<T>>;
}

/** What the handles of one allocation share besides the block: the layout and a JS value. */
interface Shared<T> {
  readonly layout: Layout<T>;
  readonly inner_layout: Layout<ArcInnerV<T>>;
  /** The JS value of `new_value` (undefined for a value in kmiri memory). */
  js: { value: T } | null;
}

function counts<T>(p: Ptr<ArcInnerV<T>>): { strong: Ref<number>; weak: Ref<number> } {
  unsafe: {
    // SAFETY: the block lives while a reference (strong or weak) does, and the caller holds one;
    // the counts are only accessed atomically. References to the count fields alone, so they do
    // not cover the value, which a `get_mut` caller may be writing.
    return { strong: p.field("strong").as_ref(), weak: p.field("weak").as_ref() };
  }
}

/** The value's pointer in a live block. */
function data_ptr<T>(p: Ptr<ArcInnerV<T>>): Ptr<T> {
  unsafe: {
    // SAFETY: an in-bounds field of a live block.
    return p.field("data");
  }
}

/** `Arc<T>`: a strong reference. Call `drop()` once where Rust drops it. */
export class Arc<T> {
  private dropped = false;

  /** @internal a handle on a block whose strong count already counts it. */
  constructor(
    private readonly ptr: Ptr<ArcInnerV<T>>,
    private readonly shared: Shared<T>,
  ) {}

  /** `Arc::new(value)` with the value in kmiri memory, of `layout`. */
  static new<T>(layout: Layout<T>, value: T): Arc<T> {
    const inner_layout = arc_inner(layout);
    const b = Box.new(inner_layout, { strong: 1, weak: 1, data: value });
    return new Arc(Box.into_raw(b), { layout, inner_layout, js: null });
  }

  /** `Arc::new(value)` with a JavaScript value held alongside the counts (dropped with `drop()` if it has one). */
  static new_value<T>(value: T): Arc<T> {
    const inner_layout = arc_inner(unit);
    const b = Box.new(inner_layout, { strong: 1, weak: 1, data: undefined });
    const p = Box.into_raw(b) as unknown as Ptr<ArcInnerV<T>>;
    return new Arc<T>(p, { layout: unit, inner_layout, js: { value } } as unknown as Shared<T>);
  }

  private live(): Ptr<ArcInnerV<T>> {
    if (this.dropped) panic("Arc used after drop");
    return this.ptr;
  }

  /** `Arc::clone`: a Relaxed increment (a new reference is made from an existing one, so no ordering is needed). */
  clone(): Arc<T> {
    const old = counts(this.live()).strong.fetch_add(1, "Relaxed");
    if (old > MAX_REFCOUNT) panic("Arc counter overflow");
    return new Arc(this.ptr, this.shared);
  }

  /** `&*arc` for a value in kmiri memory: a shared reference to it. */
  get(): Ref<T> {
    if (this.shared.js !== null) panic("Arc::get on a JS value: use `value`");
    unsafe: {
      // SAFETY: the value lives while this strong reference does, and no one mutates it while
      // shared (only through `get_mut`, which needs the only reference).
      return data_ptr(this.live()).as_ref();
    }
  }

  /** The value: read from kmiri memory, or the JS value held alongside. */
  get value(): T {
    const js = this.shared.js;
    if (js !== null) {
      this.live();
      return js.value;
    }
    return this.get().read();
  }

  /** `Arc::as_ptr`: a raw pointer to the value (in kmiri memory). */
  as_ptr(): Ptr<T> {
    return data_ptr(this.live());
  }

  /**
   * `Arc::get_mut`: a unique reference to the value when this is the only reference (strong and
   * weak), else null. The weak count is "locked" meanwhile so no `downgrade` can race with the
   * check; the reference must not outlive the next clone or downgrade.
   */
  get_mut(): RefMut<T> | null {
    if (!this.is_unique()) return null;
    unsafe: {
      // SAFETY: this is the only reference, strong or weak.
      return data_ptr(this.live()).as_mut();
    }
  }

  /** `get_mut` for a JS value held alongside: whether the caller may mutate it in place. */
  is_unique(): boolean {
    const { strong, weak } = counts(this.live());
    // Lock the weak count if we are its only holder (the strong references' shared one). The
    // Acquire pairs with Weak's Release decrement, so Weak-side accesses happen before ours.
    if (weak.compare_exchange(1, WEAK_LOCKED, "Acquire", "Relaxed").ok) {
      // Acquire pairs with the Release decrement of other strong references' drops.
      const unique = strong.load("Acquire") === 1;
      weak.store(1, "Release");
      return unique;
    }
    return false;
  }

  /** `Arc::strong_count`. */
  static strong_count<T>(a: Arc<T>): number {
    return counts(a.live()).strong.load("Acquire");
  }

  /** `Arc::weak_count`: the `Weak`s (the strong references' shared weak reference not counted). */
  static weak_count<T>(a: Arc<T>): number {
    const { weak } = counts(a.live());
    const cnt = weak.load("Acquire");
    return cnt === WEAK_LOCKED ? 0 : cnt - 1;
  }

  /** `Arc::ptr_eq`: whether both point to the same allocation. */
  static ptr_eq<T>(a: Arc<T>, b: Arc<T>): boolean {
    return a.live().addr() === b.live().addr();
  }

  /** `Arc::downgrade`: a `Weak`, counted once the weak count is not locked by `get_mut`. */
  static downgrade<T>(a: Arc<T>): Weak<T> {
    const { weak } = counts(a.live());
    let cur = weak.load("Relaxed");
    for (;;) {
      if (cur === WEAK_LOCKED) {
        cur = weak.load("Relaxed");
        continue;
      }
      if (cur > MAX_REFCOUNT) panic("Arc weak counter overflow");
      // Acquire pairs with `is_unique`'s Release store of the unlocked count.
      const r = weak.compare_exchange_weak(cur, cur + 1, "Acquire", "Relaxed");
      if (r.ok) return Weak.from_parts(a.ptr, a.shared);
      cur = r.value;
    }
  }

  /** `Arc::into_raw`: the value's pointer; the reference is not dropped (pair with {@link from_raw}). */
  static into_raw<T>(a: Arc<T>): Ptr<T> {
    const p = data_ptr(a.live());
    a.dropped = true;
    return p;
  }

  /** `Arc::from_raw(ptr)` for a pointer from {@link into_raw} of an `Arc.new(layout, ...)`. */
  static from_raw<T>(layout: Layout<T>, raw: Ptr<T>): Arc<T> {
    "unsafe";
    const inner_layout = arc_inner(layout);
    // Step back over the counts to the block's start, keeping the pointer's provenance.
    const back = raw.cast(inner_layout).byte_sub(offset_of(inner_layout, "data"));
    return new Arc(back, { layout, inner_layout, js: null });
  }

  /** Drops this strong reference; the last one drops the value and this references' weak one. */
  drop(): void {
    const p = this.live();
    this.dropped = true;
    // Release: every use of the value through this reference happens before the decrement, so
    // before the drop of the value by whoever brings the count to zero.
    if (counts(p).strong.fetch_sub(1, "Release") !== 1) return;
    // Acquire (as a fence): synchronise with every other reference's Release decrement, so all
    // their uses happen before the value is dropped and the block freed.
    fence("Acquire");
    this.drop_slow();
  }

  private drop_slow(): void {
    const js = this.shared.js;
    if (js !== null) {
      const v = js.value as { drop?: () => void } | null;
      js.value = undefined as T;
      if (v !== null && typeof v === "object" && typeof v.drop === "function") v.drop();
    }
    // Drop the weak reference all strong references held together (may free the block).
    Weak.from_parts(this.ptr, this.shared).drop();
  }
}

/** `Weak<T>`: a weak reference; `upgrade()` gives an `Arc` while a strong one lives. */
export class Weak<T> {
  private dropped = false;

  private constructor(
    private readonly ptr: Ptr<ArcInnerV<T>> | null,
    private readonly shared: Shared<T> | null,
  ) {}

  /** `Weak::new()`: a weak reference to nothing (upgrade always fails). */
  static new<T>(): Weak<T> {
    return new Weak<T>(null, null);
  }

  /** @internal */
  static from_parts<T>(ptr: Ptr<ArcInnerV<T>>, shared: Shared<T>): Weak<T> {
    return new Weak(ptr, shared);
  }

  private live(): Ptr<ArcInnerV<T>> | null {
    if (this.dropped) panic("Weak used after drop");
    return this.ptr;
  }

  /** `Weak::upgrade`: an `Arc` if the value is still alive (strong count above zero). */
  upgrade(): Arc<T> | null {
    const p = this.live();
    if (p === null || this.shared === null) return null;
    const { strong } = counts(p);
    let n = strong.load("Relaxed");
    for (;;) {
      if (n === 0) return null;
      if (n > MAX_REFCOUNT) panic("Arc counter overflow");
      // Acquire: pair with the Release decrements, as std does (for the `get_mut` protocol).
      const r = strong.compare_exchange_weak(n, n + 1, "Acquire", "Relaxed");
      if (r.ok) return new Arc(p, this.shared);
      n = r.value;
    }
  }

  /** `Weak::clone`. */
  clone(): Weak<T> {
    const p = this.live();
    if (p === null) return new Weak<T>(null, null);
    const old = counts(p).weak.fetch_add(1, "Relaxed");
    if (old > MAX_REFCOUNT) panic("Arc weak counter overflow");
    return new Weak(p, this.shared);
  }

  /** `Weak::strong_count`. */
  strong_count(): number {
    const p = this.live();
    return p === null ? 0 : counts(p).strong.load("Acquire");
  }

  /** Drops this weak reference; the last one frees the block. */
  drop(): void {
    const p = this.live();
    this.dropped = true;
    if (p === null || this.shared === null) return;
    if (counts(p).weak.fetch_sub(1, "Release") !== 1) return;
    fence("Acquire");
    unsafe: {
      Box.from_raw(p).drop();
    }
  }
}
