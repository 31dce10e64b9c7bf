// OSTD's boot-time initialisation of `mm` (ostd/src/boot, `mm::frame::meta::init`,
// `mm::frame::allocator::init`), re-written for kmiri.
//
// Design. `init()` runs the boot steps once per Machine (a static flag; every ktest starts with
// it, on a fresh Machine, so it must be cheap). The steps are a list, in order; a later module
// (page tables, the kernel heap) adds its own step to `BOOT_STEPS` where it belongs.
//
// The frame-metadata step, as OSTD's `meta::init` on x86:
// 1. an early bump allocator takes frames from the largest RAM region (OSTD's
//    `EarlyFrameAllocator`): the metadata pages (a 64-byte slot for every frame below the end of
//    the memory the kernel uses, `set_mem_limit`) and the page-table pages that map them;
// 2. the slots are initialised through the linear map while the pages are still untyped: every
//    count REF_COUNT_UNUSED, `in_list` 0, but the frames in use for good from boot on (what boot
//    allocated, the reserved and kernel regions: OSTD's `mark_unusable_ranges`), whose slots get
//    what a forgotten `Frame` of theirs would leave (count 1, their metadata type), as OSTD's
//    `Segment::from_unused` + `ManuallyDrop` does; then the pages are retyped `meta`, one allocation
//    per slot;
// 3. the metadata pages are mapped at FRAME_METADATA_BASE in the boot page table (global 4 KiB
//    leaves), the kernel half every later page table shares;
// 4. MAX_PADDR is published;
// 5. the global frame allocator (the default buddy allocator unless one was injected) gets the RAM
//    that is left.
import { AtomicBool, panic, static_, u64 } from "kmiri/rt";
import {
  FRAME_METADATA_BASE_VADDR, PAGE_SIZE, PteFlags, alloc_phys_pages, boot_page_table_paddr, copy_volatile, fill_volatile,
  memory_regions, paddr_to_vaddr, phys_ptr, pte_index, pte_new, read_pte, retype_phys_pages, write_pte,
  type MemoryRegion, type Paddr,
} from "./arch/mm.js";
import { BuddyFrameAllocator } from "./mm/frame/buddy.js";
import { global_frame_allocator, has_global_frame_allocator, init as allocator_init } from "./mm/frame/allocator.js";
import { KernelMeta, MAX_PADDR, META_SLOT_SIZE, MetaPageMeta, REF_COUNT_UNUSED, ReservedMemoryMeta } from "./mm/frame/meta.js";
import type { Range } from "./mm/frame/segment.js";
import { kernel_page_table_boot_step } from "./mm/kspace/boot.js";

/** Whether this Machine has booted (`init` is idempotent). */
const INITIALIZED = static_(AtomicBool, false, { name: "BOOT_INITIALIZED" });

/**
 * The memory the kernel uses: physical memory up to here (Linux's `mem=` boot parameter). Frame
 * metadata covers it and the frame allocator manages the RAM in it; RAM above is left alone.
 * Tests boot on every Machine, so the default is small; set it with `set_mem_limit` before `init`.
 */
let mem_limit = 16 * 1024 * 1024;

/** Sets the `mem=` limit (bytes, a page multiple; `Infinity` for all memory). Before `init`. */
export function set_mem_limit(bytes: number): void {
  if (INITIALIZED.as_ref().load("Relaxed")) panic("`set_mem_limit` after boot");
  mem_limit = bytes;
}

/** What the boot steps share: the memory map, and the ranges boot took. */
export interface BootInfo {
  readonly regions: readonly MemoryRegion[];
  /** Frames boot allocated before the frame allocator existed, sorted. */
  readonly early: Range[];
  /** The end of the memory the kernel uses (set by the metadata step). */
  max_paddr: Paddr;
  /** The frame-metadata pages (set by the metadata step: OSTD's `meta::init` returns them). */
  meta_pages?: Range;
}

/** A boot step: its name and what it does. */
export interface BootStep {
  readonly name: string;
  run(info: BootInfo): void;
}

/** The boot steps, in order. Later modules insert theirs (before `frame_allocator` if they allocate early). */
export const BOOT_STEPS: BootStep[] = [
  { name: "frame_metadata", run: (info) => init_frame_metadata(info) },
  { name: "frame_allocator", run: (info) => init_frame_allocator(info) },
  // Records what the kernel page table is built from; the table is built lazily (mm/kspace).
  { name: "kernel_page_table", run: (info) => kernel_page_table_boot_step(info) },
];

/** Boots the `mm` part of OSTD on this Machine, once. */
export function init(): void {
  if (INITIALIZED.as_ref().load("Acquire")) return;
  const info: BootInfo = { regions: memory_regions(), early: [], max_paddr: 0 };
  for (const step of BOOT_STEPS) step.run(info);
  INITIALIZED.as_ref().store(true, "Release");
}

// ───────────────────────────── the early allocator ─────────────────────────────

/** OSTD's `EarlyFrameAllocator`: a bump pointer in the largest usable region. */
class EarlyFrameAllocator {
  private tail: Paddr;

  constructor(private readonly range: Range) {
    this.tail = range.start;
  }

  alloc(size: number, align: number): Paddr {
    const start = Math.ceil(this.tail / align) * align;
    if (start + size > this.range.end) panic("the early frame allocator ran out of memory");
    this.tail = start + size;
    return start;
  }

  allocated(): Range {
    return { start: this.range.start, end: this.tail };
  }
}

/** Whether a region is physical memory (tracked by metadata): all but device windows. */
function is_physical(r: MemoryRegion): boolean {
  return r.kind !== "mmio";
}

// ───────────────────────────── frame metadata ─────────────────────────────

/** Where each field of a slot lies (`MetaSlot` is `repr(C)`: storage, count, type word, list). */
const REF_COUNT_OFFSET = 40;
const VTABLE_OFFSET = 48;

/**
 * Fills the slots of frames `[start, end)` (at linear-map address `slots` for frame 0) with one
 * image: storage zero, count `ref_count`, type word `vtable`, in no list. One slot is written, then
 * copied over the others, doubling each time.
 *
 * # Safety: the metadata pages are untyped and boot's alone.
 */
function fill_slots(slots: Paddr, start: Paddr, end: Paddr, ref_count: bigint, vtable: bigint): void {
  "unsafe";
  const first = slots + (start / PAGE_SIZE) * META_SLOT_SIZE;
  const bytes = ((end - start) / PAGE_SIZE) * META_SLOT_SIZE;
  if (bytes <= 0) return;
  fill_volatile(paddr_to_vaddr(first), 0, META_SLOT_SIZE);
  phys_ptr(first + REF_COUNT_OFFSET, u64).write_volatile(ref_count);
  phys_ptr(first + VTABLE_OFFSET, u64).write_volatile(vtable);
  for (let done = META_SLOT_SIZE; done < bytes; done *= 2) {
    copy_volatile(paddr_to_vaddr(first + done), paddr_to_vaddr(first), Math.min(done, bytes - done));
  }
}

/** `meta::init`. */
function init_frame_metadata(info: BootInfo): void {
  const physical = info.regions.filter(is_physical);
  const max_paddr = Math.min(Math.max(...physical.map((r) => r.end)), mem_limit);
  const usable = info.regions.filter((r) => r.kind === "ram" && r.start < max_paddr);
  const largest = usable.reduce((a, b) => (b.end - b.start > a.end - a.start ? b : a));
  const early = new EarlyFrameAllocator({ start: largest.start, end: Math.min(largest.end, max_paddr) });

  const tot_nr_frames = Math.ceil(max_paddr / PAGE_SIZE);
  const nr_meta_pages = Math.ceil((tot_nr_frames * META_SLOT_SIZE) / PAGE_SIZE);
  // The tables that map them with 4 KiB leaves: one level-3 table, level-2 and level-1 ones.
  const nr_l1 = Math.ceil(nr_meta_pages / 512);
  const nr_l2 = Math.ceil(nr_l1 / 512);
  if (nr_l2 > 512) panic("frame metadata larger than one level-3 table maps");
  const nr_tables = 1 + nr_l2 + nr_l1;
  const tables = early.alloc(nr_tables * PAGE_SIZE, PAGE_SIZE);
  const meta_pages = early.alloc(nr_meta_pages * PAGE_SIZE, PAGE_SIZE);
  const early_range = early.allocated();

  unsafe: {
    // SAFETY: the early allocator hands out free RAM no one else uses during boot.
    alloc_phys_pages(tables, nr_tables);
    alloc_phys_pages(meta_pages, nr_meta_pages);
    // SAFETY: the metadata pages are ours and untyped: volatile writes through the linear map.
    // Every slot starts unused (`alloc_meta_frames`), but the frames that are in use for good from
    // boot on — what boot allocated, the reserved and kernel regions — whose slots get the image a
    // forgotten `Frame` leaves (count 1, their metadata type; their metadata is empty). That is what
    // OSTD's `Segment::from_unused` + `ManuallyDrop` of them amounts to, written before any other
    // CPU runs.
    fill_slots(meta_pages, 0, tot_nr_frames * PAGE_SIZE, REF_COUNT_UNUSED, 0n);
    fill_slots(meta_pages, early_range.start, early_range.end, 1n, KernelMeta.id);
    fill_slots(meta_pages, meta_pages, meta_pages + nr_meta_pages * PAGE_SIZE, 1n, MetaPageMeta.id);
    for (const r of info.regions) {
      const start = Math.ceil(r.start / PAGE_SIZE) * PAGE_SIZE;
      const end = Math.min(Math.floor(r.end / PAGE_SIZE) * PAGE_SIZE, max_paddr);
      if (!is_physical(r) || start >= end) continue;
      // `mark_unusable_ranges`.
      if (r.kind === "reserved") fill_slots(meta_pages, start, end, 1n, ReservedMemoryMeta.id);
      else if (r.kind === "kernel" || r.kind === "boot-page-table") fill_slots(meta_pages, start, end, 1n, KernelMeta.id);
    }
    // SAFETY: the slots are initialised; from now on they are kernel objects, used only at
    // FRAME_METADATA_BASE.
    retype_phys_pages(meta_pages, nr_meta_pages, "meta", META_SLOT_SIZE);

    // Map them. The new tables are zeroed (no entry present) while untyped, then retyped.
    fill_volatile(paddr_to_vaddr(tables), 0, nr_tables * PAGE_SIZE);
    retype_phys_pages(tables, nr_tables, "page-table");
    const root = boot_page_table_paddr();
    const l4_index = pte_index(FRAME_METADATA_BASE_VADDR, 4);
    // SAFETY: the boot table is live and this entry is the metadata area's alone; nothing mapped
    // it before, so no TLB holds a translation for it.
    if (read_pte(root, l4_index) !== 0) panic("the frame-metadata area is mapped already");
    const table_flags = PteFlags.VALID | PteFlags.READABLE | PteFlags.WRITABLE;
    const leaf_flags = table_flags | PteFlags.GLOBAL;
    const l3 = tables;
    const l2_of = (i: number) => tables + (1 + Math.floor(i / (512 * 512))) * PAGE_SIZE;
    const l1_of = (i: number) => tables + (1 + nr_l2 + Math.floor(i / 512)) * PAGE_SIZE;
    for (let i = 0; i < nr_meta_pages; i++) {
      const vaddr = FRAME_METADATA_BASE_VADDR + i * PAGE_SIZE;
      if (i % (512 * 512) === 0) write_pte(l3, pte_index(vaddr, 3), pte_new(l2_of(i), table_flags));
      if (i % 512 === 0) write_pte(l2_of(i), pte_index(vaddr, 2), pte_new(l1_of(i), table_flags));
      // SAFETY: the leaf maps a metadata page that stays allocated for the kernel's lifetime.
      write_pte(l1_of(i), pte_index(vaddr, 1), pte_new(meta_pages + i * PAGE_SIZE, leaf_flags));
    }
    write_pte(root, l4_index, pte_new(l3, table_flags));
  }

  MAX_PADDR.as_ref().store(max_paddr, "Relaxed");
  info.early.push(early_range);
  info.max_paddr = max_paddr;
  info.meta_pages = { start: meta_pages, end: meta_pages + nr_meta_pages * PAGE_SIZE };
}

// ───────────────────────────── frame allocator ─────────────────────────────

/** `allocator::init`, with the default allocator unless one was injected. */
function init_frame_allocator(info: BootInfo): void {
  if (!has_global_frame_allocator()) global_frame_allocator(new BuddyFrameAllocator());
  const ram = info.regions
    .filter((r) => r.kind === "ram" && r.start < info.max_paddr)
    .map((r) => ({ start: r.start, end: Math.min(r.end, info.max_paddr) }));
  unsafe: {
    // SAFETY: once per Machine (the flag above), with the ranges boot took left out.
    allocator_init(ram, info.early);
  }
}
