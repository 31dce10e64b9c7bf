/**
 * `kmiri/mirch` on the Machine: the Mirch pseudo-architecture's shims (mirch.d.ts), a thin layer
 * over the running Machine's Mirch (src/interp/mirch/): arguments checked and turned into the
 * engine's calls, results made in the program's realm. The checks and their reports are the
 * engine's.
 */
import * as C from "../../mirch/constants.js";
import { pte_flags as pteFlags, pte_index as pteIndex, pte_new as pteNew, pte_paddr as ptePaddr } from "../../mirch/pte.js";
import { consoleDevice } from "../../mirch/devices/console.js";
import { virtioBlockDevice } from "../../mirch/devices/virtio-blk.js";
import { modelMethods, type DeviceModel } from "../../mirch/device-model.js";
import { guestRealm } from "../../interp/guest-realm.js";
import { describeValue, isLayout, usize, type Layout } from "../../interp/memory/layouts.js";
import { reportTypeError } from "../../interp/memory/type-error.js";
import type { MirchMachine } from "../../interp/mirch/mirch-machine.js";
import type { LineState } from "../../interp/mirch/interrupts.js";
import type { Attached } from "../../interp/mirch/devices.js";
import {
  atomicCmpxchgFallible,
  atomicLoadFallible,
  memcpyFallible,
  memcpyVolatile,
  memsetFallible,
  memsetVolatile,
} from "../../interp/mirch/copies.js";
import { write } from "../../interp/memory/access.js";
import { current } from "./context.js";
import { machine } from "./machine.js";
import { checkIntArg, notALayout, Ptr } from "./memory.js";
import { rootTag } from "./borrow-hooks.js";
import { checkIrqEnable } from "./locks.js";
import { unsafeCallOutsideUnsafe, unsupported } from "./unsafe.js";

// ── constants (mirch.d.ts) ──
export const PAGE_SIZE = C.PAGE_SIZE;
export const NR_LEVELS = C.NR_LEVELS;
export const NR_ENTRIES_PER_PAGE = C.NR_ENTRIES_PER_PAGE;
export const ADDRESS_WIDTH = C.ADDRESS_WIDTH;
export const VA_SIGN_EXT = C.VA_SIGN_EXT;
export const HIGHEST_TRANSLATION_LEVEL = C.HIGHEST_TRANSLATION_LEVEL;
export const MAX_USERSPACE_VADDR = C.MAX_USERSPACE_VADDR;
export const KERNEL_BASE = C.KERNEL_BASE;
export const LINEAR_MAPPING_BASE = C.LINEAR_MAPPING_BASE;
export const VMALLOC_BASE = C.VMALLOC_BASE;
export const FRAME_METADATA_BASE = C.FRAME_METADATA_BASE;
export const FRAME_METADATA_CAP = C.FRAME_METADATA_CAP;
export const KERNEL_CODE_BASE = C.KERNEL_CODE_BASE;
export const KERNEL_END = C.KERNEL_END;
export const MAX_IO_PORT = C.MAX_IO_PORT;
export const IRQ_NUM_MIN = C.IRQ_NUM_MIN;
export const IRQ_NUM_MAX = C.IRQ_NUM_MAX;
export const IOMMU_DADDR_END = C.IOMMU_DADDR_END;
// A copy: the namespace is admitted into the program's realm (reparented, then frozen).
export const PteFlags = { ...C.PteFlags };

/** The running Machine's Mirch (a program that imports `kmiri/mirch` has one). */
function mirch(): MirchMachine {
  const mm = machine().mirch;
  if (mm === null) throw new Error("kmiri internal error: `kmiri/mirch` was called on a Machine without Mirch");
  return mm;
}

/** An UNSAFE shim called outside `unsafe`: rustc's E0133. */
function needsUnsafe(name: string): void {
  if (!current.inUnsafe()) unsafeCallOutsideUnsafe(name);
}

/** An integer argument (`usize` unless said otherwise), checked as rustc would. */
function int(call: string, param: string, x: unknown): number {
  // Past 2^53 the number may still be a usize (below 2^64); `1e300` is not: rustc's overflow lint.
  if (typeof x !== "number" || !Number.isInteger(x) || x < 0 || x > Number.MAX_SAFE_INTEGER) checkIntArg(usize, call, param, x);
  if (typeof x !== "number" || !Number.isInteger(x) || x < 0) unsupported(`\`${call}\`: \`${param}\` must be a non-negative integer, got ${String(x)}`);
  return x as number;
}

/** A value made by kmiri handed to the program: it must belong to the program's realm. */
function admitted<T extends object>(v: T): T {
  guestRealm().admit(v, true);
  return v;
}

// ── physical memory ──

export function memory_regions(): readonly C.MemoryRegion[] {
  return admitted(mirch().regions().map((r) => ({ start: r.start, end: r.end, kind: r.kind })));
}

export function alloc_pages(paddr: number, count: number): void {
  needsUnsafe("alloc_pages");
  mirch().allocPages(int("alloc_pages", "paddr", paddr), int("alloc_pages", "count", count));
}

export function dealloc_pages(paddr: number, count: number): void {
  needsUnsafe("dealloc_pages");
  mirch().deallocPages(int("dealloc_pages", "paddr", paddr), int("dealloc_pages", "count", count));
}

export function retype_pages(paddr: number, count: number, type: C.PageType, slot_size?: number): void {
  needsUnsafe("retype_pages");
  const types = ["slab", "page-table", "stack", "meta", "kernel"];
  if (!types.includes(type as string)) unsupported(`\`retype_pages\`: unknown page type, ${describeValue(type)} (one of ${types.join(", ")})`);
  mirch().retypePages(int("retype_pages", "paddr", paddr), int("retype_pages", "count", count), type, slot_size === undefined ? 0 : int("retype_pages", "slot_size", slot_size));
}

export function page_state(paddr: number): C.PageState {
  const s = mirch().pageState(int("page_state", "paddr", paddr));
  return admitted(s.state === "typed" ? { state: "typed", type: s.type } : { state: s.state });
}

export function paddr_to_vaddr(paddr: number): number {
  return int("paddr_to_vaddr", "paddr", paddr) + C.LINEAR_MAPPING_BASE;
}

export function phys_ptr<T>(paddr: number, layout: Layout<T>): Ptr<T> {
  const addr = paddr_to_vaddr(paddr);
  if (!isLayout(layout)) notALayout("phys_ptr", "layout", layout);
  const { provenance, tag } = mirch().pointer(addr);
  return new Ptr(addr, provenance, layout, tag);
}

export function set_user_page_fault_handler(handler: (fault: { vaddr: number; write: boolean; present: boolean }) => boolean): void {
  if (typeof handler !== "function") unsupported("`set_user_page_fault_handler` needs a function");
  mirch().userFaultHandler = (f) => handler(admitted({ vaddr: f.vaddr, write: f.write, present: f.present })) === true;
}

export function memcpy_fallible(dst_vaddr: number, src_vaddr: number, len: number): number {
  needsUnsafe("memcpy_fallible");
  return memcpyFallible(mirch(), int("memcpy_fallible", "dst_vaddr", dst_vaddr), int("memcpy_fallible", "src_vaddr", src_vaddr), int("memcpy_fallible", "len", len));
}

export function memset_fallible(dst_vaddr: number, byte: number, len: number): number {
  needsUnsafe("memset_fallible");
  return memsetFallible(mirch(), int("memset_fallible", "dst_vaddr", dst_vaddr), int("memset_fallible", "byte", byte) & 0xff, int("memset_fallible", "len", len));
}

export function atomic_load_fallible(vaddr: number): number {
  needsUnsafe("atomic_load_fallible");
  return atomicLoadFallible(mirch(), int("atomic_load_fallible", "vaddr", vaddr));
}

export function atomic_cmpxchg_fallible(vaddr: number, current_: number, next: number): number {
  needsUnsafe("atomic_cmpxchg_fallible");
  return atomicCmpxchgFallible(mirch(), int("atomic_cmpxchg_fallible", "vaddr", vaddr), int("atomic_cmpxchg_fallible", "current", current_), int("atomic_cmpxchg_fallible", "next", next));
}

export function memcpy_volatile(dst_vaddr: number, src_vaddr: number, len: number): void {
  needsUnsafe("memcpy_volatile");
  memcpyVolatile(mirch(), int("memcpy_volatile", "dst_vaddr", dst_vaddr), int("memcpy_volatile", "src_vaddr", src_vaddr), int("memcpy_volatile", "len", len));
}

export function memset_volatile(dst_vaddr: number, byte: number, len: number): void {
  needsUnsafe("memset_volatile");
  memsetVolatile(mirch(), int("memset_volatile", "dst_vaddr", dst_vaddr), int("memset_volatile", "byte", byte) & 0xff, int("memset_volatile", "len", len));
}

// ── page tables, CR3, TLB ──

export function pte_new(paddr: number, flags: number): number {
  return pteNew(int("pte_new", "paddr", paddr), int("pte_new", "flags", flags));
}
export function pte_paddr(pte: number): number {
  return ptePaddr(int("pte_paddr", "pte", pte));
}
export function pte_flags(pte: number): number {
  return pteFlags(int("pte_flags", "pte", pte));
}
export function pte_index(vaddr: number, level: number): number {
  return pteIndex(int("pte_index", "vaddr", vaddr), int("pte_index", "level", level));
}

export function activate_page_table(root_paddr: number): void {
  needsUnsafe("activate_page_table");
  mirch().activate(int("activate_page_table", "root_paddr", root_paddr));
}
export function current_page_table(): number {
  return mirch().currentRoot();
}
export function boot_page_table(): number {
  return mirch().bootRoot;
}
export function page_walk(vaddr: number): { readonly paddr: number; readonly flags: number } | null {
  const r = mirch().pageWalk(int("page_walk", "vaddr", vaddr));
  return r === null ? null : admitted({ paddr: r.paddr, flags: r.flags });
}

export function tlb_flush_addr(vaddr: number): void {
  mirch().tlb().flushAddr(int("tlb_flush_addr", "vaddr", vaddr));
}
export function tlb_flush_addr_range(start: number, end: number): void {
  const tlb = mirch().tlb();
  const s = int("tlb_flush_addr_range", "start", start);
  const e = int("tlb_flush_addr_range", "end", end);
  tlb.flushRange(s, e);
}
export function tlb_flush_all_excluding_global(): void {
  mirch().tlb().flushAll(false);
}
export function tlb_flush_all_including_global(): void {
  mirch().tlb().flushAll(true);
}

// ── CPUs, IPIs, interrupts ──

export function current_cpu(): number {
  return mirch().currentCpu();
}
export function num_cpus(): number {
  return mirch().cpus;
}
export function inter_processor_call(f: () => void, cpus?: readonly number[]): void {
  if (typeof f !== "function") unsupported("`inter_processor_call` needs a function");
  const m = machine();
  mirch().interrupts.ipi(f, cpus === undefined ? undefined : cpuList(cpus));
  m.b--;
}
/** `inter_processor_call`'s `cpus`: an array of CPU numbers (`&[usize]`), each checked as `usize`. */
function cpuList(cpus: unknown): number[] {
  if (!Array.isArray(cpus)) {
    reportTypeError(current, "E0308", `mismatched types: expected an array of CPU numbers (\`&[usize]\`) for the argument \`cpus\` of \`inter_processor_call\`, found ${describeValue(cpus)}`);
  }
  const out: number[] = [];
  for (let i = 0; i < cpus.length; i++) out.push(int("inter_processor_call", "cpus", cpus[i]));
  return out;
}
export function irq_disable(): boolean {
  return mirch().interrupts.disable();
}
export function irq_enable(): void {
  const m = machine();
  checkIrqEnable(m);
  mirch().interrupts.enable();
  m.b--;
}
export function irq_restore(was_enabled: boolean): void {
  const m = machine();
  // `irq_restore(was: bool)`: a value that is no `bool` (NaN, 1, "yes") is rustc's E0308, not a truthiness test.
  if (typeof was_enabled !== "boolean") {
    reportTypeError(current, "E0308", `mismatched types: expected \`bool\` for the argument \`was_enabled\` of \`irq_restore\`, found ${describeValue(was_enabled)}`);
  }
  if (was_enabled) {
    checkIrqEnable(m);
    mirch().interrupts.enable();
  }
  m.b--;
}
export function irqs_enabled(): boolean {
  return mirch().interrupts.enabled();
}
export function in_interrupt_context(): boolean {
  return mirch().interrupts.inInterrupt();
}

/** The line state of each `IrqLine` (kmiri's eyes only). */
let lineOf: (l: IrqLine) => LineState;

/** An interrupt line (mirch.d.ts `IrqLine`). */
export class IrqLine {
  #line: LineState;

  /** @internal */
  constructor(line: LineState) {
    if (lineBeingMade !== line) unsupported("an `IrqLine` constructed by the program: `alloc_irq_line` makes them");
    this.#line = line;
  }

  static {
    lineOf = (l) => l.#line;
  }

  get num(): number {
    return this.#line.num;
  }

  on_active(handler: (line: IrqLine) => void): void {
    if (typeof handler !== "function") unsupported("`IrqLine::on_active` needs a function");
    lineOf(this).handlers.push(handler as (line: unknown) => unknown);
  }

  set_affinity(cpu: number): void {
    const mm = mirch();
    const c = int("IrqLine::set_affinity", "cpu", cpu);
    if (c >= mm.cpus) unsupported(`\`IrqLine::set_affinity(${c})\`: the Machine has CPUs 0 to ${mm.cpus - 1} (\`--cpus\`)`);
    lineOf(this).affinity = c;
  }

  raise(): void {
    const m = machine();
    mirch().interrupts.raise(lineOf(this));
    m.b--;
  }
}

/** The line `new IrqLine` may wrap now (only kmiri makes lines). */
let lineBeingMade: LineState | null = null;

/** The program's `IrqLine` of a line state. */
function facade(line: LineState): IrqLine {
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

export function alloc_irq_line(num?: number): IrqLine {
  return facade(mirch().interrupts.allocLine(num === undefined ? undefined : int("alloc_irq_line", "num", num)));
}

/** Per-CPU storage (mirch.d.ts `CpuLocal`). */
export class CpuLocal<T> {
  #ptrs: Ptr<T>[];

  /** @internal */
  constructor(ptrs: Ptr<T>[]) {
    if (!makingCpuLocal) unsupported("a `CpuLocal` constructed by the program: `cpu_local` makes them");
    this.#ptrs = ptrs;
  }

  as_ptr(): Ptr<T> {
    return this.#ptrs[mirch().currentCpu()]!;
  }

  on_cpu(cpu: number): Ptr<T> {
    const c = int("CpuLocal::on_cpu", "cpu", cpu);
    const p = this.#ptrs[c];
    if (p === undefined) unsupported(`\`CpuLocal::on_cpu(${c})\`: the Machine has CPUs 0 to ${this.#ptrs.length - 1} (\`--cpus\`)`);
    return p!;
  }
}

let makingCpuLocal = false;

export function cpu_local<T>(layout: Layout<T>, init: T): CpuLocal<T> {
  if (!isLayout(layout)) notALayout("cpu_local", "layout", layout);
  const mm = mirch();
  const memory = current.memory;
  const ptrs: Ptr<T>[] = [];
  for (let c = 0; c < mm.cpus; c++) {
    // A per-CPU section of the kernel image: a static of each CPU.
    const a = memory.allocate(Math.max(layout.size, 0), layout.align, "static", current.currentSite(), false);
    write(a, 0, layout, init);
    ptrs.push(new Ptr(a.base, a, layout, rootTag(a)));
  }
  makingCpuLocal = true;
  try {
    return new CpuLocal(ptrs);
  } finally {
    makingCpuLocal = false;
  }
}

// ── IOMMU, DMA ──

export const iommu = {
  map(daddr: number, paddr: number, writable?: boolean): void {
    needsUnsafe("iommu.map");
    mirch().iommuMap(int("iommu.map", "daddr", daddr), int("iommu.map", "paddr", paddr), writable !== false);
  },
  unmap(daddr: number): void {
    needsUnsafe("iommu.unmap");
    mirch().iommuUnmap(int("iommu.unmap", "daddr", daddr));
  },
  has_dma_remapping(): boolean {
    return true;
  },
};

export function can_sync_dma(): boolean {
  return true;
}

type Direction = "to-device" | "from-device" | "bidirectional";

export function dma_stream_begin(paddr: number, len: number, direction: Direction): void {
  if (direction !== "to-device" && direction !== "from-device" && direction !== "bidirectional") {
    unsupported(`\`dma_stream_begin\`: direction ${describeValue(direction)} is not "to-device", "from-device" or "bidirectional"`);
  }
  mirch().dmaCall("dma_stream_begin", int("dma_stream_begin", "paddr", paddr), int("dma_stream_begin", "len", len), direction);
}
export function dma_stream_end(paddr: number, len: number): void {
  mirch().dmaCall("dma_stream_end", int("dma_stream_end", "paddr", paddr), int("dma_stream_end", "len", len));
}
export function dma_sync_for_device(paddr: number, len: number): void {
  mirch().dmaCall("dma_sync_for_device", int("dma_sync_for_device", "paddr", paddr), int("dma_sync_for_device", "len", len));
}
export function dma_sync_for_cpu(paddr: number, len: number): void {
  mirch().dmaCall("dma_sync_for_cpu", int("dma_sync_for_cpu", "paddr", paddr), int("dma_sync_for_cpu", "len", len));
}

// ── MMIO and port I/O ──

export function io_mem_claim(paddr: number, len: number): void {
  mirch().ioClaim("mmio", int("io_mem_claim", "paddr", paddr), int("io_mem_claim", "len", len));
}
export function io_mem_release(paddr: number, len: number): void {
  mirch().ioRelease("mmio", int("io_mem_release", "paddr", paddr), int("io_mem_release", "len", len));
}
export function io_port_claim(port: number, len: number): void {
  mirch().ioClaim("ports", int("io_port_claim", "port", port), int("io_port_claim", "len", len));
}
export function io_port_release(port: number, len: number): void {
  mirch().ioRelease("ports", int("io_port_release", "port", port), int("io_port_release", "len", len));
}
export function port_read(port: number, size: 1 | 2 | 4): number {
  needsUnsafe("port_read");
  return mirch().devices.portRead(int("port_read", "port", port), size);
}
export function port_write(port: number, size: 1 | 2 | 4, value: number): void {
  needsUnsafe("port_write");
  mirch().devices.portWrite(int("port_write", "port", port), size, int("port_write", "value", value));
}

// ── devices ──

/** What `attach_device` returns: the window, ports and line the device got. */
function attachedView(d: Attached): object {
  const v: Record<string, unknown> = { name: d.name };
  if (d.mmio) v.mmio = { paddr: d.mmio.paddr, len: d.mmio.len };
  if (d.ports) v.ports = { base: d.ports.base, len: d.ports.len };
  guestRealm().admit(v, false);
  if (d.irq) v.irq = facade(d.irq);
  return Object.freeze(v);
}

export function attach_device(model: DeviceModel, options?: { mmio_len?: number; ports?: number; irq?: boolean; hostile?: boolean }): object {
  const o = options ?? {};
  if (typeof o !== "object") unsupported("`attach_device`: options must be an object");
  return attachedView(
    mirch().devices.attach(model, {
      mmio_len: o.mmio_len === undefined ? undefined : int("attach_device", "mmio_len", o.mmio_len),
      ports: o.ports === undefined ? undefined : int("attach_device", "ports", o.ports),
      irq: o.irq === true,
      hostile: o.hostile === true,
    }),
  );
}

export function console_device(): DeviceModel {
  const m = machine();
  return modelFacade(consoleDevice((line) => m.print(line)));
}

export function virtio_device(options?: { queue_size?: number; capacity_sectors?: number }): DeviceModel {
  let model: DeviceModel;
  try {
    model = virtioBlockDevice(options ?? {});
  } catch (e) {
    return unsupported(`\`virtio_device\`: ${(e as Error).message}`);
  }
  return modelFacade(model);
}

/** What the program gets of a model that ships with Mirch: its methods only, in the program's realm. */
function modelFacade(model: DeviceModel): DeviceModel {
  return admitted(modelMethods(model));
}
