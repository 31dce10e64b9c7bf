// The page-table configs the page-table tests use: OSTD's `UserPtConfig` (ostd/src/mm/vm_space.rs,
// with its `VmItem`), `KernelPtConfig` (ostd/src/mm/kspace/mod.rs, with its `MappedItem`), and
// `PageTable::new_kernel_page_table` / `create_user_page_table` (mod.rs), which need both.
//
// NOTE for the port: in OSTD these live in `vm_space` and `kspace`; they are here until those
// modules are ported, and should move there then (the page table itself only knows
// `PageTableConfig`).
import { assert, assert_eq, panic } from "kmiri/rt";
import type { Paddr } from "../../arch/mm.js";
import { PageTableEntry, PagingConsts, type PagingLevel } from "../../arch/page_table.js";
import { disable_preempt } from "../../sync/preempt.js";
import { Frame, FrameRef, type DynMeta, type UFrame } from "../frame/index.js";
import { PageTableFlags, PrivilegedPageFlags, type PageProperty } from "./page_prop.js";
import { PageTable, range, type PageTableConfig } from "./index.js";
import { PageTableNode } from "./node/index.js";

// ───────────── UserPtConfig ─────────────

/** `VmItem`: what a user page table maps — a tracked untyped frame, or untracked I/O memory. */
export type VmItem =
  | { readonly kind: "TrackedFrame"; readonly frame: UFrame; readonly prop: PageProperty }
  | { readonly kind: "UntrackedIoMem"; readonly paddr: Paddr; readonly level: PagingLevel; readonly prop: PageProperty };

export const VmItem = {
  /** `VmItem::new_tracked(frame, prop)`. */
  new_tracked(frame: UFrame, prop: PageProperty): VmItem {
    return { kind: "TrackedFrame", frame, prop };
  },
  /** `VmItem::new_untracked_io(paddr, prop)`. */
  new_untracked_io(paddr: Paddr, prop: PageProperty): VmItem {
    return { kind: "UntrackedIoMem", paddr, level: 1, prop };
  },
};

/** `VmItemRef`: a borrowed `VmItem`. */
export type VmItemRef =
  | { readonly kind: "TrackedFrame"; readonly frame: FrameRef<DynMeta>; readonly prop: PageProperty }
  | { readonly kind: "UntrackedIoMem"; readonly paddr: Paddr; readonly level: PagingLevel; readonly prop: PageProperty };

function user_item_raw_info(item: VmItem): [Paddr, PagingLevel, PageProperty] {
  if (item.kind === "TrackedFrame") {
    // AVAIL1 clear: a tracked frame.
    const prop = { ...item.prop, priv_flags: item.prop.priv_flags & ~PrivilegedPageFlags.AVAIL1 };
    return [item.frame.paddr(), item.frame.map_level(), prop];
  }
  // AVAIL1 set: I/O memory.
  return [item.paddr, item.level, { ...item.prop, priv_flags: item.prop.priv_flags | PrivilegedPageFlags.AVAIL1 }];
}

// SAFETY: the raw conversions round-trip: a tracked frame's reference is forgotten into the PTE
// and taken back from it; AVAIL1 tells the two kinds apart and is kept.
export const UserPtConfig: PageTableConfig<VmItem, VmItemRef> = Object.freeze({
  name: "UserPtConfig",
  TOP_LEVEL_INDEX_RANGE: Object.freeze(range(0, 256)),
  TOP_LEVEL_CAN_UNMAP: true,
  E: PageTableEntry,
  C: PagingConsts,
  item_raw_info: user_item_raw_info,
  item_into_raw(item: VmItem): [Paddr, PagingLevel, PageProperty] {
    const raw = user_item_raw_info(item);
    if (item.kind === "TrackedFrame") item.frame.into_raw();
    return raw;
  },
  item_from_raw(paddr: Paddr, level: PagingLevel, prop: PageProperty): VmItem {
    "unsafe";
    assert_eq(level, 1);
    if ((prop.priv_flags & PrivilegedPageFlags.AVAIL1) !== 0) return VmItem.new_untracked_io(paddr, prop);
    // SAFETY: the caller's promise: the PTE holds a forgotten reference to an untyped frame.
    return VmItem.new_tracked(Frame.from_raw(paddr, "udyn"), prop);
  },
  item_ref_from_raw(paddr: Paddr, level: PagingLevel, prop: PageProperty): VmItemRef {
    "unsafe";
    assert_eq(level, 1);
    if ((prop.priv_flags & PrivilegedPageFlags.AVAIL1) !== 0) return { kind: "UntrackedIoMem", paddr, level, prop };
    // SAFETY: the frame outlives the reference, and it is an untyped frame.
    return { kind: "TrackedFrame", frame: FrameRef.borrow_paddr(paddr, "udyn"), prop };
  },
  drop_item(item: VmItem): void {
    if (item.kind === "TrackedFrame") item.frame.drop();
  },
});

// ───────────── KernelPtConfig ─────────────

/** `kspace::MappedItem`: a tracked frame (AVAIL1 set in the PTE) or an untracked range. */
export type MappedItem =
  | { readonly kind: "Tracked"; readonly frame: Frame<DynMeta>; readonly prop: PageProperty }
  | { readonly kind: "Untracked"; readonly paddr: Paddr; readonly level: PagingLevel; readonly prop: PageProperty };

export const MappedItem = {
  Tracked(frame: Frame<DynMeta>, prop: PageProperty): MappedItem {
    return { kind: "Tracked", frame, prop };
  },
  Untracked(paddr: Paddr, level: PagingLevel, prop: PageProperty): MappedItem {
    return { kind: "Untracked", paddr, level, prop };
  },
};

/** `kspace::MappedItemRef`. */
export type MappedItemRef =
  | { readonly kind: "Tracked"; readonly frame: FrameRef<DynMeta>; readonly prop: PageProperty }
  | { readonly kind: "Untracked"; readonly paddr: Paddr; readonly level: PagingLevel; readonly prop: PageProperty };

function kernel_item_raw_info(item: MappedItem): [Paddr, PagingLevel, PageProperty] {
  assert((item.prop.priv_flags & PrivilegedPageFlags.AVAIL1) === 0);
  if (item.kind === "Tracked") {
    return [item.frame.paddr(), item.frame.map_level(), { ...item.prop, priv_flags: item.prop.priv_flags | PrivilegedPageFlags.AVAIL1 }];
  }
  return [item.paddr, item.level, item.prop];
}

// SAFETY: as `UserPtConfig`'s, with AVAIL1 set for tracked frames.
export const KernelPtConfig: PageTableConfig<MappedItem, MappedItemRef> = Object.freeze({
  name: "KernelPtConfig",
  TOP_LEVEL_INDEX_RANGE: Object.freeze(range(256, 512)),
  TOP_LEVEL_CAN_UNMAP: false,
  E: PageTableEntry,
  C: PagingConsts,
  item_raw_info: kernel_item_raw_info,
  item_into_raw(item: MappedItem): [Paddr, PagingLevel, PageProperty] {
    const raw = kernel_item_raw_info(item);
    if (item.kind === "Tracked") item.frame.into_raw();
    return raw;
  },
  item_from_raw(paddr: Paddr, level: PagingLevel, prop: PageProperty): MappedItem {
    "unsafe";
    if ((prop.priv_flags & PrivilegedPageFlags.AVAIL1) !== 0) {
      assert_eq(level, 1);
      const clean = { ...prop, priv_flags: prop.priv_flags & ~PrivilegedPageFlags.AVAIL1 };
      // SAFETY: the caller's promise: the PTE holds a forgotten reference to the frame.
      return MappedItem.Tracked(Frame.from_raw(paddr, "dyn"), clean);
    }
    return MappedItem.Untracked(paddr, level, prop);
  },
  item_ref_from_raw(paddr: Paddr, level: PagingLevel, prop: PageProperty): MappedItemRef {
    "unsafe";
    if ((prop.priv_flags & PrivilegedPageFlags.AVAIL1) !== 0) {
      assert_eq(level, 1);
      // SAFETY: the frame outlives the reference.
      return { kind: "Tracked", frame: FrameRef.borrow_paddr(paddr, "dyn"), prop };
    }
    return { kind: "Untracked", paddr, level, prop };
  },
  drop_item(item: MappedItem): void {
    if (item.kind === "Tracked") item.frame.drop();
  },
});

// ───────────── kernel and user tables ─────────────

/** `PageTable::<KernelPtConfig>::new_kernel_page_table()`: the kernel half's second-level nodes made up front, to be shared. */
export function new_kernel_page_table(): PageTable<typeof KernelPtConfig> {
  const kpt = PageTable.empty(KernelPtConfig);
  const preempt_guard = disable_preempt();
  const root_node = kpt.root.borrow().lock(preempt_guard);
  for (let i = KernelPtConfig.TOP_LEVEL_INDEX_RANGE.start; i < KernelPtConfig.TOP_LEVEL_INDEX_RANGE.end; i++) {
    const g = root_node.entry(i).alloc_if_none(preempt_guard);
    if (g === null) panic("called `Option::unwrap()` on a `None` value");
    g.drop();
  }
  root_node.drop();
  preempt_guard.release();
  return kpt;
}

/**
 * `create_user_page_table(&'static self)`: a user table whose kernel half is the kernel table's
 * shared nodes. The kernel table must outlive every user table made from it.
 */
export function create_user_page_table(kpt: PageTable<typeof KernelPtConfig>): PageTable<typeof UserPtConfig> {
  return share_kernel_top_level(kpt, "all");
}

/**
 * {@link create_user_page_table}'s work. `all`: OSTD's, every top-level entry of the kernel half
 * must hold a node (a missing one panics); `present`: only the entries that hold one are shared,
 * the others left absent (kmiri's kernel table builds only the nodes the kernel uses: see
 * `KernelPageTableHolder` in `mm/kspace/index.ts`, which says why that keeps OSTD's invariant).
 */
export function share_kernel_top_level(kpt: PageTable<typeof KernelPtConfig>, entries: "all" | "present"): PageTable<typeof UserPtConfig> {
  const new_root = PageTableNode.alloc(UserPtConfig, PagingConsts.NR_LEVELS);
  const preempt_guard = disable_preempt();
  const root_node = kpt.root.borrow().lock(preempt_guard);
  const new_node = new_root.borrow().lock(preempt_guard);
  assert(!KernelPtConfig.TOP_LEVEL_CAN_UNMAP);
  assert(UserPtConfig.TOP_LEVEL_INDEX_RANGE.end <= KernelPtConfig.TOP_LEVEL_INDEX_RANGE.start);
  for (let i = KernelPtConfig.TOP_LEVEL_INDEX_RANGE.start; i < KernelPtConfig.TOP_LEVEL_INDEX_RANGE.end; i++) {
    const child = root_node.entry(i).to_ref();
    if (child.kind === "Absent" && entries === "present") continue;
    if (child.kind !== "PageTable") panic("The kernel page table doesn't contain shared nodes");
    // No reference is taken for the shared nodes: user tables must not outlive the kernel table
    // (see `on_drop`, which only looks at a table's own top-level range).
    const pte = PageTableEntry.from_repr({ kind: "PageTable", paddr: child.node.paddr(), flags: PageTableFlags.empty() }, UserPtConfig.C.NR_LEVELS);
    unsafe: {
      // SAFETY: the index is in bounds and the PTE is at the right level. It is neither a
      // `UserPtConfig` child nor owned by the node, which is fine: `UserPtConfig`'s top-level
      // range keeps cursors away from it.
      new_node.write_pte(i, pte);
    }
  }
  new_node.drop();
  root_node.drop();
  preempt_guard.release();
  return PageTable.from_root(UserPtConfig, new_root);
}
