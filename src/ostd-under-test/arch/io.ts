// The I/O part of OSTD's `arch` layer on Mirch: what `arch/x86/mm` (the fallible copies of
// `__memcpy_fallible` and friends), `arch/x86/io` (`io_mem::{read_once, write_once, copy_*}`,
// `MAX_IO_PORT`, the MMIO ranges handed to the `IoMem` allocator) and `arch/x86/device/io_port`
// (`in`/`out`) provide in asterinas/asterinas `ostd/src/arch/x86`. Everything here is a thin,
// typed wrapper over a `kmiri/mirch` shim; only `arch/` imports `kmiri/mirch`.
//
// At the end: a hand-made user mapping (frames from the top of RAM, tables in the active page
// table's user half) for the fallible copies' tests, until the page-table module exists.
import { AtomicUsize, assert, panic, ptr_from_exposed, type Layout } from "kmiri/rt";
import {
  MAX_IO_PORT as MIRCH_MAX_IO_PORT,
  MAX_USERSPACE_VADDR as MIRCH_MAX_USERSPACE_VADDR,
  KERNEL_BASE,
  KERNEL_END,
  PAGE_SIZE as MIRCH_PAGE_SIZE,
  PteFlags,
  alloc_pages,
  atomic_cmpxchg_fallible,
  atomic_load_fallible,
  attach_device as mirch_attach_device,
  console_device as mirch_console_device,
  current_page_table,
  dealloc_pages,
  io_mem_claim as mirch_io_mem_claim,
  io_mem_release as mirch_io_mem_release,
  io_port_claim as mirch_io_port_claim,
  io_port_release as mirch_io_port_release,
  memcpy_fallible,
  memcpy_volatile,
  memory_regions,
  memset_fallible,
  memset_volatile,
  paddr_to_vaddr,
  phys_ptr,
  port_read as mirch_port_read,
  port_write as mirch_port_write,
  pte_index,
  pte_new,
  retype_pages,
  set_user_page_fault_handler as mirch_set_user_page_fault_handler,
  tlb_flush_addr_range,
  type AttachedDevice,
  type DeviceModel,
  type PageFault,
} from "kmiri/mirch";

export type { AttachedDevice, DeviceModel, DeviceContext, PageFault } from "kmiri/mirch";

/** `PAGE_SIZE` of the architecture. */
export const PAGE_SIZE: number = MIRCH_PAGE_SIZE;
/** The first kernel virtual address (`KERNEL_BASE_VADDR`). */
export const KERNEL_BASE_VADDR: number = KERNEL_BASE;
/** The end of the kernel virtual address space (`KERNEL_END_VADDR`). */
export const KERNEL_END_VADDR: number = KERNEL_END;
/** The end of user space (`MAX_USERSPACE_VADDR`). */
export const MAX_USERSPACE_VADDR: number = MIRCH_MAX_USERSPACE_VADDR;
/** The highest I/O port (`arch::io::MAX_IO_PORT`, `u16::MAX` on x86). */
export const MAX_IO_PORT: number = MIRCH_MAX_IO_PORT;

// ───────────────────────────── fallible copies (arch/x86/mm) ─────────────────────────────

/**
 * `__memcpy_fallible`: copies `len` bytes from `src` to `dst`, where either side may be user
 * memory (a page fault the handler cannot fix stops the copy). Returns the number of bytes NOT
 * copied.
 *
 * Safety: each side is either valid kernel memory (see `mm/io`'s "valid") for `len` bytes, or in
 * user space.
 */
export function __memcpy_fallible(dst: number, src: number, len: number): number {
  "unsafe";
  return memcpy_fallible(dst, src, len);
}

/** `__memset_fallible`: fills `len` bytes at `dst` with `value`; the number of bytes NOT set. Safety as above. */
export function __memset_fallible(dst: number, value: number, len: number): number {
  "unsafe";
  return memset_fallible(dst, value, len);
}

/**
 * `__atomic_load_fallible`: a u32 loaded atomically from `ptr` (user or valid kernel memory,
 * 4-byte aligned), or `!0` (here -1) on a page fault that stays.
 */
export function __atomic_load_fallible(ptr: number): number {
  "unsafe";
  return atomic_load_fallible(ptr);
}

/** `__atomic_cmpxchg_fallible`: the previous u32 at `ptr` (written with `new_val` when it was `old_val`), or -1 on a fault. */
export function __atomic_cmpxchg_fallible(ptr: number, old_val: number, new_val: number): number {
  "unsafe";
  return atomic_cmpxchg_fallible(ptr, old_val, new_val);
}

// ───────────────────────────── infallible copies (core::intrinsics on x86) ─────────────────────────────

/**
 * `core::intrinsics::volatile_copy_memory`: `len` bytes from `src` to `dst`, both valid kernel
 * memory. On Mirch it is the checked copy: page states, DMA ownership and bounds are checked at
 * each side, and untyped memory is reached only through it.
 */
export function volatile_copy_memory(dst: number, src: number, len: number): void {
  "unsafe";
  memcpy_volatile(dst, src, len);
}

/** `core::intrinsics::volatile_set_memory`: fills `len` bytes of valid kernel memory at `dst`. */
export function volatile_set_memory(dst: number, value: number, len: number): void {
  "unsafe";
  memset_volatile(dst, value, len);
}

// ───────────────────────────── arch/x86/io/io_mem.rs ─────────────────────────────

/** The layouts `read_once`/`write_once` accept: the `PodOnce` integers of 1, 2, 4 or 8 bytes. */
const NON_TEARING = new Set([1, 2, 4, 8]);

/** Whether a value of `layout` is read or written with one instruction (`is_non_tearing`). */
export function is_non_tearing(layout: Layout<unknown>): boolean {
  return NON_TEARING.has(layout.size);
}

/**
 * `read_once`: a non-tearing load of one `T` at `vaddr` (one volatile access, which is what a
 * device register needs: Mirch forwards it to the device as one access of `size_of::<T>()` bytes).
 *
 * Safety: as `ptr::read_volatile` — `vaddr` is valid for reads of `T` and aligned.
 */
export function read_once<T>(vaddr: number, layout: Layout<T>): T {
  "unsafe";
  if (!is_non_tearing(layout)) panic(`read_once: ${layout.name} is not a PodOnce type`);
  return ptr_from_exposed(vaddr, layout).read_volatile();
}

/** `write_once`: a non-tearing store. Safety: as `ptr::write_volatile`. */
export function write_once<T>(vaddr: number, layout: Layout<T>, value: T): void {
  "unsafe";
  if (!is_non_tearing(layout)) panic(`write_once: ${layout.name} is not a PodOnce type`);
  ptr_from_exposed(vaddr, layout).write_volatile(value);
}

/**
 * `copy_from_mmio`: `count` bytes from device memory at `src_io` to valid kernel memory at `dst`.
 * x86 does it with `rep movsb`; Mirch splits it into naturally aligned device accesses of at most 8
 * bytes and checks the destination.
 */
export function copy_from_mmio(dst: number, src_io: number, count: number): void {
  "unsafe";
  if (count === 0) return;
  memcpy_volatile(dst, src_io, count);
}

/** `copy_to_mmio` (note OSTD's argument order: source first). */
export function copy_to_mmio(src: number, dst_io: number, count: number): void {
  "unsafe";
  if (count === 0) return;
  memcpy_volatile(dst_io, src, count);
}

/** `copy_from_mmio_fallible`: to fallible memory; the number of bytes copied. */
export function copy_from_mmio_fallible(dst: number, src_io: number, count: number): number {
  "unsafe";
  const failed = memcpy_fallible(dst, src_io, count);
  return count - failed;
}

/** `copy_to_mmio_fallible`: from fallible memory; the number of bytes copied. */
export function copy_to_mmio_fallible(src: number, dst_io: number, count: number): number {
  "unsafe";
  const failed = memcpy_fallible(dst_io, src, count);
  return count - failed;
}

/** `memset_mmio`: fills `count` bytes of device memory (`rep stosb` on x86). */
export function memset_mmio(dst_io: number, value: number, count: number): void {
  "unsafe";
  if (count === 0) return;
  memset_volatile(dst_io, value, count);
}

/**
 * Where the kernel reaches an MMIO physical address. OSTD maps an `IoMem` into a `KVirtArea`
 * (uncacheable by default); until the kernel-space module exists, the port reaches device memory
 * through the linear map, which Mirch also accepts for MMIO.
 */
export function mmio_vaddr(paddr: number): number {
  return paddr_to_vaddr(paddr);
}

/**
 * The MMIO ranges given to the `IoMem` allocator (`construct_io_mem_allocator_builder`). On x86
 * they are derived from the top of low and high memory; Mirch's boot memory map lists its holes.
 */
export function io_mem_ranges(): { start: number; end: number }[] {
  return memory_regions()
    .filter((r) => r.kind === "mmio")
    .map((r) => ({ start: r.start, end: r.end }));
}

/** Annotation: the `IoMem` allocator hands `[paddr, paddr + len)` to a driver. */
export function io_mem_claim(paddr: number, len: number): void {
  mirch_io_mem_claim(paddr, len);
}

/** Annotation: the range goes back to the `IoMem` allocator. */
export function io_mem_release(paddr: number, len: number): void {
  mirch_io_mem_release(paddr, len);
}

// ───────────────────────────── arch/x86/device/io_port.rs ─────────────────────────────

/** `PortRead::read_from_port` (`in`) of 1, 2 or 4 bytes. Safety: the port is ours and reading it has no unsound effect. */
export function read_from_port(port: number, size: 1 | 2 | 4): number {
  "unsafe";
  return mirch_port_read(port, size);
}

/** `PortWrite::write_to_port` (`out`). Safety: as {@link read_from_port}. */
export function write_to_port(port: number, size: 1 | 2 | 4, value: number): void {
  "unsafe";
  mirch_port_write(port, size, value);
}

/** Annotation: the port allocator hands `len` ports from `port` to a driver. */
export function io_port_claim(port: number, len: number): void {
  mirch_io_port_claim(port, len);
}

/** Annotation: the ports go back to the port allocator. */
export function io_port_release(port: number, len: number): void {
  mirch_io_port_release(port, len);
}

/** The serial port firmware puts at COM1 (0x3f8..0x400), which OSTD's console owns. */
export const COM1_BASE = 0x3f8;
/** Ports of a 16550 UART. */
export const UART_PORTS = 8;

// ───────────────────────────── devices (the platform) ─────────────────────────────

/** Attaches a device model to the machine (the platform, not OSTD: firmware or a test's set-up). */
export function attach_device(
  model: DeviceModel,
  options?: { mmio_len?: number; ports?: number; irq?: boolean; hostile?: boolean },
): AttachedDevice {
  return mirch_attach_device(model, options);
}

/** The Mirch 16550 console device model. */
export function console_device(): DeviceModel {
  return mirch_console_device();
}

// ───────────────────────────── the user page-fault handler ─────────────────────────────

/**
 * Registers the handler the fallible copies call on a user page fault (OSTD's exception-table
 * fix-up path ends in the same place: the VM space's page-fault handler). When it returns true,
 * having mapped the page, the access is retried once; else the copy stops at the faulting byte.
 */
export function set_user_page_fault_handler(handler: (fault: PageFault) => boolean): void {
  mirch_set_user_page_fault_handler(handler);
}

// ───────────────────────────── a hand-made user mapping (tests) ─────────────────────────────

const TABLE_FLAGS = PteFlags.VALID | PteFlags.READABLE | PteFlags.WRITABLE | PteFlags.USER;

/** Frames handed out for user mappings, from the top of the highest RAM region down. */
let user_frames_top = 0;

function take_frame(): number {
  if (user_frames_top === 0) {
    let top = 0;
    for (const r of memory_regions()) if (r.kind === "ram") top = Math.max(top, Math.floor(r.end / PAGE_SIZE) * PAGE_SIZE);
    user_frames_top = top;
  }
  user_frames_top -= PAGE_SIZE;
  return user_frames_top;
}

/** A page of zeros typed `page-table`. */
function new_table(): number {
  const f = take_frame();
  unsafe: {
    // SAFETY: the frame is free RAM that nothing else in these tests allocates (the top of RAM).
    alloc_pages(f, 1);
    memset_volatile(paddr_to_vaddr(f), 0, PAGE_SIZE);
    retype_pages(f, 1, "page-table");
  }
  return f;
}

function entry_ref(table: number, vaddr: number, level: number) {
  "unsafe";
  // Safety (callers): `table` is a live page-table page; entries are `usize`s read and written atomically.
  return phys_ptr(table + 8 * pte_index(vaddr, level), AtomicUsize).as_ref();
}

/** User pages mapped by {@link map_user_pages}: what {@link unmap_user_pages} undoes. */
export interface UserPages {
  readonly vaddr: number;
  readonly count: number;
  readonly frames: number[];
  readonly tables: number[];
  readonly root: number;
}

/**
 * Maps `count` fresh, zeroed untyped frames at user address `vaddr` (page-aligned, within one
 * 2 MiB region whose level-4 entry is empty) into the active page table, readable, and writable
 * when asked. Test support for the fallible copies, until `VmSpace` exists.
 */
export function map_user_pages(vaddr: number, count: number, writable = true): UserPages {
  assert(vaddr % PAGE_SIZE === 0 && count >= 1 && count <= 512);
  assert(Math.floor(vaddr / 0x20_0000) === Math.floor((vaddr + count * PAGE_SIZE - 1) / 0x20_0000));
  const root = current_page_table();
  const tables: number[] = [];
  const frames: number[] = [];
  unsafe: {
    // SAFETY: the root is the active table; its user half holds nothing else in these tests.
    const top = entry_ref(root, vaddr, 4);
    if (top.load("Acquire") !== 0) panic("map_user_pages: the level-4 entry is in use");
    const l3 = new_table();
    const l2 = new_table();
    const l1 = new_table();
    tables.push(l3, l2, l1);
    entry_ref(l3, vaddr, 3).store(pte_new(l2, TABLE_FLAGS), "Release");
    entry_ref(l2, vaddr, 2).store(pte_new(l1, TABLE_FLAGS), "Release");
    const leaf = PteFlags.VALID | PteFlags.READABLE | PteFlags.USER | (writable ? PteFlags.WRITABLE : 0);
    for (let i = 0; i < count; i++) {
      const f = take_frame();
      alloc_pages(f, 1);
      memset_volatile(paddr_to_vaddr(f), 0, PAGE_SIZE);
      frames.push(f);
      entry_ref(l1, vaddr + i * PAGE_SIZE, 1).store(pte_new(f, leaf), "Release");
    }
    top.store(pte_new(l3, TABLE_FLAGS), "Release");
  }
  return { vaddr, count, frames, tables, root };
}

/** Unmaps what {@link map_user_pages} mapped, flushes the TLB, and frees the frames and tables. */
export function unmap_user_pages(u: UserPages): void {
  unsafe: {
    entry_ref(u.root, u.vaddr, 4).store(0, "Release");
    // The mapping is gone from the table; flush before the frames can be reused.
    tlb_flush_addr_range(u.vaddr, u.vaddr + u.count * PAGE_SIZE);
    for (const f of u.frames) dealloc_pages(f, 1);
    for (const t of u.tables) dealloc_pages(t, 1);
  }
}

/** The kernel (linear-map) address of the byte at `offset` in the `index`-th frame of a user mapping. */
export function user_frame_kernel_vaddr(u: UserPages, index: number, offset = 0): number {
  return paddr_to_vaddr(u.frames[index]! + offset);
}

/**
 * `count` contiguous, zeroed, untyped frames from the top of RAM (test support for the `VmIo` of
 * untyped memory, until the frame allocator exists): their physical address.
 */
export function alloc_untyped_frames_for_test(count: number): number {
  let base = 0;
  for (let i = 0; i < count; i++) base = take_frame();
  unsafe: {
    // SAFETY: the frames are free RAM that nothing else in these tests allocates (the top of RAM).
    alloc_pages(base, count);
    memset_volatile(paddr_to_vaddr(base), 0, count * PAGE_SIZE);
  }
  return base;
}

/** Frees frames from {@link alloc_untyped_frames_for_test}. */
export function free_untyped_frames_for_test(paddr: number, count: number): void {
  unsafe: {
    dealloc_pages(paddr, count);
  }
}

/** The linear-map address of `paddr` (`paddr_to_vaddr`). */
export function linear_vaddr(paddr: number): number {
  return paddr_to_vaddr(paddr);
}
