// OSTD's `mm/page_table/cursor/mod.rs`: cursors to query and change a page table.
//
// # The page-table lock protocol
//
// Ranged, fine-grained mutual exclusion, so that cursors on disjoint virtual ranges work in
// parallel. `CursorMut::new` locks a range, and the cursor's operations on it are atomic as one
// transaction: when two cursors' ranges overlap, all the operations of one finish before any of
// the other's, in the order the threads happen to take them, and the later cursor sees all the
// changes of the earlier.
//
// The implementation is close to two-phase locking: `new` finds the node (at whatever level) whose
// range covers the requested range, and locks every node of the sub-tree under it that the range
// reaches, in pre-order (`locking.ts`). The cursor touches entries of the locked range only; its
// drop releases the locks in the reverse order.
import { assert, assert_eq, panic } from "kmiri/rt";
import type { Vaddr } from "../../../arch/mm.js";
import type { PagingLevel } from "../../../arch/page_table.js";
import type { PageProperty } from "../page_prop.js";
import {
  align_down, is_valid_range, page_size, pte_index, range,
  type AtomicModeGuard, type ItemOf, type ItemRefOf, type PageTable, type PageTableConfig, type PtResult, type Range,
} from "../index.js";
import type { Entry, PageTableGuard } from "../node/index.js";
import { PageTableNode } from "../node/index.js";
import { PteState } from "../node/pte_state.js";
import type { RcuDrop } from "../rcu_drop.js";
import { dfs_mark_stray_and_unlock, lock_range, unlock_range } from "./locking.js";

/** The largest `NR_LEVELS` a config may have. */
export const MAX_NR_LEVELS = 4;

/** A fragment taken out of a page table (`#[must_use]`: drop it with {@link PageTableFrag.drop}). */
export type PageTableFrag<Item = any> =
  | { readonly kind: "Mapped"; readonly va: Vaddr; readonly item: RcuDrop<Item> }
  | {
      readonly kind: "StrayPageTable";
      /** The detached sub-tree; the caller drops it once TLBs are coherent. */
      readonly pt: RcuDrop<PageTableNode>;
      readonly va: Vaddr;
      readonly len: number;
      readonly num_frames: number;
    };

export const PageTableFrag = {
  /** Rust's drop of a fragment. */
  drop(frag: PageTableFrag): void {
    if (frag.kind === "Mapped") frag.item.drop();
    else frag.pt.drop();
  },
};

/** `PagesState`: a slot's virtual range and its item, if mapped (what `query` returns). */
export type PagesState<ItemRef> = [Range, ItemRef | null];

/**
 * The cursor over a locked range. A slot is a PTE at any level, covering the virtual range of
 * its level's page size; the cursor moves between slots, reads them and jumps.
 */
export class Cursor<C extends PageTableConfig> {
  /** The locked nodes of the current path: level 1's guard at 0, level N's at N - 1. */
  path: (PageTableGuard | null)[];
  /** The cursor lives in an RCU read-side section. */
  readonly rcu_guard: AtomicModeGuard;
  /** The level of the node the cursor is in. */
  level: PagingLevel;
  /** The highest level the cursor may reach: the path holds the nodes from `level` up to it. */
  guard_level: PagingLevel;
  /** The current virtual address. */
  va: Vaddr;
  /** The locked virtual range. */
  readonly barrier_va: Range;
  readonly cfg: C;
  private dropped = false;

  /** @internal made by `locking::lock_range`. */
  constructor(cfg: C, path: (PageTableGuard | null)[], rcu_guard: AtomicModeGuard, level: PagingLevel, va: Vaddr, barrier_va: Range) {
    this.cfg = cfg;
    this.path = path;
    this.rcu_guard = rcu_guard;
    this.level = level;
    this.guard_level = level;
    this.va = va;
    this.barrier_va = barrier_va;
  }

  /**
   * `Cursor::new(pt, guard, va)`: a cursor with exclusive access to `va`. Out-of-range accesses
   * panic or return errors, depending on the method.
   */
  static new<C extends PageTableConfig>(pt: PageTable<C>, guard: AtomicModeGuard, va: Range): PtResult<Cursor<C>> {
    const cfg = pt.config;
    if (!is_valid_range(cfg, va)) return { ok: false, error: { kind: "InvalidVaddrRange", start: va.start, end: va.end } };
    if (va.start % cfg.C.BASE_PAGE_SIZE !== 0 || va.end % cfg.C.BASE_PAGE_SIZE !== 0) {
      return { ok: false, error: { kind: "UnalignedVaddr" } };
    }
    assert(cfg.C.NR_LEVELS <= MAX_NR_LEVELS);
    return { ok: true, value: lock_range(pt, guard, va) };
  }

  /** The current virtual address. */
  virt_addr(): Vaddr {
    return this.va;
  }

  /** `query()`: the current slot's range and item, if the address is in the locked range. */
  query(): PtResult<PagesState<ItemRefOf<C>>> {
    if (this.va >= this.barrier_va.end) return { ok: false, error: { kind: "InvalidVaddr", va: this.va } };
    const rcu_guard = this.rcu_guard;
    for (;;) {
      const cur_entry = this.cur_entry();
      const child = cur_entry.to_ref();
      if (child.kind === "PageTable") {
        let guard: PageTableGuard;
        unsafe: {
          // SAFETY: `pt` is in the locked sub-tree, and no other guard of it lives.
          guard = child.node.make_guard_unchecked(rcu_guard);
        }
        this.push_level(guard);
        continue;
      }
      const item = child.kind === "Mapped" ? (child.item as ItemRefOf<C>) : null;
      return { ok: true, value: [this.cur_va_range(), item] };
    }
  }

  /**
   * `find_next(len)`: moves forward to the next mapped address within `len` bytes and returns it;
   * otherwise `null`, the cursor stopping somewhere after `len` bytes. Panics if `len` goes past
   * the locked range or is not page-aligned.
   */
  find_next(len: number): Vaddr | null {
    return this.find_next_impl(len, false, false);
  }

  /**
   * `find_next_impl`: `find_next`, also stopping at non-leaf entries (`find_unmap_subtree`: at the
   * highest entry that fits the range, to unmap whole sub-trees) and splitting huge pages that
   * stick out of the range (`split_huge`).
   */
  find_next_impl(len: number, find_unmap_subtree: boolean, split_huge: boolean): Vaddr | null {
    const C = this.cfg.C;
    assert_eq(len % C.BASE_PAGE_SIZE, 0);
    assert(len <= this.barrier_va.end - this.va, "len exceeds remaining cursor range");
    const end = this.va + len;
    const rcu_guard = this.rcu_guard;
    while (this.va < end) {
      const cur_va = this.va;
      const cur_va_range = this.cur_va_range();
      const cur_entry_fits_range = cur_va === cur_va_range.start && cur_va_range.end <= end;
      const cur_entry = this.cur_entry();
      const child = cur_entry.to_ref();
      switch (child.kind) {
        case "PageTable": {
          if (find_unmap_subtree && cur_entry_fits_range && (this.cfg.TOP_LEVEL_CAN_UNMAP || this.level !== C.NR_LEVELS)) {
            return cur_va;
          }
          let pt_guard: PageTableGuard;
          unsafe: {
            // SAFETY: `pt` is in the locked sub-tree, and no other guard of it lives.
            pt_guard = child.node.make_guard_unchecked(rcu_guard);
          }
          // A child with no mapped entries can be skipped.
          if (pt_guard.nr_children() !== 0) {
            this.push_level(pt_guard);
          } else {
            pt_guard.forget();
            this.move_forward();
          }
          continue;
        }
        case "Absent":
          this.move_forward();
          continue;
        case "Mapped": {
          if (cur_entry_fits_range || !split_huge) return cur_va;
          const split_child = cur_entry.split_if_mapped_huge(rcu_guard);
          if (split_child === null) panic("the entry must be a huge page");
          this.push_level(split_child);
          continue;
        }
      }
    }
    // When the last entry was absent or empty and `barrier_va.end` is inside it, `move_forward`
    // went past the barrier: come back to it (`va <= barrier_va.end`).
    if (this.va > this.barrier_va.end) this.va = this.barrier_va.end;
    return null;
  }

  /**
   * `jump(va)`: moves to `va`; an error when `va` is outside the locked range. Panics when `va` is
   * not page-aligned.
   */
  jump(va: Vaddr): PtResult<void> {
    assert(va % this.cfg.C.BASE_PAGE_SIZE === 0);
    if (!(this.barrier_va.start <= va && va < this.barrier_va.end)) return { ok: false, error: { kind: "InvalidVaddr", va } };
    // FIXME (as OSTD's): keep `barrier_va` containing `va` (asterinas PR #2613).
    if (this.va === this.barrier_va.end) {
      while (this.level < this.guard_level) this.pop_level();
      this.va = va;
      return { ok: true, value: undefined };
    }
    assert(this.barrier_va.start <= this.va && this.va < this.barrier_va.end);
    for (;;) {
      const node_size = page_size(this.cfg.C, this.level + 1);
      const node_start = align_down(this.va, node_size);
      // Inside the current node: jump there directly.
      if (node_start <= va && va - node_start < node_size) {
        this.va = va;
        return { ok: true, value: undefined };
      }
      this.pop_level();
    }
  }

  /** `move_forward`: to the end of the current slot, up through the nodes it ends. */
  move_forward(): void {
    const next_va = this.cur_va_range().end;
    while (this.level < this.guard_level && pte_index(this.cfg.C, next_va, this.level) === 0) this.pop_level();
    this.va = next_va;
  }

  /** `pop_level`: up one level (the node stays locked: its guard is forgotten). */
  pop_level(): void {
    const taken = this.path[this.level - 1];
    if (taken === null || taken === undefined) panic("popping a level without a lock");
    this.path[this.level - 1] = null;
    taken.forget();
    assert(this.level < this.guard_level);
    this.level += 1;
  }

  /** `push_level`: down to a child node (locked). */
  push_level(child_pt: PageTableGuard): void {
    this.level -= 1;
    assert_eq(this.level, child_pt.level());
    const old = this.path[this.level - 1];
    this.path[this.level - 1] = child_pt;
    assert(old === null || old === undefined);
  }

  /** `cur_entry`: the entry the cursor is at. */
  cur_entry(): Entry {
    const node = this.path[this.level - 1];
    if (node === null || node === undefined) return panic("called `Option::unwrap()` on a `None` value");
    return node.entry(pte_index(this.cfg.C, this.va, this.level));
  }

  /** `cur_va_range`: the virtual range the current entry covers. */
  cur_va_range(): Range {
    const entry_size = page_size(this.cfg.C, this.level);
    const entry_start = align_down(this.va, entry_size);
    return range(entry_start, entry_start + entry_size);
  }

  /** `Drop`: releases the locked sub-tree. */
  drop(): void {
    if (this.dropped) panic("a cursor dropped twice");
    this.dropped = true;
    unlock_range(this);
  }
}

/**
 * `CursorMut`: a cursor that may also map, unmap and protect. A virtual range is accessed by one
 * cursor at a time, whether it changes the range or not.
 */
export class CursorMut<C extends PageTableConfig> {
  private constructor(readonly inner: Cursor<C>) {}

  /** `CursorMut::new`. */
  static new<C extends PageTableConfig>(pt: PageTable<C>, guard: AtomicModeGuard, va: Range): PtResult<CursorMut<C>> {
    const r = Cursor.new(pt, guard, va);
    return r.ok ? { ok: true, value: new CursorMut(r.value) } : r;
  }

  find_next(len: number): Vaddr | null {
    return this.inner.find_next(len);
  }

  jump(va: Vaddr): PtResult<void> {
    return this.inner.jump(va);
  }

  virt_addr(): Vaddr {
    return this.inner.virt_addr();
  }

  query(): PtResult<PagesState<ItemRefOf<C>>> {
    return this.inner.query();
  }

  drop(): void {
    this.inner.drop();
  }

  /**
   * UNSAFE. `map(item)`: maps the item at the current address, which must not be mapped, and
   * moves past it.
   *
   * Panics if the item's range leaves the locked range, the address is not aligned to the item's
   * page size, or the range holds mappings that conflict with the item.
   *
   * # Safety: the mapping does not break the kernel's memory safety, and the physical address is
   * valid and safe to use.
   */
  map(item: ItemOf<C>): void {
    "unsafe";
    const c = this.inner;
    const cfg = c.cfg;
    assert(c.va < c.barrier_va.end);
    const [, level] = cfg.item_raw_info(item);
    assert(level <= cfg.C.HIGHEST_TRANSLATION_LEVEL, "cursor level not suitable for mapping");
    const size = page_size(cfg.C, level);
    assert_eq(c.va % size, 0, "cursor virtual address not aligned for mapping");
    assert(size <= c.barrier_va.end - c.va, "cursor virtual address out-of-bound for mapping");
    const rcu_guard = c.rcu_guard;
    // Go to the item's level.
    while (c.level !== level) {
      if (c.level < level) {
        c.pop_level();
        continue;
      }
      // Above it: go down.
      const cur_entry = c.cur_entry();
      const child = cur_entry.to_ref();
      switch (child.kind) {
        case "PageTable": {
          // SAFETY: `pt` is in the locked sub-tree, and no other guard of it lives.
          c.push_level(child.node.make_guard_unchecked(rcu_guard));
          break;
        }
        case "Absent": {
          const child_guard = cur_entry.alloc_if_none(rcu_guard);
          if (child_guard === null) panic("called `Option::unwrap()` on a `None` value");
          c.push_level(child_guard);
          break;
        }
        case "Mapped": {
          const split_child = cur_entry.split_if_mapped_huge(rcu_guard);
          if (split_child === null) panic("called `Option::unwrap()` on a `None` value");
          c.push_level(split_child);
          break;
        }
      }
    }
    if (c.cur_entry().to_ref().kind !== "Absent") {
      // The item is ours to drop when we refuse it (Rust drops it while unwinding).
      cfg.drop_item(item);
      panic("mapping over an already mapped page");
    }
    const frag = this.replace_cur_entry({ kind: "Mapped", item: rcu_item_of(cfg, item) });
    if (frag !== null) PageTableFrag.drop(frag);
    c.move_forward();
  }

  /**
   * UNSAFE. `take_next(len)`: finds the first fragment (a mapped item, or a whole sub-tree that
   * the range covers) within `len` bytes, removes it and returns it, the cursor moving past it;
   * `null`, the cursor at the end of the range, if nothing is mapped there. The caller handles TLB
   * coherence for the returned range.
   *
   * # Safety: the unmapping does not break the kernel's memory safety, and nothing accesses the
   * unmapped range between dropping the fragment and flushing the TLBs that cache it.
   *
   * Panics if `len` goes past the locked range or is not page-aligned.
   */
  take_next(len: number): PageTableFrag<ItemOf<C>> | null {
    "unsafe";
    if (this.inner.find_next_impl(len, true, true) === null) return null;
    const frag = this.replace_cur_entry(PteState.Absent);
    this.inner.move_forward();
    return frag;
  }

  /**
   * UNSAFE. `protect_next(len, op)`: applies `op` to the next mapped slot within `len` bytes and
   * returns the slot's range, the cursor moving past it; `null` if nothing is mapped there.
   *
   * # Safety: the new properties do not break the kernel's memory safety, and `op` leaves
   * `AVAIL1` alone (it is reserved for all page tables).
   *
   * Panics if `len` goes past the locked range or is not page-aligned.
   */
  protect_next(len: number, op: (prop: PageProperty) => void): Range | null {
    "unsafe";
    if (this.inner.find_next_impl(len, false, true) === null) return null;
    this.inner.cur_entry().protect(op);
    const protected_va = this.inner.cur_va_range();
    this.inner.move_forward();
    return protected_va;
  }

  /** `replace_cur_entry`: puts `new_child` in the current entry; the old child as a fragment. */
  private replace_cur_entry(new_child: PteState): PageTableFrag<ItemOf<C>> | null {
    const c = this.inner;
    const cfg = c.cfg;
    const rcu_guard = c.rcu_guard;
    const va = c.va;
    const level = c.level;
    const old = c.cur_entry().replace(new_child);
    switch (old.kind) {
      case "Absent":
        return null;
      case "Mapped":
        return { kind: "Mapped", va, item: old.item };
      case "PageTable": {
        const pt = old.node;
        assert_eq(pt.inner.level(), level - 1);
        if (!cfg.TOP_LEVEL_CAN_UNMAP && level === cfg.C.NR_LEVELS) {
          // Leaked, so that the shared kernel nodes stay `'static`.
          panic("unmapping shared kernel page table nodes");
        }
        let num_frames: number;
        unsafe: {
          // SAFETY: the node is in the locked sub-tree.
          const locked_pt = pt.inner.borrow().make_guard_unchecked(rcu_guard);
          // SAFETY: these are not the shared kernel nodes (checked above), and the whole sub-tree
          // is locked, as the range is.
          num_frames = dfs_mark_stray_and_unlock(rcu_guard, locked_pt);
        }
        return { kind: "StrayPageTable", pt, va, len: page_size(cfg.C, c.level), num_frames };
      }
    }
  }
}

import { rcu_item } from "../node/pte_state.js";
function rcu_item_of<C extends PageTableConfig>(cfg: C, item: ItemOf<C>): RcuDrop<ItemOf<C>> {
  return rcu_item(cfg, item) as RcuDrop<ItemOf<C>>;
}
void PageTableNode;
