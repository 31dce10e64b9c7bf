// The memory-management part of OSTD's `arch` (ostd/src/arch/x86/mm/mod.rs, and what the generic
// `mm` modules take from `boot` and `kspace`), on Mirch. This file and its siblings in `arch/` are
// the only places that import `kmiri/mirch`; the `mm` modules call what is exported here.
//
// What it offers:
// - the constants of the address-space layout (`PAGE_SIZE`, `LINEAR_MAPPING_BASE`,
//   `FRAME_METADATA_BASE`, ...), and the PTE flag bits;
// - physical pages: `alloc_phys_pages` / `dealloc_phys_pages` / `retype_phys_pages` (the page-state
//   transitions Mirch checks), `paddr_to_vaddr`, `phys_ptr`, the boot memory map;
// - page tables: `activate_page_table` (the CR3 write), `current_page_table_paddr`, the boot
//   table, PTE helpers (`pte_new`, `pte_paddr`, `pte_flags`, `pte_index`) and `read_pte` /
//   `write_pte` (a PTE is an atomic `usize` in a `page-table` page, reached through the linear map);
// - TLB flushes of the current CPU;
// - volatile copies and fills between kernel addresses (the infallible `VmReader`/`VmWriter`).
import { AtomicUsize, type Layout, type Ptr } from "kmiri/rt";
import * as mirch from "kmiri/mirch";

export const PAGE_SIZE = mirch.PAGE_SIZE;
export const NR_LEVELS = mirch.NR_LEVELS;
export const NR_ENTRIES_PER_PAGE = mirch.NR_ENTRIES_PER_PAGE;
export const HIGHEST_TRANSLATION_LEVEL = mirch.HIGHEST_TRANSLATION_LEVEL;
export const ADDRESS_WIDTH = mirch.ADDRESS_WIDTH;
export const MAX_USERSPACE_VADDR = mirch.MAX_USERSPACE_VADDR;
export const KERNEL_BASE_VADDR = mirch.KERNEL_BASE;
export const LINEAR_MAPPING_BASE_VADDR = mirch.LINEAR_MAPPING_BASE;
export const VMALLOC_BASE_VADDR = mirch.VMALLOC_BASE;
export const FRAME_METADATA_BASE_VADDR = mirch.FRAME_METADATA_BASE;
export const FRAME_METADATA_CAP_VADDR = mirch.FRAME_METADATA_CAP;
export const KERNEL_CODE_BASE_VADDR = mirch.KERNEL_CODE_BASE;
export const PteFlags = mirch.PteFlags;

export type Paddr = number;
export type Vaddr = number;
export type PageType = mirch.PageType;
export type PageState = mirch.PageState;

/** A range of the boot memory map. `kind` is what firmware says the range holds. */
export interface MemoryRegion {
  readonly start: Paddr;
  readonly end: Paddr;
  readonly kind: "ram" | "reserved" | "mmio" | "boot-page-table" | "kernel";
}

/** The boot memory map handed over by firmware (sorted, disjoint, covering every address). */
export function memory_regions(): readonly MemoryRegion[] {
  return mirch.memory_regions() as readonly MemoryRegion[];
}

/** The linear-map address of a physical address (OSTD's `paddr_to_vaddr`, no check). */
export function paddr_to_vaddr(paddr: Paddr): Vaddr {
  return mirch.paddr_to_vaddr(paddr);
}

/** A raw pointer to physical memory through the linear map. */
export function phys_ptr<T>(paddr: Paddr, layout: Layout<T>): Ptr<T> {
  return mirch.phys_ptr(paddr, layout);
}

/**
 * Hands `count` free physical pages from `paddr` to the kernel (they become untyped). The
 * allocator calls it when it gives pages out.
 *
 * # Safety: the pages must be free (owned by no one), as the allocator's bookkeeping says.
 */
export function alloc_phys_pages(paddr: Paddr, count: number): void {
  "unsafe";
  mirch.alloc_pages(paddr, count);
}

/**
 * Gives `count` pages from `paddr` back (they become free).
 *
 * # Safety: nothing may use the pages any more, through any address.
 */
export function dealloc_phys_pages(paddr: Paddr, count: number): void {
  "unsafe";
  mirch.dealloc_pages(paddr, count);
}

/**
 * Makes `count` untyped pages hold kernel objects of `type` (one object per `slot_size` bytes
 * when given).
 *
 * # Safety: the pages must be owned by the caller and untyped; no pointer made before may be used
 * after.
 */
export function retype_phys_pages(paddr: Paddr, count: number, type: PageType, slot_size?: number): void {
  "unsafe";
  mirch.retype_pages(paddr, count, type, slot_size);
}

/** The state of the page holding `paddr` (for tests and debug checks). */
export function page_state(paddr: Paddr): PageState {
  return mirch.page_state(paddr);
}

/**
 * Copies `len` bytes between kernel virtual addresses, volatile on untyped memory.
 *
 * # Safety: both ranges must be valid for the access, and untyped or owned by the caller.
 */
export function copy_volatile(dst: Vaddr, src: Vaddr, len: number): void {
  "unsafe";
  mirch.memcpy_volatile(dst, src, len);
}

/**
 * Fills `len` bytes at a kernel virtual address with `byte`.
 *
 * # Safety: the range must be valid for writes, and untyped or owned by the caller.
 */
export function fill_volatile(dst: Vaddr, byte: number, len: number): void {
  "unsafe";
  mirch.memset_volatile(dst, byte, len);
}

// ─────────────────────────── page tables, CR3, TLB ───────────────────────────

/**
 * Makes the page table rooted at `root_paddr` the current CPU's address space (the CR3 write).
 *
 * # Safety: the table must map the kernel half as every other kernel table does, and stay alive
 * while active.
 */
export function activate_page_table(root_paddr: Paddr): void {
  "unsafe";
  mirch.activate_page_table(root_paddr);
}

/** The physical address of the current CPU's root page table (reading CR3). */
export function current_page_table_paddr(): Paddr {
  return mirch.current_page_table();
}

/** The root of the page table firmware built (every CPU starts on it). */
export function boot_page_table_paddr(): Paddr {
  return mirch.boot_page_table();
}

/** A software walk of the active table (no TLB): the mapped address and flags, or `null`. */
export function page_walk(vaddr: Vaddr): { readonly paddr: Paddr; readonly flags: number } | null {
  return mirch.page_walk(vaddr);
}

/** A page-table entry mapping `paddr` with `flags`. */
export function pte_new(paddr: Paddr, flags: number): number {
  return mirch.pte_new(paddr, flags);
}

/** The address an entry points to. */
export function pte_paddr(pte: number): Paddr {
  return mirch.pte_paddr(pte);
}

/** The flag bits of an entry. */
export function pte_flags(pte: number): number {
  return mirch.pte_flags(pte);
}

/** The index of `vaddr` in a table of `level` (1 is the last level). */
export function pte_index(vaddr: Vaddr, level: number): number {
  return mirch.pte_index(vaddr, level);
}

/** The entry `index` of the page-table page at `table` (as an atomic `usize`). */
function pte_ptr(table: Paddr, index: number): Ptr<number> {
  return mirch.phys_ptr(table + 8 * index, AtomicUsize);
}

/**
 * Reads entry `index` of the table at `table`.
 *
 * # Safety: `table` must be a live page-table page.
 */
export function read_pte(table: Paddr, index: number): number {
  "unsafe";
  return pte_ptr(table, index).as_ref().load("Acquire");
}

/**
 * Writes entry `index` of the table at `table`.
 *
 * # Safety: `table` must be a live page-table page the caller may change; what the entry maps
 * must stay valid while it is mapped (and flushed from TLBs before it goes).
 */
export function write_pte(table: Paddr, index: number, pte: number): void {
  "unsafe";
  pte_ptr(table, index).as_ref().store(pte, "Release");
}

/** `invlpg` of `vaddr` on the current CPU. */
export function tlb_flush_addr(vaddr: Vaddr): void {
  mirch.tlb_flush_addr(vaddr);
}

/** Flushes the pages of [start, end) from the current CPU's TLB. */
export function tlb_flush_addr_range(start: Vaddr, end: Vaddr): void {
  mirch.tlb_flush_addr_range(start, end);
}

/** Flushes the current CPU's TLB but its global entries. */
export function tlb_flush_all_excluding_global(): void {
  mirch.tlb_flush_all_excluding_global();
}

/** Flushes the current CPU's whole TLB. */
export function tlb_flush_all_including_global(): void {
  mirch.tlb_flush_all_including_global();
}
