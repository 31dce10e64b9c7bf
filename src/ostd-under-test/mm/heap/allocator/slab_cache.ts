// OSDK's `heap-allocator/src/slab_cache.rs` (osdk/deps/heap-allocator), re-written for kmiri: a
// slab cache of one slot size, its slabs in three intrusive frame lists — empty, partially
// allocated and full — so that memory is reused and the allocation path is short.
//
// Design. The lists are `LinkedList<SlabMeta<SLOT_SIZE>>` of `mm/frame/linked_list.ts` (their links
// and the slabs' metadata in the frame-metadata array). A cache is owned by whoever holds it: the
// global pool behind its spin lock, or a test.
import { panic } from "kmiri/rt";
import { PAGE_SIZE, type Paddr } from "../../../arch/mm.js";
import { LinkedList } from "../../frame/linked_list.js";
import { Err, Ok, type Result } from "../../frame/meta.js";
import { Slab, SlabMeta, type SlabMetaV } from "../slab.js";
import type { AllocError, HeapSlot } from "../slot.js";
import { TOTAL_SLAB_ALLOCATED } from "./slab_counter.js";

/** How many empty slabs a cache keeps after trimming (and allocates ahead). */
const EXPECTED_EMPTY_SLABS = 4;
/** More empty slabs than this, and the cache trims them. */
const MAX_EMPTY_SLABS = 16;

/** `SlabCache<SLOT_SIZE>`. */
export class SlabCache {
  private readonly empty: LinkedList<SlabMetaV>;
  private readonly partial: LinkedList<SlabMetaV>;
  private readonly full: LinkedList<SlabMetaV>;

  /** `SlabCache::new()`. */
  constructor(readonly slot_size: number) {
    const t = SlabMeta.type(slot_size);
    this.empty = LinkedList.new(t);
    this.partial = LinkedList.new(t);
    this.full = LinkedList.new(t);
  }

  /** The numbers of empty, partial and full slabs (for tests). */
  sizes(): { empty: number; partial: number; full: number } {
    return { empty: this.empty.size(), partial: this.partial.size(), full: this.full.size() };
  }

  /** `alloc`: a slot, from a partial slab, else an empty one, else a new one. */
  alloc(): Result<HeapSlot, AllocError> {
    // A partial slab first.
    if (!this.partial.is_empty()) {
      const cursor = this.partial.cursor_back_mut();
      const current = new SlabMeta(cursor.current_meta()!, this.slot_size);
      const allocated = current.alloc();
      if (!allocated.ok) panic("called `Result::unwrap()` on an `Err` value: AllocError");
      if (current.nr_allocated() === current.capacity()) this.full.push_front(cursor.take_current()!);
      return allocated;
    }

    // Else an empty slab.
    if (!this.empty.is_empty()) {
      const slab = this.empty.pop_front()!;
      const allocated = Slab.meta_mut(slab).alloc();
      if (!allocated.ok) panic("called `Result::unwrap()` on an `Err` value: AllocError");
      this.add_slab(slab);
      return allocated;
    }

    // Else new slabs.
    const allocated_empty = this.alloc_slab();
    // `log::error!("Failed to allocate a new slab")`.
    if (allocated_empty === null) return Err("AllocError");
    const allocated = Slab.meta_mut(allocated_empty).alloc();
    if (!allocated.ok) panic("called `Result::unwrap()` on an `Err` value: AllocError");
    this.add_slab(allocated_empty);

    // And a few empty ones ahead.
    for (let i = 0; i < EXPECTED_EMPTY_SLABS; i++) {
      const more = this.alloc_slab();
      if (more === null) break;
      this.empty.push_front(more);
    }
    return allocated;
  }

  /** `dealloc`: gives a slot back to its slab, which must be in this cache. */
  dealloc(slot: HeapSlot): Result<void, AllocError> {
    // `log::error!("Can't find the slab for the slot")`.
    const which = which_slab(slot);
    if (which === null) return Err("AllocError");

    let extracted_slab: Slab | null = null;
    if (this.partial.contains(which)) {
      extracted_slab = this.partial.cursor_mut_at(which)!.take_current();
    } else if (this.full.contains(which)) {
      extracted_slab = this.full.cursor_mut_at(which)!.take_current();
    }
    // `log::error!("Deallocating a slot that is not allocated from the cache")`.
    if (extracted_slab === null) return Err("AllocError");
    const slab = extracted_slab;

    // (`?` would drop the slab taken out of the list; the slab is the slot's own frame, so
    // `Slab::dealloc` cannot fail here.)
    const r = Slab.dealloc(slab, slot);
    if (!r.ok) return slab.drop(), r;
    this.add_slab(slab);

    // Too many empty slabs: free some.
    if (this.empty.size() > MAX_EMPTY_SLABS) {
      while (this.empty.size() > EXPECTED_EMPTY_SLABS) {
        this.empty.pop_front()!.drop();
        TOTAL_SLAB_ALLOCATED.sub(PAGE_SIZE);
      }
    }
    return Ok(undefined);
  }

  /** `alloc_slab`: a new slab, counted. */
  private alloc_slab(): Slab | null {
    const slab = Slab.new(this.slot_size);
    if (!slab.ok) return null;
    TOTAL_SLAB_ALLOCATED.add(PAGE_SIZE);
    return slab.value;
  }

  /** `add_slab`: into the list its count says. */
  private add_slab(slab: Slab): void {
    const meta = Slab.meta(slab);
    if (meta.nr_allocated() === meta.capacity()) {
      this.full.push_front(slab);
    } else if (meta.nr_allocated() > 0) {
      this.partial.push_back(slab);
    } else {
      this.empty.push_front(slab);
    }
  }

  /** `Drop`: gives every slab back to the frame allocator (each must have all its slots back). */
  drop(): void {
    for (const list of [this.empty, this.partial, this.full]) {
      for (;;) {
        const slab = list.pop_front();
        if (slab === null) break;
        slab.drop();
        TOTAL_SLAB_ALLOCATED.sub(PAGE_SIZE);
      }
    }
  }
}

/** `which_slab`: the frame of the slab a slot lies in (`None` for a slot larger than a page). */
function which_slab(slot: HeapSlot): Paddr | null {
  if (slot.size() > PAGE_SIZE) return null;
  return Math.floor(slot.paddr() / PAGE_SIZE) * PAGE_SIZE;
}
