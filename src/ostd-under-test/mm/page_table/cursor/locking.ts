// OSTD's `mm/page_table/cursor/locking.rs`: the implementation of the lock protocol (see
// `cursor/index.ts`).
import { assert, panic } from "kmiri/rt";
import { paddr_to_vaddr, type Paddr, type Vaddr } from "../../../arch/mm.js";
import type { PagingLevel } from "../../../arch/page_table.js";
import {
  align_down, load_pte, nr_subpage_per_huge, page_size, pte_index, range,
  type AtomicModeGuard, type PageTable, type PageTableConfig, type PagingConstsTrait, type Range,
} from "../index.js";
import { PageTableNodeRef, type PageTableGuard } from "../node/index.js";
import { Cursor, MAX_NR_LEVELS } from "./index.js";
import { rcu_read_side_fence } from "../rcu_drop.js";

/** `lock_range`: locks the sub-tree covering `va` and makes a cursor over it. */
export function lock_range<C extends PageTableConfig>(pt: PageTable<C>, guard: AtomicModeGuard, va: Range): Cursor<C> {
  // Retry finding the sub-tree root while the one we locked turns out stray: a cursor working on
  // a detached sub-tree would neither see nor change the current state (no safety problem, but no
  // serializability either).
  // The walk below reads PTEs without locks: order it after our entry into atomic mode.
  rcu_read_side_fence();
  let subtree_root: PageTableGuard | null = null;
  while (subtree_root === null) subtree_root = try_traverse_and_lock_subtree_root(pt, guard, va);
  // With a sub-tree root that is not stray, we will read no stray node below: we lock before
  // reading.
  const C = pt.config.C;
  const guard_level = subtree_root.level();
  const cur_node_va = align_down(va.start, page_size(C, guard_level + 1));
  dfs_acquire_lock(guard, subtree_root, cur_node_va, va);
  const path: (PageTableGuard | null)[] = new Array(MAX_NR_LEVELS).fill(null);
  path[guard_level - 1] = subtree_root;
  return new Cursor(pt.config, path, guard, guard_level, va.start, range(va.start, va.end));
}

/** `unlock_range`: releases the cursor's sub-tree, in the reverse order of locking. */
export function unlock_range<C extends PageTableConfig>(cursor: Cursor<C>): void {
  for (let i = cursor.guard_level - 2; i >= 0; i--) {
    const g = cursor.path[i];
    cursor.path[i] = null;
    g?.forget();
  }
  const guard_node = cursor.path[cursor.guard_level - 1];
  if (guard_node === null || guard_node === undefined) return panic("called `Option::unwrap()` on a `None` value");
  cursor.path[cursor.guard_level - 1] = null;
  const cur_node_va = align_down(cursor.barrier_va.start, page_size(cursor.cfg.C, cursor.guard_level + 1));
  unsafe: {
    // SAFETY: a cursor keeps its sub-tree locked.
    dfs_release_lock(cursor.rcu_guard, guard_node, cur_node_va, cursor.barrier_va);
  }
}

/**
 * Finds and locks the node covering the range, making missing nodes on the way (with the parent
 * locked; then the parent is released and the new node kept locked). Returns `null` when the
 * node it locked is stray (it raced with recycling): the caller retries.
 */
function try_traverse_and_lock_subtree_root<C extends PageTableConfig>(
  pt: PageTable<C>,
  guard: AtomicModeGuard,
  va: Range,
): PageTableGuard | null {
  const cfg = pt.config;
  const C = cfg.C;
  let cur_node_guard: PageTableGuard | null = null;
  let cur_pt_addr: Paddr = pt.root.paddr();
  for (let cur_level = C.NR_LEVELS; cur_level >= 1; cur_level--) {
    const start_idx = pte_index(C, va.start, cur_level);
    const end_idx = pte_index(C, va.end - 1, cur_level);
    const level_too_high = cur_level > 1 && start_idx === end_idx;
    if (!level_too_high) break;

    let cur_pte: number;
    unsafe: {
      // SAFETY: the node is alive (the root is; children are not recycled inside the RCU
      // section); the index is in bounds; PTEs are aligned and only accessed atomically.
      cur_pte = load_pte(paddr_to_vaddr(cur_pt_addr) + start_idx * C.PTE_SIZE, "Acquire");
    }
    const repr = cfg.E.to_repr(cur_pte, cur_level);
    if (repr.kind === "Mapped") break;
    if (repr.kind === "PageTable") {
      cur_pt_addr = repr.paddr;
      cur_node_guard?.drop();
      cur_node_guard = null;
      continue;
    }
    // The child is absent: lock this node and make the child.
    let pt_guard: PageTableGuard;
    if (cur_node_guard !== null) {
      pt_guard = cur_node_guard;
      cur_node_guard = null;
    } else {
      unsafe: {
        // SAFETY: the node lives at least as long as the RCU section: its address was read from
        // a live node.
        pt_guard = PageTableNodeRef.borrow_paddr(cfg, cur_pt_addr).lock(guard);
      }
    }
    if (pt_guard.stray()) {
      pt_guard.drop();
      return null;
    }
    const cur_entry = pt_guard.entry(start_idx);
    const child = cur_entry.to_ref();
    if (child.kind === "Mapped") {
      cur_node_guard = pt_guard;
      break;
    }
    if (child.kind === "Absent") {
      const allocated_guard = cur_entry.alloc_if_none(guard);
      if (allocated_guard === null) return panic("called `Option::unwrap()` on a `None` value");
      pt_guard.drop();
      cur_pt_addr = allocated_guard.paddr();
      cur_node_guard = allocated_guard;
    } else {
      pt_guard.drop();
      cur_pt_addr = child.node.paddr();
      cur_node_guard = null;
    }
  }
  let pt_guard: PageTableGuard;
  if (cur_node_guard !== null) {
    pt_guard = cur_node_guard;
  } else {
    unsafe: {
      // SAFETY: the node lives at least as long as the RCU section: its address was read from a
      // live node.
      pt_guard = PageTableNodeRef.borrow_paddr(cfg, cur_pt_addr).lock(guard);
    }
  }
  if (pt_guard.stray()) {
    pt_guard.drop();
    return null;
  }
  return pt_guard;
}

/**
 * `dfs_acquire_lock`: locks the nodes of the sub-tree under `cur_node` that `va_range` reaches,
 * in pre-order, forgetting their guards. `cur_node_va` is `cur_node`'s start; the range is inside
 * it and not empty.
 */
function dfs_acquire_lock(guard: AtomicModeGuard, cur_node: PageTableGuard, cur_node_va: Vaddr, va_range: Range): void {
  assert(!cur_node.stray());
  const cur_level = cur_node.level();
  if (cur_level === 1) return;
  const C = cur_node.cfg.C;
  const [start, end] = dfs_get_idx_range(C, cur_level, cur_node_va, va_range);
  for (let i = start; i < end; i++) {
    const child = cur_node.entry(i).to_ref();
    if (child.kind === "PageTable") {
      const pt_guard = child.node.lock(guard);
      const child_node_va = cur_node_va + i * page_size(C, cur_level);
      const child_node_va_end = child_node_va + page_size(C, cur_level);
      const va_start = Math.max(va_range.start, child_node_va);
      const va_end = Math.min(va_range.end, child_node_va_end);
      dfs_acquire_lock(guard, pt_guard, child_node_va, range(va_start, va_end));
      pt_guard.forget();
    }
  }
}

/**
 * UNSAFE. `dfs_release_lock`: unlocks the sub-tree's nodes that `va_range` reaches, in reverse
 * pre-order.
 *
 * # Safety: those nodes are locked and their guards forgotten.
 */
function dfs_release_lock(guard: AtomicModeGuard, cur_node: PageTableGuard, cur_node_va: Vaddr, va_range: Range): void {
  "unsafe";
  const cur_level = cur_node.level();
  if (cur_level !== 1) {
    const C = cur_node.cfg.C;
    const [start, end] = dfs_get_idx_range(C, cur_level, cur_node_va, va_range);
    for (let i = end - 1; i >= start; i--) {
      const child = cur_node.entry(i).to_ref();
      if (child.kind === "PageTable") {
        // SAFETY: the node is locked (the caller's promise) and this is its only guard.
        const child_node = child.node.make_guard_unchecked(guard);
        const child_node_va = cur_node_va + i * page_size(C, cur_level);
        const child_node_va_end = child_node_va + page_size(C, cur_level);
        const va_start = Math.max(va_range.start, child_node_va);
        const va_end = Math.min(va_range.end, child_node_va_end);
        // SAFETY: the sub-tree is locked and its guards forgotten (the caller's promise).
        dfs_release_lock(guard, child_node, child_node_va, range(va_start, va_end));
      }
    }
  }
  cur_node.drop();
}

/**
 * UNSAFE. `dfs_mark_stray_and_unlock`: marks every node of a sub-tree just removed from its parent
 * stray, unlocks them, and returns the number of frames mapped in it.
 *
 * # Safety: the sub-tree's nodes are all locked and their guards forgotten; it is not a shared
 * node (the second-top-level nodes the kernel and user tables share).
 */
export function dfs_mark_stray_and_unlock(rcu_guard: AtomicModeGuard, sub_tree: PageTableGuard): number {
  "unsafe";
  sub_tree.set_stray(true);
  if (sub_tree.level() === 1) {
    const n = sub_tree.nr_children();
    sub_tree.drop();
    return n;
  }
  let num_frames = 0;
  for (let i = nr_subpage_per_huge(sub_tree.cfg.C) - 1; i >= 0; i--) {
    const child = sub_tree.entry(i).to_ref();
    if (child.kind === "PageTable") {
      // SAFETY: the node is locked (the caller's promise) and this is its only guard.
      const locked_pt = child.node.make_guard_unchecked(rcu_guard);
      // SAFETY: the sub-tree is locked and its guards forgotten (the caller's promise).
      num_frames += dfs_mark_stray_and_unlock(rcu_guard, locked_pt);
    }
  }
  sub_tree.drop();
  return num_frames;
}

/** `dfs_get_idx_range`: the entries of a level-`cur_node_level` node that `va_range` reaches. */
function dfs_get_idx_range(C: PagingConstsTrait, cur_node_level: PagingLevel, cur_node_va: Vaddr, va_range: Range): [number, number] {
  assert(va_range.start >= cur_node_va);
  assert(va_range.end <= cur_node_va + page_size(C, cur_node_level + 1));
  const start_idx = Math.floor((va_range.start - cur_node_va) / page_size(C, cur_node_level));
  const end_idx = Math.ceil((va_range.end - cur_node_va) / page_size(C, cur_node_level));
  assert(start_idx < end_idx);
  assert(end_idx <= nr_subpage_per_huge(C));
  return [start_idx, end_idx];
}
