// The page-table part of OSTD's `arch` (ostd/src/arch/x86/mm/mod.rs: `PagingConsts`,
// `PageTableEntry`), on Mirch; CR3, the TLB and `paddr_to_vaddr` are in `arch/mm.ts`.
// Mirch's entry format is described in the kmiri README ("Page-table entries"); this file is the
// only one of the page-table code that knows it.
//
// How OSTD's `PteScalar` is encoded in a Mirch entry:
// - `Absent` is 0 (a zeroed entry must mean absent: `PteTrait`'s safety contract). Any entry with
//   neither `VALID` nor `HUGE` reads back as absent.
// - `PageTable(paddr, flags)`: `VALID` and the most permissive permissions (a table entry takes
//   part in the AND over the levels, so it must not restrict its children), without `HUGE`;
//   `PageTableFlags::AVAIL1/AVAIL2` go to `AVAIL1/AVAIL2`.
// - `Mapped(paddr, prop)`: `HUGE` marks a leaf at every level, as OSTD's x86 PTE does (at level 1
//   Mirch ignores it, like x86's PAT bit), so a leaf that is not readable (`VALID` clear, which
//   the MMU treats as absent) is still a mapping to OSTD. `R` is `VALID | READABLE`, `W`
//   `WRITABLE`, `X` `EXECUTABLE`, `ACCESSED`/`DIRTY` bits 51/52, `PageFlags::AVAIL2` `AVAIL2`,
//   `PrivilegedPageFlags::{USER, GLOBAL, AVAIL1}` `USER`, `GLOBAL`, `AVAIL1`; the cache policy is
//   the PAT-like pair `UNCACHEABLE` / `WRITE_THROUGH`.
import {
  ADDRESS_WIDTH,
  HIGHEST_TRANSLATION_LEVEL,
  NR_LEVELS,
  PAGE_SIZE,
  PteFlags,
  VA_SIGN_EXT,
  pte_flags,
  pte_new,
  pte_paddr,
} from "kmiri/mirch";
import { panic } from "kmiri/rt";
import { CachePolicy, PageFlags, PageTableFlags, PrivilegedPageFlags, type PageProperty } from "../mm/page_table/page_prop.js";
import type { PagingConstsTrait, PteScalar, PteTrait } from "../mm/page_table/index.js";

/** A physical address. */
export type Paddr = number;
/** A virtual address. */
export type Vaddr = number;
/** A paging level: 1 is the last level, `NR_LEVELS` the root. */
export type PagingLevel = number;

/** OSTD's `arch::mm::PagingConsts` for Mirch: 4 KiB pages, 4 levels, 48 bits, 2 MiB pages at most. */
export const PagingConsts: PagingConstsTrait = Object.freeze({
  BASE_PAGE_SIZE: PAGE_SIZE,
  NR_LEVELS: NR_LEVELS,
  HIGHEST_TRANSLATION_LEVEL: HIGHEST_TRANSLATION_LEVEL,
  PTE_SIZE: 8,
  ADDRESS_WIDTH: ADDRESS_WIDTH,
  VA_SIGN_EXT: VA_SIGN_EXT,
});

// The bits of `PageFlags` / `PrivilegedPageFlags` and the entry bits they become.
const LEAF_BITS: readonly (readonly [number, number])[] = [
  [PageFlags.W, PteFlags.WRITABLE],
  [PageFlags.X, PteFlags.EXECUTABLE],
  [PageFlags.ACCESSED, PteFlags.ACCESSED],
  [PageFlags.DIRTY, PteFlags.DIRTY],
  [PageFlags.AVAIL2, PteFlags.AVAIL2],
];
const PRIV_BITS: readonly (readonly [number, number])[] = [
  [PrivilegedPageFlags.USER, PteFlags.USER],
  [PrivilegedPageFlags.GLOBAL, PteFlags.GLOBAL],
  [PrivilegedPageFlags.AVAIL1, PteFlags.AVAIL1],
];
const PT_BITS: readonly (readonly [number, number])[] = [
  [PageTableFlags.AVAIL1, PteFlags.AVAIL1],
  [PageTableFlags.AVAIL2, PteFlags.AVAIL2],
];

/** Whether `flags` (an entry's flags, up to bit 52) has `bit`: JavaScript's `&` stops at bit 31. */
function has(flags: number, bit: number): boolean {
  return Math.floor(flags / bit) % 2 === 1;
}

/** The size of a page mapped at `level`. */
function size_at(level: PagingLevel): number {
  return PAGE_SIZE * 512 ** (level - 1);
}

function cache_policy_to_flags(cache: CachePolicy): number {
  switch (cache) {
    case CachePolicy.Writeback:
      return 0;
    case CachePolicy.Writethrough:
      return PteFlags.WRITE_THROUGH;
    case CachePolicy.WriteCombining:
      return PteFlags.UNCACHEABLE;
    case CachePolicy.Uncacheable:
      return PteFlags.UNCACHEABLE | PteFlags.WRITE_THROUGH;
    case CachePolicy.WriteProtected:
      return panic("Mirch has no write-protected cache policy");
  }
}

function flags_to_cache_policy(flags: number): CachePolicy {
  const uc = has(flags, PteFlags.UNCACHEABLE);
  const wt = has(flags, PteFlags.WRITE_THROUGH);
  if (uc && wt) return CachePolicy.Uncacheable;
  if (uc) return CachePolicy.WriteCombining;
  if (wt) return CachePolicy.Writethrough;
  return CachePolicy.Writeback;
}

function is_present(pte: number): boolean {
  const f = pte_flags(pte);
  return has(f, PteFlags.VALID) || has(f, PteFlags.HUGE);
}

function prop_of(pte: number): PageProperty {
  const f = pte_flags(pte);
  let flags = has(f, PteFlags.READABLE) && has(f, PteFlags.VALID) ? PageFlags.R : 0;
  for (const [pf, bit] of LEAF_BITS) if (has(f, bit)) flags |= pf;
  let priv_flags = 0;
  for (const [pf, bit] of PRIV_BITS) if (has(f, bit)) priv_flags |= pf;
  return { flags, cache: flags_to_cache_policy(f), priv_flags };
}

function pt_flags_of(pte: number): number {
  const f = pte_flags(pte);
  let flags = 0;
  for (const [pf, bit] of PT_BITS) if (has(f, bit)) flags |= pf;
  return flags;
}

function new_page(paddr: Paddr, level: PagingLevel, prop: PageProperty): number {
  let flags = PteFlags.HUGE + cache_policy_to_flags(prop.cache);
  if ((prop.flags & PageFlags.R) !== 0) flags += PteFlags.VALID + PteFlags.READABLE;
  for (const [pf, bit] of LEAF_BITS) if ((prop.flags & pf) !== 0) flags += bit;
  for (const [pf, bit] of PRIV_BITS) if ((prop.priv_flags & pf) !== 0) flags += bit;
  if (level < 1 || level > 3) panic(`invalid level ${level} for page entry`);
  if (paddr % size_at(level) !== 0 || paddr >= 2 ** 51) panic("page physical address contains invalid bits");
  return pte_new(paddr, flags);
}

function new_pt(paddr: Paddr, pt_flags: number): number {
  // As on x86, an intermediate entry gets the most permissive permissions: the leaves decide.
  let flags = PteFlags.VALID | PteFlags.READABLE | PteFlags.WRITABLE | PteFlags.EXECUTABLE | PteFlags.USER;
  for (const [pf, bit] of PT_BITS) if ((pt_flags & pf) !== 0) flags |= bit;
  if (paddr % PAGE_SIZE !== 0 || paddr >= 2 ** 51) panic("page table physical address contains invalid bits");
  return pte_new(paddr, flags);
}

/**
 * OSTD's `arch::mm::PageTableEntry` as a `PteTrait`: the entry is a `usize` (a number here; Mirch
 * entries stay below 2^53).
 */
// SAFETY: `from_repr` and `to_repr` round-trip (the tests `cast_*_preserves_repr` check it), and
// the zeroed entry is absent.
export const PageTableEntry: PteTrait = Object.freeze({
  from_repr(repr: PteScalar, level: PagingLevel): number {
    switch (repr.kind) {
      case "Absent":
        return 0;
      case "PageTable":
        return new_pt(repr.paddr, repr.flags);
      case "Mapped":
        return new_page(repr.paddr, level, repr.prop);
    }
  },
  to_repr(pte: number, level: PagingLevel): PteScalar {
    if (!is_present(pte)) return { kind: "Absent" };
    const pa = pte_paddr(pte);
    // Every present level-1 entry is a leaf on Mirch (tables made by other code may leave out
    // `HUGE` there); above level 1, `HUGE` tells a leaf from a table.
    if (level === 1 || has(pte_flags(pte), PteFlags.HUGE)) {
      return { kind: "Mapped", paddr: pa - (pa % size_at(level)), prop: prop_of(pte) };
    }
    return { kind: "PageTable", paddr: pa, flags: pt_flags_of(pte) };
  },
  new_zeroed(): number {
    return 0;
  },
});

