// OSTD's `mm/frame/linked_list.rs` (ostd/src/mm/frame/linked_list.rs), re-written for kmiri: an
// intrusive doubly linked list of `UniqueFrame<Link<M>>`, whose links live in the frames' metadata
// slots (so they are checked memory), and whose membership is the slot's `in_list` word: the list's
// id, given lazily from a static counter. The list owns its frames (their handles are forgotten
// on insertion and taken back on removal). The `LinkedList` object itself is what Rust keeps in a
// variable: front, back, size and id as JavaScript fields.
//
// `Link<M>` is a metadata type made per `M` (`Link.type(M)`), laid out as { next, prev, meta },
// forwarding `on_drop` and `is_untyped` to `M`'s.
import { AtomicU64, null_mut, panic, ptr, static_, struct, type Layout, type Ptr, type RefMut } from "kmiri/rt";
import {
  abort, get_slot, impl_frame_meta_like, in_list_of, meta_to_frame, slot_at, type FrameMetaType, type FrameMetaValue,
} from "./meta.js";
import { UniqueFrame } from "./unique.js";
import type { Paddr } from "../../arch/mm.js";

/** `Link<M>` as stored in the slot. */
export interface LinkV<M> {
  next: Ptr<LinkV<M>>;
  prev: Ptr<LinkV<M>>;
  meta: M;
}

const LINK_TYPES = new Map<FrameMetaType<any>, FrameMetaType<LinkV<any>>>();

/** `Link<M>`: the list's links around metadata `M`. */
export const Link = {
  /** The metadata type `Link<M>` (made once per `M`). */
  type<M>(inner: FrameMetaType<M>): FrameMetaType<LinkV<M>> {
    let t = LINK_TYPES.get(inner) as FrameMetaType<LinkV<M>> | undefined;
    if (t === undefined) {
      const layout: Layout<LinkV<M>> = struct(`Link<${inner.name}>`, {
        next: ptr((): Layout<LinkV<M>> => layout),
        prev: ptr((): Layout<LinkV<M>> => layout),
        meta: inner.layout,
      });
      t = impl_frame_meta_like(`Link<${inner.name}>`, layout, inner, (p) => {
        unsafe: {
          // SAFETY: `p` points to a live `Link<M>` (the metadata being dropped); its `meta` is inside.
          return p.field("meta");
        }
      });
      LINK_TYPES.set(inner, t);
    }
    return t;
  },

  /** `Link::new(meta)`: unlinked. */
  new<M>(meta: FrameMetaValue<M>): FrameMetaValue<LinkV<M>> {
    const t = Link.type(meta.type);
    return t.of({ next: null_mut(t.layout), prev: null_mut(t.layout), meta: meta.value });
  },
};

/** The source of list ids (0 means "in no list"). */
const LIST_ID_ALLOCATOR = static_(AtomicU64, 1n, { name: "LIST_ID_ALLOCATOR" });
const MAX_LIST_ID = 0x7fff_ffff_ffff_ffffn;

/** `LinkedList<M>`. */
export class LinkedList<M> {
  front: Ptr<LinkV<M>> | null = null;
  back: Ptr<LinkV<M>> | null = null;
  private size_ = 0;
  private list_id = 0n;

  constructor(readonly inner: FrameMetaType<M>) {}

  static new<M>(inner: FrameMetaType<M>): LinkedList<M> {
    return new LinkedList(inner);
  }

  /** The `Link<M>` metadata type of the frames. */
  link_type(): FrameMetaType<LinkV<M>> {
    return Link.type(this.inner);
  }

  size(): number {
    return this.size_;
  }

  /** @internal */
  set_size(n: number): void {
    this.size_ = n;
  }

  is_empty(): boolean {
    const empty = this.size_ === 0;
    if (empty !== (this.front === null) || empty !== (this.back === null)) panic("a linked list with inconsistent ends");
    return empty;
  }

  push_front(frame: UniqueFrame<LinkV<M>>): void {
    this.cursor_front_mut().insert_before(frame);
  }

  pop_front(): UniqueFrame<LinkV<M>> | null {
    return this.cursor_front_mut().take_current();
  }

  push_back(frame: UniqueFrame<LinkV<M>>): void {
    this.cursor_at_ghost_mut().insert_before(frame);
  }

  pop_back(): UniqueFrame<LinkV<M>> | null {
    return this.cursor_back_mut().take_current();
  }

  /** Whether the frame at `frame` is in this list (one Relaxed read of its `in_list`). */
  contains(frame: Paddr): boolean {
    const slot = get_slot(frame);
    if (!slot.ok) return false;
    return in_list_of(slot.value).load("Relaxed") === this.lazy_get_id();
  }

  /** A cursor at the frame at `frame`, if it is in this list. */
  cursor_mut_at(frame: Paddr): CursorMut<M> | null {
    const slot = get_slot(frame);
    if (!slot.ok) return null;
    if (in_list_of(slot.value).load("Relaxed") !== this.lazy_get_id()) return null;
    return new CursorMut(this, slot.value.cast(this.link_type().layout));
  }

  cursor_front_mut(): CursorMut<M> {
    return new CursorMut(this, this.front);
  }

  cursor_back_mut(): CursorMut<M> {
    return new CursorMut(this, this.back);
  }

  private cursor_at_ghost_mut(): CursorMut<M> {
    return new CursorMut(this, null);
  }

  /** @internal The list's id, taken on first use. */
  lazy_get_id(): bigint {
    if (this.list_id === 0n) {
      const id = LIST_ID_ALLOCATOR.as_ref().fetch_add(1n, "Relaxed");
      if (id >= MAX_LIST_ID) abort("the frame list ID allocator has exhausted");
      this.list_id = id;
    }
    return this.list_id;
  }

  /** `Drop`: takes every frame out (and drops it). */
  drop(): void {
    const cursor = this.cursor_front_mut();
    for (;;) {
      const f = cursor.take_current();
      if (f === null) break;
      f.drop();
    }
  }
}

/** Pointer equality (`Option<NonNull<_>>` ==). */
function same<T>(a: Ptr<T> | null, b: Ptr<T> | null): boolean {
  return (a === null ? 0 : a.addr()) === (b === null ? 0 : b.addr());
}

/** A nullable pointer read from a link field. */
function opt<T>(p: Ptr<T>): Ptr<T> | null {
  return p.is_null() ? null : p;
}

/** `CursorMut`: a position in a list (an element, or the "ghost" past the end). */
export class CursorMut<M> {
  constructor(
    private readonly list: LinkedList<M>,
    private current: Ptr<LinkV<M>> | null,
  ) {}

  private null_link(): Ptr<LinkV<M>> {
    return null_mut(this.list.link_type().layout);
  }

  /** To the next element (from the ghost: the front). */
  move_next(): void {
    const current = this.current;
    unsafe: {
      // SAFETY: the cursor points to a live element of the list.
      this.current = current !== null ? opt(current.field("next").read()) : this.list.front;
    }
  }

  /** To the previous element (from the ghost: the back). */
  move_prev(): void {
    const current = this.current;
    unsafe: {
      // SAFETY: the cursor points to a live element of the list.
      this.current = current !== null ? opt(current.field("prev").read()) : this.list.back;
    }
  }

  /** The current element's metadata `M` (not its links), mutably. */
  current_meta(): RefMut<M> | null {
    const current = this.current;
    if (current === null) return null;
    unsafe: {
      // SAFETY: `&mut self` of the cursor means exclusive access to the list's frames.
      return current.field("meta").as_mut();
    }
  }

  /** Takes the current element out; the cursor moves to the next one. */
  take_current(): UniqueFrame<LinkV<M>> | null {
    const current = this.current;
    if (current === null) return null;
    const type = this.list.link_type();
    let frame: UniqueFrame<LinkV<M>>;
    unsafe: {
      // SAFETY: the frame's handle was forgotten when it was inserted into the list.
      frame = UniqueFrame.from_raw(meta_to_frame(current.addr()), type);
    }
    const link = frame.meta_mut();
    const next = opt(link.field("next").read());
    const prev = opt(link.field("prev").read());
    if (prev !== null) {
      unsafe: {
        // SAFETY: the list owns the previous node, and the node is initialised.
        if (!same(opt(prev.field("next").read()), current)) panic("a broken linked list");
        prev.field("next").write(next ?? this.null_link());
      }
    } else {
      this.list.front = next;
    }
    if (next !== null) {
      unsafe: {
        // SAFETY: the list owns the next node, and the node is initialised.
        if (!same(opt(next.field("prev").read()), current)) panic("a broken linked list");
        next.field("prev").write(prev ?? this.null_link());
      }
      this.current = next;
    } else {
      this.list.back = prev;
      this.current = null;
    }
    const link2 = frame.meta_mut();
    link2.field_mut("next").write(this.null_link());
    link2.field_mut("prev").write(this.null_link());
    in_list_of(frame.slot()).store(0n, "Relaxed");
    this.list.set_size(this.list.size() - 1);
    return frame;
  }

  /** Inserts `frame` before the current element (at the ghost: at the back). */
  insert_before(frame: UniqueFrame<LinkV<M>>): void {
    // A frame handed in by its unique owner cannot be in any list.
    const link = frame.meta_mut();
    if (!link.field("next").read().is_null() || !link.field("prev").read().is_null()) panic("inserting a linked frame");
    if (in_list_of(frame.slot()).load("Relaxed") !== 0n) panic("inserting a frame that is in a list");
    // The element's links, reached through the slot as the list will reach them.
    const frame_ptr = slot_at(frame.paddr()).cast(this.list.link_type().layout);
    const current = this.current;
    if (current !== null) {
      unsafe: {
        // SAFETY: the list owns the current node, and it is initialised.
        const prev = opt(current.field("prev").read());
        if (prev !== null) {
          // SAFETY: the list owns the previous node, and it is initialised.
          if (!same(opt(prev.field("next").read()), current)) panic("a broken linked list");
          prev.field("next").write(frame_ptr);
          frame_ptr.field("prev").write(prev);
          frame_ptr.field("next").write(current);
          current.field("prev").write(frame_ptr);
        } else {
          if (!same(this.list.front, current)) panic("a broken linked list");
          frame_ptr.field("next").write(current);
          current.field("prev").write(frame_ptr);
          this.list.front = frame_ptr;
        }
      }
    } else {
      // At the ghost: append.
      const back = this.list.back;
      if (back !== null) {
        unsafe: {
          // SAFETY: the list owns its back node.
          if (!back.field("next").read().is_null()) panic("a broken linked list");
          back.field("next").write(frame_ptr);
          frame_ptr.field("prev").write(back);
        }
        this.list.back = frame_ptr;
      } else {
        if (this.list.front !== null) panic("a broken linked list");
        this.list.front = frame_ptr;
        this.list.back = frame_ptr;
      }
    }
    in_list_of(frame.slot()).store(this.list.lazy_get_id(), "Relaxed");
    // The list owns the frame now.
    frame.into_raw();
    this.list.set_size(this.list.size() + 1);
  }

  as_list(): LinkedList<M> {
    return this.list;
  }
}
