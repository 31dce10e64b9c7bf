// OSTD's `mm/page_table/node/pte_state.rs`: what a node's entry owns (`PteState`) or refers to
// (`PteStateRef`).
import type { Paddr } from "../../../arch/mm.js";
import type { PagingLevel } from "../../../arch/page_table.js";
import { PageTableFlags } from "../page_prop.js";
import { RcuDrop } from "../rcu_drop.js";
import type { PageTableConfig } from "../index.js";
import { PageTableNode, PageTableNodeRef } from "./index.js";

/**
 * `PteState<C>`: an entry's child, owned: a child node, a mapped item (both dropped only after an
 * RCU grace period), or nothing.
 */
export type PteState<Item = any> =
  | { readonly kind: "PageTable"; readonly node: RcuDrop<PageTableNode> }
  | { readonly kind: "Mapped"; readonly item: RcuDrop<Item> }
  | { readonly kind: "Absent" };

/** `PteStateRef<'a, C>`: an entry's child, borrowed. */
export type PteStateRef<ItemRef = any> =
  | { readonly kind: "PageTable"; readonly node: PageTableNodeRef }
  | { readonly kind: "Mapped"; readonly item: ItemRef }
  | { readonly kind: "Absent" };

/** `RcuDrop::new(node)`. */
export function rcu_node(node: PageTableNode): RcuDrop<PageTableNode> {
  return RcuDrop.new(node, (n) => n.drop());
}

/** `RcuDrop::new(item)`. */
export function rcu_item<Item>(cfg: PageTableConfig<Item>, item: Item): RcuDrop<Item> {
  return RcuDrop.new(item, (i) => cfg.drop_item(i));
}

export const PteState = {
  /** `PteState::Absent`. */
  Absent: { kind: "Absent" } as PteState,

  /** `is_absent()`. */
  is_absent(s: PteState): boolean {
    return s.kind === "Absent";
  },

  /** Drops what the state owns (Rust's drop of a `PteState`). */
  drop(s: PteState): void {
    if (s.kind === "PageTable") s.node.drop();
    else if (s.kind === "Mapped") s.item.drop();
  },

  /** `into_pte()`: the PTE that owns the child from now on. */
  into_pte(cfg: PageTableConfig, s: PteState): number {
    switch (s.kind) {
      case "PageTable": {
        let node: PageTableNode;
        unsafe: {
          // The reference moves into the PTE: taken out of the `RcuDrop` and forgotten.
          node = RcuDrop.into_inner(s.node);
        }
        const level = node.level();
        const paddr = node.into_raw();
        return cfg.E.from_repr({ kind: "PageTable", paddr, flags: PageTableFlags.empty() }, level);
      }
      case "Mapped": {
        let item: unknown;
        unsafe: {
          // SAFETY: the item is not dropped: `item_into_raw` forgets it. When the PTE is made an
          // item again it is not dropped before a grace period (`from_pte` wraps it in `RcuDrop`).
          item = RcuDrop.into_inner(s.item);
        }
        const [paddr, level, prop] = cfg.item_into_raw(item);
        return cfg.E.from_repr({ kind: "Mapped", paddr, prop }, level);
      }
      case "Absent":
        return cfg.E.new_zeroed();
    }
  },

  /**
   * UNSAFE. `from_pte(pte, level)`: the owned child of a PTE made by `into_pte`.
   *
   * # Safety: the PTE is not turned into a `PteState` twice, nor referred to by a live
   * `PteStateRef`; `level` is the level of the node that held it.
   */
  from_pte(cfg: PageTableConfig, pte: number, level: PagingLevel): PteState {
    "unsafe";
    const repr = cfg.E.to_repr(pte, level);
    switch (repr.kind) {
      case "Absent":
        return PteState.Absent;
      case "PageTable": {
        // SAFETY: the node's reference was forgotten by `into_pte`: restoring it is sound.
        const node = PageTableNode.from_raw(cfg, repr.paddr);
        return { kind: "PageTable", node: rcu_node(node) };
      }
      case "Mapped": {
        // SAFETY: the item was forgotten by `into_pte`: restoring it is sound.
        const item = cfg.item_from_raw(repr.paddr, level, repr.prop);
        return { kind: "Mapped", item: rcu_item(cfg, item) };
      }
    }
  },
};

export const PteStateRef = {
  /**
   * UNSAFE. `from_pte(pte, level)`: a reference to a PTE's child.
   *
   * # Safety: the PTE was made by `PteState::into_pte`, and the child outlives the reference;
   * `level` is the level of the node holding the PTE.
   */
  from_pte(cfg: PageTableConfig, pte: number, level: PagingLevel): PteStateRef {
    "unsafe";
    const repr = cfg.E.to_repr(pte, level);
    switch (repr.kind) {
      case "Absent":
        return { kind: "Absent" };
      case "PageTable": {
        // SAFETY: the child lives as long as the node holding it, and the entry is present.
        const node = PageTableNodeRef.borrow_paddr(cfg, repr.paddr);
        return { kind: "PageTable", node };
      }
      case "Mapped": {
        // SAFETY: the item lives as long as the node holding it, and the entry is present.
        return { kind: "Mapped", item: cfg.item_ref_from_raw(repr.paddr, level, repr.prop) };
      }
    }
  },
};

export type { Paddr };
