// OSTD's `mm/page_table/node/entry.rs`: a view of one entry of a locked node.
import { assert, assert_eq } from "kmiri/rt";
import { PageProperty } from "../page_prop.js";
import { nr_subpage_per_huge, page_size, type AtomicModeGuard } from "../index.js";
import { PageTableNode, type PageTableGuard } from "./index.js";
import { PteState, PteStateRef, rcu_item, rcu_node } from "./pte_state.js";

/**
 * `Entry<'a, 'rcu, C>`: entry `idx` of a locked node. It keeps a copy of the PTE, to read the
 * node less; it cannot hold `&mut E`, because the MMU of other CPUs may access the PTE (for
 * accessed/dirty bits), which would break Rust's aliasing rules.
 */
export class Entry {
  private constructor(
    private pte: number,
    private readonly idx: number,
    private readonly node: PageTableGuard,
  ) {}

  /**
   * UNSAFE. `new_at(guard, idx)`.
   *
   * # Safety: `idx` is within the node.
   */
  static new_at(guard: PageTableGuard, idx: number): Entry {
    "unsafe";
    // SAFETY: the index is in bounds.
    const pte = guard.read_pte(idx);
    return new Entry(pte, idx, guard);
  }

  /** `to_ref()`: a reference to the child. */
  to_ref(): PteStateRef {
    unsafe: {
      // SAFETY: child nodes and mapped items outlive the RCU section the node's guard is in; the
      // level is the node's.
      return PteStateRef.from_pte(this.node.cfg, this.pte, this.node.level());
    }
  }

  /** `protect(op)`: changes the property of a mapped entry (nothing if it is not mapped). */
  protect(op: (prop: PageProperty) => void): void {
    const cfg = this.node.cfg;
    const level = this.node.level();
    const repr = cfg.E.to_repr(this.pte, level);
    if (repr.kind !== "Mapped") return;
    const new_prop = PageProperty.copy(repr.prop);
    op(new_prop);
    if (PageProperty.eq(repr.prop, new_prop)) return;
    this.pte = cfg.E.from_repr({ kind: "Mapped", paddr: repr.paddr, prop: new_prop }, level);
    unsafe: {
      // SAFETY: the index is in bounds; the new PTE differs only in its property, so it is of
      // `C` at the right level; the node still owns the child.
      this.node.write_pte(this.idx, this.pte);
    }
  }

  /**
   * `replace(new_child)`: puts a new child in the entry and returns the old one. Panics when the
   * new child's level does not fit the node.
   */
  replace(new_child: PteState): PteState {
    const cfg = this.node.cfg;
    if (new_child.kind === "PageTable") {
      assert_eq(new_child.node.inner.level(), this.node.level() - 1);
    } else if (new_child.kind === "Mapped") {
      assert_eq(cfg.item_raw_info(new_child.item.inner)[1], this.node.level());
    }
    let old_child: PteState;
    unsafe: {
      // SAFETY: no `PteStateRef` of this PTE lives (we hold the entry exclusively); the level is
      // the node's.
      old_child = PteState.from_pte(cfg, this.pte, this.node.level());
    }
    if (PteState.is_absent(old_child) && !PteState.is_absent(new_child)) this.node.add_nr_children(1);
    else if (!PteState.is_absent(old_child) && PteState.is_absent(new_child)) this.node.add_nr_children(-1);
    this.pte = PteState.into_pte(cfg, new_child);
    unsafe: {
      // SAFETY: the index is in bounds; the PTE is a child of `C` at the right level, and the
      // node owns it now.
      this.node.write_pte(this.idx, this.pte);
    }
    return old_child;
  }

  /**
   * `alloc_if_none(guard)`: when the entry is absent (and not at level 1), puts a new empty child
   * node in it and returns the child, locked; otherwise `null`.
   */
  alloc_if_none(guard: AtomicModeGuard): PageTableGuard | null {
    if (this.to_ref().kind !== "Absent" || this.node.level() === 1) return null;
    const cfg = this.node.cfg;
    const level = this.node.level();
    const new_page = rcu_node(PageTableNode.alloc(cfg, level - 1));
    const paddr = new_page.inner.paddr();
    // Lock the child before the PTE is written, so that no one else works on it first.
    // SAFETY: the node is not freed before the RCU grace period ends, so it outlives the guard.
    const pt_lock_guard = new_page.inner.borrow().lock(guard);
    assert_eq(pt_lock_guard.paddr(), paddr);
    this.pte = PteState.into_pte(cfg, { kind: "PageTable", node: new_page });
    unsafe: {
      // SAFETY: the index is in bounds; the PTE is a child of `C` at the right level, and the
      // node owns it now.
      this.node.write_pte(this.idx, this.pte);
    }
    this.node.add_nr_children(1);
    return pt_lock_guard;
  }

  /**
   * `split_if_mapped_huge(guard)`: when the entry maps a huge page, maps it instead through a new
   * child node of smaller pages, and returns that child, locked; otherwise `null`.
   */
  split_if_mapped_huge(guard: AtomicModeGuard): PageTableGuard | null {
    const cfg = this.node.cfg;
    const level = this.node.level();
    const repr = cfg.E.to_repr(this.pte, level);
    if (repr.kind !== "Mapped") return null;
    const new_page = rcu_node(PageTableNode.alloc(cfg, level - 1));
    // Lock before writing the PTE, so that no one else works on it first.
    const pt_lock_guard = new_page.inner.borrow().lock(guard);
    for (let i = 0; i < nr_subpage_per_huge(cfg.C); i++) {
      const small_pa = repr.paddr + i * page_size(cfg.C, level - 1);
      const entry = pt_lock_guard.entry(i);
      let small_item: unknown;
      unsafe: {
        // SAFETY: a part of the mapped item; its ownership moves to the new entry.
        small_item = cfg.item_from_raw(small_pa, level - 1, repr.prop);
      }
      const old = entry.replace({ kind: "Mapped", item: rcu_item(cfg, small_item) });
      assert(PteState.is_absent(old));
    }
    this.pte = PteState.into_pte(cfg, { kind: "PageTable", node: new_page });
    unsafe: {
      // SAFETY: the index is in bounds; the PTE is a child of `C` at the right level, and the
      // node owns it now (the huge item's ownership went to the small entries above).
      this.node.write_pte(this.idx, this.pte);
    }
    return pt_lock_guard;
  }
}
