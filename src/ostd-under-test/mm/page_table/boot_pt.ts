// OSTD's `mm/page_table/boot_pt.rs`: the boot page table, a plain table that is changed before the
// page-table nodes (which need frame metadata) exist, and whose new tables are tracked so they
// can be freed when every CPU has left it.
//
// On Mirch firmware's boot table is in `page-table` frames of its own; this port has the part the
// tests use: `new(root)`, `root_address`, `map_base_page`, `protect_base_page`, and the walk that
// frees the tables it allocated (`dismiss`'s, as `free_allocated_tables`). PTEs are accessed with
// atomics (the tables may be untyped frames, which Mirch lets be accessed only so).
import { panic } from "kmiri/rt";
import { PAGE_SIZE, fill_volatile, paddr_to_vaddr, type Paddr, type Vaddr } from "../../arch/mm.js";
import { PageTableEntry, PagingConsts, type PagingLevel } from "../../arch/page_table.js";
import { Frame, FrameAllocOptions, impl_frame_meta_for } from "../frame/index.js";
import { struct } from "kmiri/rt";
import { PageTableFlags, PageProperty } from "./page_prop.js";
import { load_pte, nr_subpage_per_huge, pte_index, store_pte, type PagingConstsTrait, type PteTrait } from "./index.js";

/** `allocator::EarlyAllocatedFrameMeta`: the metadata of the tables the boot table allocates. */
export const EarlyAllocatedFrameMeta = impl_frame_meta_for("EarlyAllocatedFrameMeta", struct("EarlyAllocatedFrameMeta", {}));

/**
 * AVAIL1 in a table entry marks a table firmware (not this code) made; AVAIL2 is free for
 * finding double visits, the firmware table being possibly a DAG.
 */
const PTE_POINTS_TO_FIRMWARE_PT = PageTableFlags.AVAIL1;

/** The address of entry `index` of the table at `pt`. */
function pte_addr(C: PagingConstsTrait, pt: Paddr, index: number): Vaddr {
  return paddr_to_vaddr(pt) + index * C.PTE_SIZE;
}

/** `BootPageTable<E, C>`. */
export class BootPageTable {
  private constructor(
    private readonly root_pt: Paddr,
    private readonly E: PteTrait,
    private readonly C: PagingConstsTrait,
  ) {}

  /** `BootPageTable::new(root_pt)` (test only in OSTD). */
  static new(root_pt: Paddr, E: PteTrait = PageTableEntry, C: PagingConstsTrait = PagingConsts): BootPageTable {
    return new BootPageTable(root_pt, E, C);
  }

  /** The root's physical address. */
  root_address(): Paddr {
    return this.root_pt;
  }

  /**
   * UNSAFE. `map_base_page(from, to, prop)`: maps one base page. Panics when it is mapped
   * already.
   *
   * # Safety: mapping a page in the kernel address space can break memory safety.
   */
  map_base_page(from: Vaddr, to: Paddr, prop: PageProperty): void {
    "unsafe";
    const { E, C } = this;
    let pt = this.root_pt;
    // Walk down to the last level.
    for (let level = C.NR_LEVELS; level > 1; level--) {
      // SAFETY: the address is an entry of the table frame.
      const at = pte_addr(C, pt, pte_index(C, from, level));
      const repr = E.to_repr(load_pte(at, "Relaxed"), level);
      switch (repr.kind) {
        case "Absent": {
          const [pte, child_pt] = this.alloc_child(level);
          store_pte(at, pte, "Relaxed");
          pt = child_pt;
          break;
        }
        case "Mapped":
          panic("mapping an already mapped huge page in the boot page table");
        case "PageTable":
          pt = repr.paddr;
          break;
      }
    }
    const at = pte_addr(C, pt, pte_index(C, from, 1));
    if (E.to_repr(load_pte(at, "Relaxed"), 1).kind === "Mapped") panic("mapping an already mapped page in the boot page table");
    store_pte(at, E.from_repr({ kind: "Mapped", paddr: to, prop }, 1), "Relaxed");
  }

  /**
   * UNSAFE. `protect_base_page(virt_addr, op)`: changes the property of one base page, splitting
   * a huge page if needed. Panics when the page is not mapped.
   *
   * # Safety: as `map_base_page`.
   */
  protect_base_page(virt_addr: Vaddr, op: (prop: PageProperty) => void): void {
    "unsafe";
    const { E, C } = this;
    let pt = this.root_pt;
    for (let level = C.NR_LEVELS; level > 1; level--) {
      const at = pte_addr(C, pt, pte_index(C, virt_addr, level));
      const repr = E.to_repr(load_pte(at, "Relaxed"), level);
      switch (repr.kind) {
        case "Absent":
          panic("protecting an unmapped page in the boot page table");
        case "PageTable":
          pt = repr.paddr;
          break;
        case "Mapped": {
          // Split the huge page.
          const [child_pte, child_frame_pa] = this.alloc_child(level);
          for (let i = 0; i < nr_subpage_per_huge(C); i++) {
            // SAFETY: the address is an entry of the new table frame.
            store_pte(
              pte_addr(C, child_frame_pa, i),
              E.from_repr({ kind: "Mapped", paddr: repr.paddr + i * C.BASE_PAGE_SIZE, prop: repr.prop }, level - 1),
              "Relaxed",
            );
          }
          store_pte(at, child_pte, "Relaxed");
          pt = child_frame_pa;
          break;
        }
      }
    }
    const at = pte_addr(C, pt, pte_index(C, virt_addr, 1));
    const repr = E.to_repr(load_pte(at, "Relaxed"), 1);
    if (repr.kind !== "Mapped") return panic("protecting an unmapped page in the boot page table");
    const prop = PageProperty.copy(repr.prop);
    op(prop);
    store_pte(at, E.from_repr({ kind: "Mapped", paddr: repr.paddr, prop }, 1), "Relaxed");
  }

  /** `alloc_child(level)`: a zeroed table frame (its reference forgotten) and the PTE to it. */
  private alloc_child(level: PagingLevel): [number, Paddr] {
    const r = FrameAllocOptions.new().zeroed(false).alloc_frame_with(EarlyAllocatedFrameMeta.of({}));
    if (!r.ok) panic(`called \`Result::unwrap()\` on an \`Err\` value: ${String(r.error)}`);
    const frame_paddr = r.value.into_raw();
    unsafe: {
      // SAFETY: the frame is ours and untyped: zero it.
      fill_volatile(paddr_to_vaddr(frame_paddr), 0, PAGE_SIZE);
    }
    return [this.E.from_repr({ kind: "PageTable", paddr: frame_paddr, flags: PageTableFlags.empty() }, level), frame_paddr];
  }

  /**
   * UNSAFE. Frees the tables this boot table allocated (what `dismiss` does once every CPU left
   * the table), clearing the entries that pointed to them.
   *
   * # Safety: no CPU uses the table, and nothing uses it afterwards.
   */
  free_allocated_tables(): void {
    "unsafe";
    dfs_walk_on_leave(this.E, this.C, this.root_pt, this.C.NR_LEVELS, (pa, flags) => {
      if ((flags & PTE_POINTS_TO_FIRMWARE_PT) === 0) {
        // SAFETY: the frame was allocated by `alloc_child`, its reference forgotten.
        Frame.from_raw(pa, EarlyAllocatedFrameMeta).drop();
      }
      // Firmware tables may form a DAG: clear the entry so the table is not met twice.
      return this.E.new_zeroed();
    });
  }
}

/** `dfs_walk_on_leave`: calls `op` on each table entry after walking the table it points to. */
function dfs_walk_on_leave(
  E: PteTrait,
  C: PagingConstsTrait,
  pt: Paddr,
  level: PagingLevel,
  op: (pa: Paddr, flags: number) => number,
): void {
  "unsafe";
  if (level < 2) return;
  for (let offset = 0; offset < nr_subpage_per_huge(C); offset++) {
    // SAFETY: the address is an entry of the table frame.
    const at = pte_addr(C, pt, offset);
    const repr = E.to_repr(load_pte(at, "Relaxed"), level);
    if (repr.kind === "PageTable") {
      dfs_walk_on_leave(E, C, repr.paddr, level - 1, op);
      store_pte(at, op(repr.paddr, repr.flags), "Relaxed");
    }
  }
}
