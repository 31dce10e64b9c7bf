/**
 * `kmiri/mirch` on plain Node: the Mirch pseudo-architecture's shims (api/mirch.d.ts) with no
 * checks — the speed baseline (`--native`), and what a program gets when it imports `kmiri/mirch`
 * outside kmiri. Its exports' types are what programs are type-checked against. The twin of
 * checked/mirch.ts: the same names, arguments taken the same way, and for a clean program the
 * same results; the machine behind it is mirch-state.ts.
 *
 * What native Mirch does not model (the checker's business):
 * - no checks and no reports: page states are recorded (`page_state` answers as on the Machine)
 *   but never enforced; RAM keeps its bytes across allocation, free and retype;
 * - no TLB: the `tlb_flush_*` calls do nothing, and a vmalloc or metadata address is translated
 *   once, when its pointer is made (the pointer reaches that page only; a pointer made before the
 *   page was mapped is translated again at each volatile access);
 * - a pointer into RAM reaches the 2 MiB chunk it was made in (pointer arithmetic past it, into
 *   the next chunk, does not reach the next chunk's bytes: make a new pointer with `phys_ptr`);
 * - devices are always honest (`choose` returns the honest value, hostile devices included) and
 *   run only after a write to their registers (no double fetches);
 * - interrupts and inter-processor calls run at once on their CPU when it can take them
 *   (interrupts enabled, or no running thread), else when it next enables them; a raised line
 *   without an affinity goes to the current CPU;
 * - the Mirch copies do not reach MMIO.
 */
import * as C from "../../mirch/constants.js";
import { pte_flags as pteFlags, pte_index as pteIndex, pte_new as pteNew, pte_paddr as ptePaddr } from "../../mirch/pte.js";
import { consoleDevice } from "../../mirch/devices/console.js";
import { virtioBlockDevice } from "../../mirch/devices/virtio-blk.js";
import { modelMethods, type DeviceContext, type DeviceModel } from "../../mirch/device-model.js";
import { intArgumentMismatch, isLayout, notALayoutMessage, typeErrorText, usize, type Layout } from "../../interp/memory/layouts.js";
import { alloc, Ptr } from "./memory.js";
import { nativeError, nativeMirch, type NativeDevice, type NativeLine } from "./mirch-state.js";

export type { DeviceContext, DeviceModel };
/** What a typed page holds: slab objects, page tables, a kernel stack, frame metadata, the kernel image. */
export type PageType = C.PageType;
/** The state of one 4 KiB physical page. */
export type PageState = C.PageState;
/** One range `[start, end)` of the boot memory map, and what it holds. */
export type MemoryRegion = C.MemoryRegion;

// ───────────────────────────── constants ─────────────────────────────

/** The size of a page (and of a page-table page): 4 KiB. */
export const PAGE_SIZE: 4096 = C.PAGE_SIZE;
/** Page-table levels (4: 9 index bits each). */
export const NR_LEVELS: 4 = C.NR_LEVELS;
/** Entries in one page-table page (512 of 8 bytes). */
export const NR_ENTRIES_PER_PAGE: 512 = C.NR_ENTRIES_PER_PAGE;
/** Virtual address width in bits (OSTD's `PagingConsts::ADDRESS_WIDTH`). */
export const ADDRESS_WIDTH: 48 = C.ADDRESS_WIDTH;
/** Whether virtual addresses are sign-extended: not on Mirch (the kernel half is [2^47, 2^48)). */
export const VA_SIGN_EXT: false = C.VA_SIGN_EXT;
/** The highest level that may hold a leaf (HUGE): 2, i.e. 2 MiB pages, as OSTD's x86 uses. */
export const HIGHEST_TRANSLATION_LEVEL: 2 = C.HIGHEST_TRANSLATION_LEVEL;
/** The last user page's address (user space ends where the kernel half starts). */
export const MAX_USERSPACE_VADDR: number = C.MAX_USERSPACE_VADDR;
/** The start of the kernel half (OSTD's `KERNEL_BASE_VADDR`), equal to `LINEAR_MAPPING_BASE`. */
export const KERNEL_BASE: number = C.KERNEL_BASE;
/** The start of the linear map: `vaddr = paddr + LINEAR_MAPPING_BASE`. */
export const LINEAR_MAPPING_BASE: number = C.LINEAR_MAPPING_BASE;
/** The start of the vmalloc area (`KVirtArea`), translated through the kernel page table. */
export const VMALLOC_BASE: number = C.VMALLOC_BASE;
/** The start of the frame-metadata area, translated through the kernel page table. */
export const FRAME_METADATA_BASE: number = C.FRAME_METADATA_BASE;
/** The end of the frame-metadata area (1 TiB after its base). */
export const FRAME_METADATA_CAP: number = C.FRAME_METADATA_CAP;
/** Where the kernel image lives; `kmiri/rt` allocations are placed above it. */
export const KERNEL_CODE_BASE: number = C.KERNEL_CODE_BASE;
/** The end of the kernel-image area. */
export const KERNEL_END: number = C.KERNEL_END;
/** The highest I/O port (`in`/`out` take 16-bit port numbers). */
export const MAX_IO_PORT: 0xffff = C.MAX_IO_PORT;
/** The lowest interrupt number a line may have (x86's device and IPI vectors start at 32). */
export const IRQ_NUM_MIN: 32 = C.IRQ_NUM_MIN;
/** The highest interrupt number a line may have. */
export const IRQ_NUM_MAX: 255 = C.IRQ_NUM_MAX;
/** Device addresses the IOMMU can map: [0, IOMMU_DADDR_END) (a 3-level, 39-bit table). */
export const IOMMU_DADDR_END: number = C.IOMMU_DADDR_END;

/**
 * The bits of a Mirch page-table entry. Absent without VALID; bits 12..50 hold the address of the
 * next table or of the mapped page; a level-1 entry is always a leaf, a higher one a leaf only
 * with HUGE. USER and WRITABLE must be set at every level, READABLE on the leaf. Combine and test
 * them with the `pte_*` functions: ACCESSED and DIRTY lie above bit 31, beyond JavaScript's `&`/`|`.
 */
// A copy: the namespace is admitted into the program's realm (reparented, then frozen).
export const PteFlags: {
  readonly VALID: 0x1;
  readonly READABLE: 0x2;
  readonly WRITABLE: 0x4;
  readonly EXECUTABLE: 0x8;
  readonly USER: 0x10;
  readonly GLOBAL: 0x20;
  readonly UNCACHEABLE: 0x40;
  /** A leaf above level 1 (2 MiB at level 2). */
  readonly HUGE: 0x80;
  readonly WRITE_THROUGH: 0x100;
  /** Bits 9..11: free for the OS (OSTD marks tracked mappings with one). */
  readonly AVAIL1: 0x200;
  readonly AVAIL2: 0x400;
  readonly AVAIL3: 0x800;
  /** Bit 51. */
  readonly ACCESSED: 0x8_0000_0000_0000;
  /** Bit 52. */
  readonly DIRTY: 0x10_0000_0000_0000;
} = { ...C.PteFlags };

// ───────────────────────────── arguments ─────────────────────────────

/** An integer argument (`usize` unless said otherwise), taken as the checked shim takes it. */
function int(call: string, param: string, x: unknown): number {
  if (typeof x !== "number" || !Number.isInteger(x) || x < 0) {
    const bad = intArgumentMismatch(usize, x);
    if (bad !== null) throw new TypeError(typeErrorText(bad[0], `${bad[1]} (the argument \`${param}\` of \`${call}\`)`));
    nativeError(`\`${call}\`: \`${param}\` must be a non-negative integer, got ${String(x)}`);
  }
  return x;
}

/** Throws for an argument that should be a layout (rustc's E0308). */
function notALayout(call: string, param: string, x: unknown): never {
  throw new TypeError(typeErrorText("E0308", notALayoutMessage(call, param, x)));
}

/** A value made by kmiri handed to the program: it must belong to the program's realm (when it runs in kmiri's). */
function admitted<T extends object>(v: T): T {
  return nativeMirch().admit(v);
}

// ───────────────────────────── physical memory ─────────────────────────────

/** The boot memory map firmware hands the kernel: sorted, disjoint, covering the whole machine; `ram` regions are free at boot. */
export function memory_regions(): readonly MemoryRegion[] {
  return admitted(nativeMirch().phys.regions().map((r) => ({ start: r.start, end: r.end, kind: r.kind })));
}

/** UNSAFE. Makes `count` free pages from `paddr` allocated and untyped (natively: recorded, not checked). */
export function alloc_pages(paddr: number, count: number): void {
  nativeMirch().phys.alloc(int("alloc_pages", "paddr", paddr), int("alloc_pages", "count", count));
}

/** UNSAFE. Gives `count` allocated pages back (free); pointers into them dangle (natively RAM keeps its bytes). */
export function dealloc_pages(paddr: number, count: number): void {
  nativeMirch().phys.dealloc(int("dealloc_pages", "paddr", paddr), int("dealloc_pages", "count", count));
}

/** UNSAFE. Makes `count` untyped pages typed `type`, bytes kept (one allocation, or one per `slot_size` bytes). */
export function retype_pages(paddr: number, count: number, type: PageType, slot_size?: number): void {
  const types = ["slab", "page-table", "stack", "meta", "kernel"];
  if (!types.includes(type as string)) nativeError(`\`retype_pages\`: unknown page type ${JSON.stringify(type)} (one of ${types.join(", ")})`);
  const p = int("retype_pages", "paddr", paddr);
  const n = int("retype_pages", "count", count);
  if (slot_size !== undefined) int("retype_pages", "slot_size", slot_size);
  nativeMirch().phys.retype(p, n, type);
}

/** The state of the page that holds `paddr`. */
export function page_state(paddr: number): PageState {
  const s = nativeMirch().phys.state(int("page_state", "paddr", paddr));
  return admitted(s.state === "typed" ? { state: "typed", type: s.type } : { state: s.state });
}

/** The linear-map address of `paddr` (`paddr + LINEAR_MAPPING_BASE`, unchecked, as OSTD's). */
export function paddr_to_vaddr(paddr: number): number {
  return int("paddr_to_vaddr", "paddr", paddr) + C.LINEAR_MAPPING_BASE;
}

/** A pointer to physical memory through the linear map (`ptr_from_exposed(paddr_to_vaddr(paddr), layout)`). */
export function phys_ptr<T>(paddr: number, layout: Layout<T>): Ptr<T> {
  const addr = paddr_to_vaddr(paddr);
  if (!isLayout(layout)) notALayout("phys_ptr", "layout", layout);
  return nativeMirch().linearPtr(addr, layout);
}

/** A user page fault a fallible access met: where, what it needed, and whether a mapping was there. */
export interface PageFault {
  readonly vaddr: number;
  readonly write: boolean;
  /** Whether a mapping was present (a protection fault) or not (a missing page). */
  readonly present: boolean;
}

/** Registers the kernel's user page-fault handler; a faulting fallible access calls it and, when it returns true, retries once. */
export function set_user_page_fault_handler(handler: (fault: PageFault) => boolean): void {
  if (typeof handler !== "function") nativeError("`set_user_page_fault_handler` needs a function");
  nativeMirch().userFaultHandler = (f) => handler(admitted({ vaddr: f.vaddr, write: f.write, present: f.present })) === true;
}

/**
 * UNSAFE. `__memcpy_fallible`: copies `len` bytes between kernel and user memory, user addresses
 * through the current CPU's active table (a fault calls the handler, and stops the copy when it
 * stays); the number of bytes not copied.
 */
export function memcpy_fallible(dst_vaddr: number, src_vaddr: number, len: number): number {
  return nativeMirch().memcpyFallible(int("memcpy_fallible", "dst_vaddr", dst_vaddr), int("memcpy_fallible", "src_vaddr", src_vaddr), int("memcpy_fallible", "len", len));
}

/** UNSAFE. `__memset_fallible`: `memcpy_fallible`'s fill; the number of bytes not set. */
export function memset_fallible(dst_vaddr: number, byte: number, len: number): number {
  return nativeMirch().memsetFallible(int("memset_fallible", "dst_vaddr", dst_vaddr), int("memset_fallible", "byte", byte) & 0xff, int("memset_fallible", "len", len));
}

/** UNSAFE. `__atomic_load_fallible`: a u32 loaded from user memory, or -1 on a fault the handler did not fix. */
export function atomic_load_fallible(vaddr: number): number {
  return nativeMirch().atomicLoadFallible(int("atomic_load_fallible", "vaddr", vaddr));
}

/** UNSAFE. `__atomic_cmpxchg_fallible`: a u32 compare-exchange on user memory; the old value, or -1 on a fault. */
export function atomic_cmpxchg_fallible(vaddr: number, current: number, next: number): number {
  return nativeMirch().atomicCmpxchgFallible(
    int("atomic_cmpxchg_fallible", "vaddr", vaddr),
    int("atomic_cmpxchg_fallible", "current", current),
    int("atomic_cmpxchg_fallible", "next", next),
  );
}

/** UNSAFE. An infallible copy between kernel addresses (OSTD's `VmReader`/`VmWriter<Infallible>`); no provenance moves. */
export function memcpy_volatile(dst_vaddr: number, src_vaddr: number, len: number): void {
  nativeMirch().memcpyVolatile(int("memcpy_volatile", "dst_vaddr", dst_vaddr), int("memcpy_volatile", "src_vaddr", src_vaddr), int("memcpy_volatile", "len", len));
}

/** UNSAFE. An infallible fill of kernel memory (`volatile_set_memory`). */
export function memset_volatile(dst_vaddr: number, byte: number, len: number): void {
  nativeMirch().memsetVolatile(int("memset_volatile", "dst_vaddr", dst_vaddr), int("memset_volatile", "byte", byte) & 0xff, int("memset_volatile", "len", len));
}

// ───────────────────────────── page tables, CR3, TLB ─────────────────────────────

/** An entry mapping `paddr` with `flags` (a sum of `PteFlags`). */
export function pte_new(paddr: number, flags: number): number {
  return pteNew(int("pte_new", "paddr", paddr), int("pte_new", "flags", flags));
}
/** The address an entry holds (bits 12..50). */
export function pte_paddr(pte: number): number {
  return ptePaddr(int("pte_paddr", "pte", pte));
}
/** The flags of an entry, its address removed. */
export function pte_flags(pte: number): number {
  return pteFlags(int("pte_flags", "pte", pte));
}
/** The index of `vaddr` in a table of `level` (1 = last level, 4 = root). */
export function pte_index(vaddr: number, level: number): number {
  return pteIndex(int("pte_index", "vaddr", vaddr), int("pte_index", "level", level));
}

/** UNSAFE. The CR3 write: the table rooted at `root_paddr` becomes the current CPU's address space. */
export function activate_page_table(root_paddr: number): void {
  nativeMirch().activate(int("activate_page_table", "root_paddr", root_paddr));
}
/** The current CPU's CR3. */
export function current_page_table(): number {
  return nativeMirch().currentRoot();
}
/** The root of the boot page table (linear map of all RAM and the kernel image), every CPU's at boot. */
export function boot_page_table(): number {
  return nativeMirch().bootRoot;
}
/** A software walk of the current CPU's active table: the physical address (offset included) and the leaf's flags, or `null`. */
export function page_walk(vaddr: number): { readonly paddr: number; readonly flags: number } | null {
  const r = nativeMirch().pageWalk(int("page_walk", "vaddr", vaddr));
  return r === null ? null : admitted({ paddr: r.paddr, flags: r.flags });
}

/** `invlpg` of `vaddr` on the current CPU (natively there is no TLB: nothing to do). */
export function tlb_flush_addr(vaddr: number): void {
  int("tlb_flush_addr", "vaddr", vaddr);
}
/** `tlb_flush_addr` of each page of [start, end) (nothing natively). */
export function tlb_flush_addr_range(start: number, end: number): void {
  int("tlb_flush_addr_range", "start", start);
  int("tlb_flush_addr_range", "end", end);
}
/** Flushes the current CPU's non-GLOBAL entries (nothing natively). */
export function tlb_flush_all_excluding_global(): void {}
/** Flushes the current CPU's whole TLB (nothing natively). */
export function tlb_flush_all_including_global(): void {}

// ───────────────────────────── CPUs, IPIs, interrupts ─────────────────────────────

/** The current CPU: the running thread's index (main is CPU 0), or the CPU an interrupt runs on. */
export function current_cpu(): number {
  return nativeMirch().currentCpu();
}
/** The number of CPUs (the `cpus` option, default 4). */
export function num_cpus(): number {
  return nativeMirch().cpus;
}
/** Runs `f` on each CPU of `cpus` (all but the caller by default), in interrupt context, as that CPU. */
export function inter_processor_call(f: () => void, cpus?: readonly number[]): void {
  if (typeof f !== "function") nativeError("`inter_processor_call` needs a function");
  nativeMirch().ipi(f, cpus === undefined ? undefined : [...cpus]);
}
/** Disables the current CPU's interrupts; whether they were enabled. */
export function irq_disable(): boolean {
  return nativeMirch().irqDisable();
}
/** Enables the current CPU's interrupts (what waited for them runs now). */
export function irq_enable(): void {
  nativeMirch().irqEnable();
}
/** Enables interrupts again when `was_enabled` (what `irq_disable` returned). */
export function irq_restore(was_enabled: boolean): void {
  if (was_enabled) nativeMirch().irqEnable();
}
/** Whether the current CPU has interrupts enabled. */
export function irqs_enabled(): boolean {
  return nativeMirch().irqsEnabled();
}
/** Whether the current CPU is running an interrupt handler or an inter-processor call. */
export function in_interrupt_context(): boolean {
  return nativeMirch().inInterrupt();
}

/** The line state of each `IrqLine` (kmiri's eyes only). */
let lineOf: (l: IrqLine) => NativeLine;
/** The line `new IrqLine` may wrap now (only kmiri makes lines). */
let lineBeingMade: NativeLine | null = null;

/** An interrupt line: handlers run on a CPU with interrupts enabled when a device (or `raise`) raises it. */
export class IrqLine {
  #line: NativeLine;

  /** @internal */
  constructor(line: NativeLine) {
    if (lineBeingMade !== line) nativeError("an `IrqLine` constructed by the program: `alloc_irq_line` makes them");
    this.#line = line;
  }

  static {
    lineOf = (l) => l.#line;
  }

  /** The line's interrupt number. */
  get num(): number {
    return this.#line.num;
  }

  /** Adds a handler, called with the line each time it is raised. */
  on_active(handler: (line: IrqLine) => void): void {
    if (typeof handler !== "function") nativeError("`IrqLine::on_active` needs a function");
    lineOf(this).handlers.push(handler as (line: unknown) => unknown);
  }

  /** Delivers this line only to `cpu` (default: natively, the CPU that raises it). */
  set_affinity(cpu: number): void {
    const mm = nativeMirch();
    const c = int("IrqLine::set_affinity", "cpu", cpu);
    if (c >= mm.cpus) nativeError(`\`IrqLine::set_affinity(${c})\`: the Machine has CPUs 0 to ${mm.cpus - 1}`);
    lineOf(this).affinity = c;
  }

  /** Raises the line from software, as a device would. */
  raise(): void {
    nativeMirch().raise(lineOf(this));
  }
}

/** The program's `IrqLine` of a line. */
function facade(line: NativeLine): IrqLine {
  if (line.facade === null) {
    lineBeingMade = line;
    try {
      line.facade = new IrqLine(line);
    } finally {
      lineBeingMade = null;
    }
  }
  return line.facade as IrqLine;
}

/** A line numbered in [IRQ_NUM_MIN, IRQ_NUM_MAX] (the lowest free one when `num` is left out). */
export function alloc_irq_line(num?: number): IrqLine {
  return facade(nativeMirch().allocLine(num === undefined ? undefined : int("alloc_irq_line", "num", num)));
}

let makingCpuLocal = false;

/** Per-CPU storage (`cpu_local!`): one instance of a layout per CPU. */
export class CpuLocal<T> {
  #ptrs: Ptr<T>[];

  /** @internal */
  constructor(ptrs: Ptr<T>[]) {
    if (!makingCpuLocal) nativeError("a `CpuLocal` constructed by the program: `cpu_local` makes them");
    this.#ptrs = ptrs;
  }

  /** The current CPU's instance. */
  as_ptr(): Ptr<T> {
    return this.#ptrs[nativeMirch().currentCpu()]!;
  }

  /** CPU `cpu`'s instance (OSTD's `get_on_cpu`). */
  on_cpu(cpu: number): Ptr<T> {
    const c = int("CpuLocal::on_cpu", "cpu", cpu);
    const p = this.#ptrs[c];
    if (p === undefined) nativeError(`\`CpuLocal::on_cpu(${c})\`: the Machine has CPUs 0 to ${this.#ptrs.length - 1}`);
    return p;
  }
}

/** Per-CPU storage of `layout`, each CPU's instance set to `init`. */
export function cpu_local<T>(layout: Layout<T>, init: T): CpuLocal<T> {
  if (!isLayout(layout)) notALayout("cpu_local", "layout", layout);
  const ptrs: Ptr<T>[] = [];
  // A per-CPU section of the kernel image: one allocation per CPU, as on the Machine.
  for (let c = 0; c < nativeMirch().cpus; c++) {
    const p = alloc(layout);
    p.write(init);
    ptrs.push(p);
  }
  makingCpuLocal = true;
  try {
    return new CpuLocal(ptrs);
  } finally {
    makingCpuLocal = false;
  }
}

// ───────────────────────────── IOMMU, DMA ─────────────────────────────

/** The IOMMU's one remapping domain: a device reaches only the pages mapped here. */
export const iommu: {
  /** UNSAFE. Maps one page (writable by the device unless `writable` is false). */
  map(daddr: number, paddr: number, writable?: boolean): void;
  /** UNSAFE. */
  unmap(daddr: number): void;
  /** Always true on Mirch: every device address goes through the IOMMU. */
  has_dma_remapping(): boolean;
} = {
  map(daddr: number, paddr: number, writable?: boolean): void {
    nativeMirch().iommu.map(int("iommu.map", "daddr", daddr), int("iommu.map", "paddr", paddr), writable !== false);
  },
  unmap(daddr: number): void {
    nativeMirch().iommu.unmap(int("iommu.unmap", "daddr", daddr));
  },
  has_dma_remapping(): boolean {
    return true;
  },
};

/** Whether streaming DMA needs syncs (OSTD's `can_sync_dma`): true on Mirch. */
export function can_sync_dma(): boolean {
  return true;
}

type Direction = "to-device" | "from-device" | "bidirectional";

/** Streaming DMA: the range starts, owned by the CPU (an annotation: nothing natively). */
export function dma_stream_begin(paddr: number, len: number, direction: "to-device" | "from-device" | "bidirectional"): void {
  if (direction !== "to-device" && direction !== "from-device" && direction !== "bidirectional") {
    nativeError(`\`dma_stream_begin\`: direction ${JSON.stringify(direction as Direction)} is not "to-device", "from-device" or "bidirectional"`);
  }
  int("dma_stream_begin", "paddr", paddr);
  int("dma_stream_begin", "len", len);
}
/** Streaming DMA: (part of) the range ends (nothing natively). */
export function dma_stream_end(paddr: number, len: number): void {
  int("dma_stream_end", "paddr", paddr);
  int("dma_stream_end", "len", len);
}
/** Streaming DMA: the range goes to the device (nothing natively). */
export function dma_sync_for_device(paddr: number, len: number): void {
  int("dma_sync_for_device", "paddr", paddr);
  int("dma_sync_for_device", "len", len);
}
/** Streaming DMA: the range comes back to the CPU (nothing natively). */
export function dma_sync_for_cpu(paddr: number, len: number): void {
  int("dma_sync_for_cpu", "paddr", paddr);
  int("dma_sync_for_cpu", "len", len);
}

// ───────────────────────────── MMIO and port I/O ─────────────────────────────

/** OSTD's `IoMem` allocator hands `[paddr, paddr + len)` to a driver (recorded only natively). */
export function io_mem_claim(paddr: number, len: number): void {
  nativeMirch().io.claimMmio(int("io_mem_claim", "paddr", paddr), int("io_mem_claim", "len", len));
}
/** The range goes back to the allocator (recorded only natively). */
export function io_mem_release(paddr: number, len: number): void {
  nativeMirch().io.releaseMmio(int("io_mem_release", "paddr", paddr), int("io_mem_release", "len", len));
}
/** UNSAFE. `in`: reads `size` bytes from the device owning `port`. */
export function port_read(port: number, size: 1 | 2 | 4): number {
  return nativeMirch().portRead(int("port_read", "port", port), size);
}
/** UNSAFE. `out`: writes `size` bytes to the device owning `port`, which then runs. */
export function port_write(port: number, size: 1 | 2 | 4, value: number): void {
  nativeMirch().portWrite(int("port_write", "port", port), size, int("port_write", "value", value));
}
/** OSTD's port allocator hands `len` ports from `port` to a driver (recorded only natively). */
export function io_port_claim(port: number, len: number): void {
  nativeMirch().io.claimPorts(int("io_port_claim", "port", port), int("io_port_claim", "len", len));
}
/** The ports go back to the allocator (recorded only natively). */
export function io_port_release(port: number, len: number): void {
  nativeMirch().io.releasePorts(int("io_port_release", "port", port), int("io_port_release", "len", len));
}

// ───────────────────────────── devices ─────────────────────────────

/** Where an attached device answers: its MMIO window, its ports, its interrupt line. */
export interface AttachedDevice {
  readonly name: string;
  readonly mmio?: { readonly paddr: number; readonly len: number };
  readonly ports?: { readonly base: number; readonly len: number };
  readonly irq?: IrqLine;
}

/** What `attach_device` returns: the window, ports and line the device got. */
function attachedView(d: NativeDevice): AttachedDevice {
  const v: { name: string; mmio?: object; ports?: object; irq?: IrqLine } = { name: d.name };
  if (d.mmio) v.mmio = { paddr: d.mmio.paddr, len: d.mmio.len };
  if (d.ports) v.ports = { base: d.ports.base, len: d.ports.len };
  nativeMirch().admit(v, false);
  if (d.irq) v.irq = facade(d.irq);
  return Object.freeze(v) as AttachedDevice;
}

/**
 * Attaches a device model: an MMIO window in a hole of the physical map (in attach order), ports,
 * an interrupt line, as the options ask. `hostile` is recorded (`DeviceContext.hostile`), but a
 * native device is always honest.
 */
export function attach_device(model: DeviceModel, options?: { mmio_len?: number; ports?: number; irq?: boolean; hostile?: boolean }): AttachedDevice {
  const o = options ?? {};
  if (typeof o !== "object") nativeError("`attach_device`: options must be an object");
  return attachedView(
    nativeMirch().attach(model, {
      mmio_len: o.mmio_len === undefined ? undefined : int("attach_device", "mmio_len", o.mmio_len),
      ports: o.ports === undefined ? undefined : int("attach_device", "ports", o.ports),
      irq: o.irq === true,
      hostile: o.hostile === true,
    }),
  );
}

/** A 16550-style console UART on 8 ports: a byte written at offset 0 goes to the run's output; offset 5 reads 0x60. */
export function console_device(): DeviceModel {
  const mm = nativeMirch();
  // Its methods only: the model's state stays out of the program's reach.
  return mm.admit(modelMethods(consoleDevice((line) => mm.print(line))), false);
}

/** A virtio block device (virtio-mmio, version 2 layout, one split virtqueue) on an in-memory disk. */
export function virtio_device(options?: { queue_size?: number; capacity_sectors?: number }): DeviceModel {
  let model: DeviceModel;
  try {
    model = virtioBlockDevice(options ?? {});
  } catch (e) {
    return nativeError(`\`virtio_device\`: ${(e as Error).message}`);
  }
  // Its methods only: the disk's bytes (a buffer of kmiri's realm) stay out of the program's reach.
  return nativeMirch().admit(modelMethods(model), false);
}
