/**
 * Native Mirch: the machine state behind `kmiri/mirch` on plain Node (`--native`, or the package
 * imported outside kmiri) — RAM, page states, the boot page table, each CPU's CR3 and interrupt
 * flag, interrupt lines, the IOMMU, the I/O space and the attached devices — with no checks. The
 * twin of src/interp/mirch/, built from the same engine-free parts (src/mirch/), so that a clean
 * program computes and prints the same values in both modes; what it does not model is listed in
 * mirch.ts.
 *
 * **RAM** is sparse: 2 MiB chunks of the physical address space, each made on first use, so a
 * machine of gigabytes costs nothing until a page is touched. A chunk is also a window of the
 * linear map (`vaddr = paddr + LINEAR_MAPPING_BASE`): a pointer into RAM is a plain native `Ptr`
 * with the chunk's `DataView`, as fast as a heap pointer. RAM keeps its bytes whatever happens to
 * the pages (allocation, free and retype change only their recorded state).
 *
 * **Addresses.** Linear-map addresses resolve directly. vmalloc and metadata addresses are
 * translated by a walk of the current CPU's active table (on RAM) when the pointer is made: the
 * pointer reaches the RAM chunk of the page found then, its `start` shifted so that
 * `address - start` lands on the right byte — valid within that page. There is no TLB.
 *
 * **MMIO and ports.** A pointer into an MMIO hole has no bytes (`view === null`); native memory
 * (memory.ts) hands its volatile accesses to {@link OutsideHeap} here, which routes them to the
 * device whose window holds the address. Ports go to the device owning them, the console at 0x3f8
 * from boot.
 *
 * **CPUs and interrupts.** A native thread runs to completion inside `spawn`, so the current CPU
 * is the running thread's index (threads.ts), or the CPU an interrupt is running on. A raised line
 * (or an inter-processor call) runs at once on its CPU when that CPU has interrupts enabled or no
 * running thread, in interrupt context with interrupts disabled; otherwise it waits until that CPU
 * enables them.
 *
 * @module
 */
import {
  DEFAULT_CPUS,
  DEFAULT_RAM_BYTES,
  FRAME_METADATA_CAP,
  IRQ_NUM_MAX,
  IRQ_NUM_MIN,
  KERNEL_BASE,
  LINEAR_MAPPING_BASE,
  MAX_USERSPACE_VADDR,
  PAGE_SIZE,
  PteFlags,
  VMALLOC_BASE,
} from "../../mirch/constants.js";
import { PhysicalMemoryMap, ramRangesFor } from "../../mirch/physical-memory.js";
import { bootPageTableFrameCount, buildBootPageTable, walk } from "../../mirch/page-table.js";
import { Iommu } from "../../mirch/iommu.js";
import { IoSpace } from "../../mirch/io-space.js";
import { consoleDevice } from "../../mirch/devices/console.js";
import type { DeviceContext, DeviceModel } from "../../mirch/device-model.js";
import type { MirchOptions } from "../../interp/mirch/mirch-machine.js";
import { guestRealm } from "../../interp/guest-realm.js";
import { u8, type Layout } from "../../interp/memory/layouts.js";
import { NATIVE_MEMORY, Ptr, ptr_from_exposed, setOutsideHeap, type OutsideHeap } from "./memory.js";
import { currentThreadIndex, threadIsRunning } from "./threads.js";

/** Bytes of one RAM chunk (2 MiB: a huge page; page-aligned pieces never cross one). */
const RAM_CHUNK = 2 ** 21;
const TWO_32 = 2 ** 32;
const WRITABLE = PteFlags.WRITABLE;
const USER = PteFlags.USER;
/** The console's fixed ports (COM1), attached at boot as on the Machine. */
export const CONSOLE_PORT = 0x3f8;

/** A 2 MiB window of RAM. */
interface RamChunk {
  /** Its first physical address. */
  readonly paddr: number;
  /** Its first linear-map address (`paddr + LINEAR_MAPPING_BASE`). */
  readonly linear: number;
  readonly view: DataView;
}

/** Bytes at a kernel or user address, for the copies: a view, the offset in it, the bytes left in it. */
interface Place {
  readonly view: DataView;
  readonly off: number;
  readonly avail: number;
}

/** An interrupt line (the program's `IrqLine` wraps one). */
export interface NativeLine {
  readonly num: number;
  readonly handlers: ((line: unknown) => unknown)[];
  affinity: number | null;
  /** What handlers receive: the program's `IrqLine` (made by mirch.ts when the line is handed out). */
  facade: unknown;
}

/** One CPU: its CR3 and its interrupt state. */
interface Cpu {
  cr3: number;
  enabled: boolean;
  /** Interrupt frames running on it (0: not in interrupt context). */
  depth: number;
  /** Interrupts waiting for it to enable interrupts. */
  readonly pending: (() => void)[];
  /** The interrupt flag of each frame's interrupted code, restored when the frame ends. */
  readonly saved: boolean[];
}

/** An attached device. */
export interface NativeDevice {
  readonly index: number;
  readonly model: DeviceModel;
  readonly name: string;
  readonly hostile: boolean;
  readonly mmio?: { readonly paddr: number; readonly len: number };
  readonly ports?: { readonly base: number; readonly len: number };
  readonly irq?: NativeLine;
  readonly ctx: DeviceContext;
}

/** Options of `attach_device`, as the checked shim passes them. */
export interface NativeAttachOptions {
  mmio_len?: number;
  ports?: number;
  irq?: boolean;
  hostile?: boolean;
}

/** Throws what the native runtime does not do or cannot go on with (no checks, no reports). */
export function nativeError(message: string): never {
  throw new Error(`kmiri native: ${message}`);
}

const hex = (n: number): string => `0x${n.toString(16)}`;

/** Bytes from `addr` to the end of its page. */
const toPageEnd = (addr: number): number => PAGE_SIZE - (addr % PAGE_SIZE);

/** Native Mirch's state for one run. */
export class NativeMirch {
  readonly cpus: number;
  readonly ramBytes: number;
  /** Every device is hostile (the option); natively that changes only `DeviceContext.hostile`. */
  readonly hostileAll: boolean;
  /** Page states (engine-free, cheap: only pages that changed are stored). */
  readonly phys: PhysicalMemoryMap;
  readonly bootRoot: number;
  readonly iommu = new Iommu();
  readonly io = new IoSpace();
  readonly devices: NativeDevice[] = [];
  /** The kernel's user page-fault handler. */
  userFaultHandler: ((fault: { vaddr: number; write: boolean; present: boolean }) => boolean) | null = null;
  /** While an interrupt runs on a CPU: that CPU (else `null`: the running thread's). */
  cpuOverride: number | null = null;
  /** Where the run's output goes (the console device's lines). */
  readonly print: (line: string) => void;
  /**
   * Whether the program runs in kmiri's guest realm (a native run of the driver): what kmiri makes
   * for it must then be admitted there. Not for the package imported by plain Node.
   */
  readonly guest: boolean;
  private readonly cpu: Cpu[] = [];
  private readonly lines = new Map<number, NativeLine>();
  /** RAM chunks by index (paddr / 2 MiB). */
  private readonly ram = new Map<number, RamChunk>();
  private lastRam: RamChunk | null = null;
  /** Where MMIO values are converted between the device's numbers and the access's layout. */
  private readonly scratch = new DataView(new ArrayBuffer(8));
  /** Entry readers for the walker. */
  readonly read64 = (paddr: number): number => {
    const c = this.ramAt(paddr);
    if (c === null) return 0;
    const off = paddr - c.paddr;
    return c.view.getUint32(off, true) + c.view.getUint32(off + 4, true) * TWO_32;
  };
  readonly write64 = (paddr: number, value: number): void => {
    const c = this.ramAt(paddr);
    if (c === null) nativeError(`a page-table write at physical ${hex(paddr)}, which is not RAM`);
    const off = paddr - c.paddr;
    // setUint32 takes its argument modulo 2^32: the low half.
    c.view.setUint32(off, value, true);
    c.view.setUint32(off + 4, Math.floor(value / TWO_32), true);
  };

  constructor(options: MirchOptions, print: (line: string) => void, guest: boolean) {
    this.cpus = options.cpus ?? DEFAULT_CPUS;
    this.ramBytes = options.ramBytes ?? DEFAULT_RAM_BYTES;
    this.hostileAll = options.hostile ?? false;
    this.print = print;
    this.guest = guest;
    // Firmware: the boot page table in frames from 0x1000 (counted first, then built into RAM).
    const ranges = ramRangesFor(this.ramBytes);
    this.phys = new PhysicalMemoryMap({ ramBytes: this.ramBytes, bootTableFrames: bootPageTableFrameCount(ranges) });
    let next = 0;
    this.bootRoot = buildBootPageTable(ranges, () => 0x1000 + PAGE_SIZE * next++, this.write64).root;
    for (let c = 0; c < this.cpus; c++) this.cpu.push({ cr3: this.bootRoot, enabled: true, depth: 0, pending: [], saved: [] });
    // Firmware's console: a 16550 on COM1 whose lines are the run's output.
    this.attach(consoleDevice((line) => this.print(line)), { ports: 8 }, CONSOLE_PORT);
    for (const d of options.devices ?? []) this.attach(d.model, d);
  }

  /** Hands `v`, made by kmiri, to the program: admitted into its realm (frozen unless told), when it runs in one. */
  admit<T extends object>(v: T, freeze = true): T {
    if (this.guest) guestRealm().admit(v, freeze);
    return v;
  }

  // ── RAM and addresses ──

  /** The RAM chunk holding physical address `paddr` (made on first use), or `null` when it is no RAM. */
  ramAt(paddr: number): RamChunk | null {
    const last = this.lastRam;
    if (last !== null && paddr >= last.paddr && paddr < last.paddr + RAM_CHUNK) return last;
    if (!this.phys.isRam(paddr)) return null;
    const k = Math.floor(paddr / RAM_CHUNK);
    let c = this.ram.get(k);
    if (c === undefined) {
      c = { paddr: k * RAM_CHUNK, linear: LINEAR_MAPPING_BASE + k * RAM_CHUNK, view: new DataView(new ArrayBuffer(RAM_CHUNK)) };
      this.ram.set(k, c);
    }
    return (this.lastRam = c);
  }

  /** A pointer to linear-map address `addr`: onto its RAM chunk, or with no bytes (MMIO, outside RAM). */
  linearPtr<T>(addr: number, layout: Layout<T>): Ptr<T> {
    const last = this.lastRam;
    if (last !== null && addr >= last.linear && addr < last.linear + RAM_CHUNK) return new Ptr(addr, layout, last.view, last.linear);
    const c = this.ramAt(addr - LINEAR_MAPPING_BASE);
    return c === null ? new Ptr(addr, layout, null, 0) : new Ptr(addr, layout, c.view, c.linear);
  }

  /**
   * A pointer to kernel address `addr` outside the heap (memory.ts's {@link OutsideHeap}): linear
   * addresses directly, vmalloc and metadata ones through the current CPU's active table now.
   */
  pointerAt<T>(addr: number, layout: Layout<T>): Ptr<T> {
    if (addr >= LINEAR_MAPPING_BASE && addr < VMALLOC_BASE) return this.linearPtr(addr, layout);
    if (addr >= VMALLOC_BASE && addr < FRAME_METADATA_CAP) {
      const t = walk(this.cpuState(this.currentCpu()).cr3, addr, this.read64);
      if (!t.fault) {
        const c = this.ramAt(t.paddr);
        // `address - start` is the byte's offset in the chunk: valid within the page translated.
        if (c !== null) return new Ptr(addr, layout, c.view, addr - (t.paddr - c.paddr));
      }
    }
    return new Ptr(addr, layout, null, 0);
  }

  /** The physical address of a linear, vmalloc or metadata address now, or -1 (unmapped, or none of them). */
  kernelPaddr(addr: number): number {
    if (addr >= LINEAR_MAPPING_BASE && addr < VMALLOC_BASE) return addr - LINEAR_MAPPING_BASE;
    if (addr >= VMALLOC_BASE && addr < FRAME_METADATA_CAP) {
      const t = walk(this.cpuState(this.currentCpu()).cr3, addr, this.read64);
      return t.fault ? -1 : t.paddr;
    }
    return -1;
  }

  /** A volatile read through a pointer with no bytes: a device register, or RAM mapped since the pointer was made. */
  readVolatile<T>(p: Ptr<T>): T {
    const paddr = this.kernelPaddr(p.address);
    if (paddr >= 0) {
      if (this.phys.isMmioHole(paddr)) return this.mmioRead(paddr, p.layout);
      const c = this.ramAt(paddr);
      if (c !== null) return p.layout.decode(c.view, paddr - c.paddr, NATIVE_MEMORY);
    }
    return nativeError(`a volatile read at ${hex(p.address)} through a pointer to no memory`);
  }

  /** A volatile write through a pointer with no bytes (see {@link readVolatile}). */
  writeVolatile<T>(p: Ptr<T>, value: T): void {
    const paddr = this.kernelPaddr(p.address);
    if (paddr >= 0) {
      if (this.phys.isMmioHole(paddr)) return this.mmioWrite(paddr, p.layout, value);
      const c = this.ramAt(paddr);
      if (c !== null) return p.layout.encode(c.view, paddr - c.paddr, value, NATIVE_MEMORY);
    }
    nativeError(`a volatile write at ${hex(p.address)} through a pointer to no memory`);
  }

  // ── page tables ──

  /** The current CPU's CR3. */
  currentRoot(): number {
    return this.cpuState(this.currentCpu()).cr3;
  }

  /** The CR3 write (no TLB to flush natively). */
  activate(root: number): void {
    this.cpuState(this.currentCpu()).cr3 = root;
  }

  /** `page_walk`: a walk of the active table. */
  pageWalk(vaddr: number): { paddr: number; flags: number } | null {
    const t = walk(this.currentRoot(), vaddr, this.read64);
    return t.fault ? null : { paddr: t.paddr, flags: t.flags };
  }

  /** A user address's physical address for a fallible access, after the page-fault handler had its chance; -1 on a fault. */
  private translateUser(vaddr: number, write: boolean): number {
    if (vaddr < 0 || vaddr > MAX_USERSPACE_VADDR + PAGE_SIZE - 1) return -1;
    for (let attempt = 0; attempt < 2; attempt++) {
      const t = walk(this.currentRoot(), vaddr, this.read64);
      let present = false;
      if (!t.fault) {
        // As the Machine's MMU: a user access needs USER at every level, a write WRITABLE.
        if ((write && (t.flags & WRITABLE) === 0) || (t.flags & USER) === 0) present = true;
        else return t.paddr;
      }
      const handler = this.userFaultHandler;
      if (attempt === 1 || handler === null) return -1;
      if (!handler({ vaddr, write, present })) return -1;
    }
    return -1;
  }

  /** The RAM bytes at physical `paddr`, or a native error (`what` names the access). */
  private ramPlace(paddr: number, what: string): Place {
    const c = this.ramAt(paddr);
    if (c === null) {
      return nativeError(`${what} at physical ${hex(paddr)}, which is not RAM${this.phys.isMmioHole(paddr) ? " (MMIO: the native copies do not reach devices)" : ""}`);
    }
    const off = paddr - c.paddr;
    return { view: c.view, off, avail: RAM_CHUNK - off };
  }

  /** The bytes at kernel address `addr` (or a user address translated as the kernel would, with no handler). */
  private kernelPlace(addr: number, write: boolean): Place {
    if (addr < KERNEL_BASE) {
      const t = walk(this.currentRoot(), addr, this.read64);
      if (t.fault || (write && (t.flags & WRITABLE) === 0)) nativeError(`page fault at ${hex(addr)} in an infallible kernel copy`);
      return this.ramPlace(t.paddr, "a kernel copy");
    }
    if (addr < FRAME_METADATA_CAP) {
      const paddr = this.kernelPaddr(addr);
      if (paddr < 0) nativeError(`kernel page fault at ${hex(addr)} in a copy: it is not mapped in the active page table`);
      return this.ramPlace(paddr, "a kernel copy");
    }
    // The kernel image and the `kmiri/rt` heap.
    const p = ptr_from_exposed(addr, u8);
    const v = p.view;
    if (v === null) return nativeError(`a kernel copy at ${hex(addr)}, where no memory is`);
    const off = addr - p.start;
    return { view: v, off, avail: v.byteLength - off };
  }

  /** The bytes at user address `vaddr` (`null` on a fault the handler did not fix). */
  private userPlace(vaddr: number, write: boolean): Place | null {
    const paddr = this.translateUser(vaddr, write);
    return paddr < 0 ? null : this.ramPlace(paddr, "a user access");
  }

  /** A place for a fallible access: user addresses through the MMU, kernel ones directly. */
  private anyPlace(addr: number, write: boolean): Place | null {
    return addr < KERNEL_BASE ? this.userPlace(addr, write) : this.kernelPlace(addr, write);
  }

  /** `memcpy_volatile`. */
  memcpyVolatile(dst: number, src: number, len: number): void {
    for (let done = 0; done < len; ) {
      const s = this.kernelPlace(src + done, false);
      const d = this.kernelPlace(dst + done, true);
      const n = Math.min(len - done, toPageEnd(src + done), toPageEnd(dst + done), s.avail, d.avail);
      copyBytes(s, d, n);
      done += n;
    }
  }

  /** `memset_volatile`. */
  memsetVolatile(dst: number, byte: number, len: number): void {
    for (let done = 0; done < len; ) {
      const d = this.kernelPlace(dst + done, true);
      const n = Math.min(len - done, toPageEnd(dst + done), d.avail);
      new Uint8Array(d.view.buffer, d.view.byteOffset + d.off, n).fill(byte);
      done += n;
    }
  }

  /** `memcpy_fallible`: the bytes not copied. */
  memcpyFallible(dst: number, src: number, len: number): number {
    for (let done = 0; done < len; ) {
      const s = this.anyPlace(src + done, false);
      if (s === null) return len - done;
      const d = this.anyPlace(dst + done, true);
      if (d === null) return len - done;
      const n = Math.min(len - done, toPageEnd(src + done), toPageEnd(dst + done), s.avail, d.avail);
      copyBytes(s, d, n);
      done += n;
    }
    return 0;
  }

  /** `memset_fallible`: the bytes not set. */
  memsetFallible(dst: number, byte: number, len: number): number {
    for (let done = 0; done < len; ) {
      const d = this.anyPlace(dst + done, true);
      if (d === null) return len - done;
      const n = Math.min(len - done, toPageEnd(dst + done), d.avail);
      new Uint8Array(d.view.buffer, d.view.byteOffset + d.off, n).fill(byte);
      done += n;
    }
    return 0;
  }

  /** `atomic_load_fallible`: the u32, or -1. */
  atomicLoadFallible(vaddr: number): number {
    const p = this.anyPlace(vaddr, false);
    return p === null ? -1 : p.view.getUint32(p.off, true);
  }

  /** `atomic_cmpxchg_fallible`: the previous u32, or -1. */
  atomicCmpxchgFallible(vaddr: number, current: number, next: number): number {
    const p = this.anyPlace(vaddr, true);
    if (p === null) return -1;
    const old = p.view.getUint32(p.off, true);
    if (old === current >>> 0) p.view.setUint32(p.off, next >>> 0, true);
    return old;
  }

  // ── CPUs and interrupts ──

  /** The current CPU: the one an interrupt runs on, else the running thread's. */
  currentCpu(): number {
    return this.cpuOverride ?? currentThreadIndex();
  }

  private cpuState(c: number): Cpu {
    const s = this.cpu[c];
    if (s === undefined) {
      return nativeError(`CPU ${c} does not exist: the Machine has CPUs 0 to ${this.cpus - 1} (each thread is a CPU, main is CPU 0; give more with the \`cpus\` option)`);
    }
    return s;
  }

  irqsEnabled(): boolean {
    return this.cpuState(this.currentCpu()).enabled;
  }

  inInterrupt(): boolean {
    return this.cpuState(this.currentCpu()).depth > 0;
  }

  /** `irq_disable`: whether they were enabled. */
  irqDisable(): boolean {
    const c = this.cpuState(this.currentCpu());
    const was = c.enabled;
    c.enabled = false;
    return was;
  }

  /** `irq_enable`: what waited for this CPU runs now. */
  irqEnable(): void {
    const cpu = this.currentCpu();
    const c = this.cpuState(cpu);
    if (c.enabled) return;
    c.enabled = true;
    this.drain(cpu);
  }

  /** A new line numbered `num` (the lowest free one when undefined). */
  allocLine(num: number | undefined): NativeLine {
    if (num === undefined) {
      for (let n = IRQ_NUM_MIN; n <= IRQ_NUM_MAX; n++) if (!this.lines.has(n)) return this.newLine(n);
      return nativeError(`every interrupt line from ${IRQ_NUM_MIN} to ${IRQ_NUM_MAX} is allocated`);
    }
    if (!Number.isInteger(num) || num < IRQ_NUM_MIN || num > IRQ_NUM_MAX) nativeError(`interrupt line ${num} is outside [${IRQ_NUM_MIN}, ${IRQ_NUM_MAX}]`);
    if (this.lines.has(num)) nativeError(`interrupt line ${num} is already allocated`);
    return this.newLine(num);
  }

  private newLine(num: number): NativeLine {
    const l: NativeLine = { num, handlers: [], affinity: null, facade: null };
    this.lines.set(num, l);
    return l;
  }

  /**
   * A line is raised: its handlers run on its CPU — its affinity, else the running thread's (the
   * Machine picks among the running CPUs with interrupts enabled; natively only one thread runs).
   */
  raise(line: NativeLine): void {
    if (line.handlers.length === 0) return;
    const handlers = [...line.handlers];
    this.deliver(line.affinity ?? currentThreadIndex(), () => {
      for (const h of handlers) h(line.facade);
    });
    this.settle();
  }

  /** `inter_processor_call(f, cpus)`: `f` on each target (all but the caller by default). */
  ipi(f: () => unknown, cpus: readonly number[] | undefined): void {
    const me = this.currentCpu();
    const targets = cpus ?? [...Array(this.cpus).keys()].filter((c) => c !== me);
    for (const c of targets) {
      if (!Number.isInteger(c) || c < 0 || c >= this.cpus) nativeError(`\`inter_processor_call\` to CPU ${c}: the Machine has CPUs 0 to ${this.cpus - 1}`);
    }
    for (const c of targets) this.deliver(c, () => void f());
    this.settle();
  }

  /**
   * Runs `item` on CPU `c` now when it can take it — it has no running thread (idle: at once, as
   * on the Machine), or its interrupts are enabled (natively the other CPUs' threads are suspended
   * in `spawn`, so the CPU takes it at once, as hardware would) — else queues it there, for when
   * that CPU enables interrupts or its thread reaches the end of a raise or an IPI.
   */
  private deliver(c: number, item: () => void): void {
    const cpu = this.cpuState(c);
    if (!threadIsRunning(c) || cpu.enabled) this.runOn(c, cpu, item);
    else cpu.pending.push(item);
  }

  /** The end of a raise or an IPI, a preemption point: in a thread's own context, what waits for its CPU runs. */
  private settle(): void {
    if (this.cpuOverride === null) this.drain(currentThreadIndex());
  }

  /** Runs `item` as CPU `c`, in interrupt context with interrupts disabled. */
  private runOn(c: number, cpu: Cpu, item: () => void): void {
    const saved = this.cpuOverride;
    this.cpuOverride = c;
    cpu.depth++;
    cpu.saved.push(cpu.enabled);
    cpu.enabled = false;
    try {
      item();
    } finally {
      cpu.depth--;
      cpu.enabled = cpu.saved.pop() ?? true;
      this.cpuOverride = saved;
    }
    if (cpu.enabled && cpu.pending.length > 0) this.drain(c);
  }

  /** Runs what waits for CPU `c` while it has interrupts enabled. */
  private drain(c: number): void {
    const cpu = this.cpuState(c);
    while (cpu.enabled && cpu.pending.length > 0) this.runOn(c, cpu, cpu.pending.shift()!);
  }

  // ── devices ──

  /** `attach_device(model, options)`, placed as on the Machine; `portBase` places the ports (firmware's console). */
  attach(model: DeviceModel, options: NativeAttachOptions = {}, portBase?: number): NativeDevice {
    if (typeof model !== "object" || model === null || typeof model.name !== "string") {
      nativeError("`attach_device` needs a device model: an object with a `name` string and the handlers of `DeviceModel`");
    }
    const index = this.devices.length;
    const hostile = this.hostileAll || options.hostile === true;
    let mmio: NativeDevice["mmio"];
    const wantsMmio = options.mmio_len !== undefined || typeof model.mmio_read === "function" || typeof model.mmio_write === "function";
    if (wantsMmio && portBase === undefined) {
      const w = this.io.allocateMmio(index, options.mmio_len ?? PAGE_SIZE);
      if (typeof w === "string") nativeError(`\`attach_device\`: ${w}`);
      mmio = { paddr: w.base, len: w.len };
    }
    let ports: NativeDevice["ports"];
    if (options.ports !== undefined && options.ports > 0) {
      const w = portBase === undefined ? this.io.allocatePorts(index, options.ports) : this.io.addPorts(index, portBase, options.ports);
      if (typeof w === "string") nativeError(`\`attach_device\`: ${w}`);
      ports = { base: w.base, len: w.len };
    }
    const irq = options.irq ? this.allocLine(undefined) : undefined;
    const ctx = this.context(() => this.devices[index]!);
    const d: NativeDevice = { index, model, name: model.name, hostile, mmio, ports, irq, ctx };
    this.devices.push(d);
    return d;
  }

  private mmioRead<T>(paddr: number, layout: Layout<T>): T {
    const hit = this.io.mmioAt(paddr);
    if (hit === null) return nativeError(`an MMIO read at physical ${hex(paddr)}, where no device answers`);
    const d = this.devices[hit.device]!;
    const size = layout.size as 1 | 2 | 4 | 8;
    const v = d.model.mmio_read ? d.model.mmio_read(hit.offset, size, d.ctx) : 0;
    writeLE(this.scratch, size, v);
    return layout.decode(this.scratch, 0, NATIVE_MEMORY);
  }

  private mmioWrite<T>(paddr: number, layout: Layout<T>, value: T): void {
    const hit = this.io.mmioAt(paddr);
    if (hit === null) return nativeError(`an MMIO write at physical ${hex(paddr)}, where no device answers`);
    const d = this.devices[hit.device]!;
    const size = layout.size as 1 | 2 | 4 | 8;
    layout.encode(this.scratch, 0, value, NATIVE_MEMORY);
    d.model.mmio_write?.(hit.offset, size, readLE(this.scratch, size), d.ctx);
    d.model.run?.(d.ctx);
  }

  /** `port_read`. */
  portRead(port: number, size: 1 | 2 | 4): number {
    const hit = this.io.portAt(port);
    if (hit === null) return nativeError(`a port read at port ${hex(port)}, where no device answers`);
    const d = this.devices[hit.device]!;
    return d.model.port_read ? Number(d.model.port_read(hit.offset, size, d.ctx)) : 0;
  }

  /** `port_write`: the device runs after it. */
  portWrite(port: number, size: 1 | 2 | 4, value: number): void {
    const hit = this.io.portAt(port);
    if (hit === null) nativeError(`a port write at port ${hex(port)}, where no device answers`);
    const d = this.devices[hit.device]!;
    d.model.port_write?.(hit.offset, size, value, d.ctx);
    d.model.run?.(d.ctx);
  }

  /** The context handed to a device's model: DMA through the IOMMU onto RAM, its line, honest values. */
  private context(d: () => NativeDevice): DeviceContext {
    const U8 = this.guest ? (guestRealm().global.Uint8Array as Uint8ArrayConstructor) : Uint8Array;
    const ctx: DeviceContext = {
      dma_read: (daddr, len) => {
        const out = new U8(len);
        this.dma(d(), daddr, len, false, (bytes, i) => out.set(bytes, i));
        return out;
      },
      dma_write: (daddr, bytes) => {
        const src = Uint8Array.from(bytes);
        this.dma(d(), daddr, src.length, true, (bytes, i, n) => bytes.set(src.subarray(i, i + n)));
      },
      dma_read_u16: (daddr) => {
        const b = ctx.dma_read(daddr, 2);
        return b[0]! | (b[1]! << 8);
      },
      dma_read_u32: (daddr) => {
        const b = ctx.dma_read(daddr, 4);
        return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
      },
      dma_write_u16: (daddr, value) => ctx.dma_write(daddr, Uint8Array.of(value & 0xff, (value >>> 8) & 0xff)),
      dma_write_u32: (daddr, value) => ctx.dma_write(daddr, Uint8Array.of(value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff)),
      raise_irq: () => {
        const line = d().irq;
        if (line !== undefined) this.raise(line);
      },
      // Natively every device is honest (native runs are for timing; the Machine picks the lies).
      choose: (honest) => honest,
      get hostile() {
        return d().hostile;
      },
    };
    // The program's own device models receive it: it must belong to the program's realm.
    return this.admit(ctx);
  }

  /** A device access of `len` bytes at `daddr`, page by page through the IOMMU: `each(bytes of RAM, index in the transfer, n)`. */
  private dma(d: NativeDevice, daddr: number, len: number, write: boolean, each: (bytes: Uint8Array, i: number, n: number) => void): void {
    for (let i = 0; i < len; ) {
      const at = daddr + i;
      const pageOff = at % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - pageOff, len - i);
      const t = this.iommu.translate(at - pageOff);
      if (t === null) nativeError(`DMA ${write ? "write" : "read"} by device \`${d.name}\` at device address ${hex(at)}, which the IOMMU does not map`);
      const paddr = t.paddr + pageOff;
      const c = this.ramAt(paddr);
      if (c === null) nativeError(`DMA by device \`${d.name}\` at physical ${hex(paddr)}, which is not RAM`);
      each(new Uint8Array(c.view.buffer, c.view.byteOffset + (paddr - c.paddr), n), i, n);
      i += n;
    }
  }
}

/** Copies `n` bytes from `s` to `d` (memmove: `set` copies as if through a temporary). */
function copyBytes(s: Place, d: Place, n: number): void {
  new Uint8Array(d.view.buffer, d.view.byteOffset + d.off, n).set(new Uint8Array(s.view.buffer, s.view.byteOffset + s.off, n));
}

/** Writes `v` (a number or bigint) as `size` little-endian bytes at offset 0 of `view`. */
function writeLE(view: DataView, size: number, v: number | bigint): void {
  if (size === 8) view.setBigUint64(0, BigInt.asUintN(64, BigInt(v)), true);
  else if (size === 4) view.setUint32(0, Number(v) >>> 0, true);
  else if (size === 2) view.setUint16(0, Number(v) & 0xffff, true);
  else view.setUint8(0, Number(v) & 0xff);
}

/** Reads `size` little-endian bytes at offset 0 of `view` (8 bytes: a bigint). */
function readLE(view: DataView, size: number): number | bigint {
  if (size === 8) return view.getBigUint64(0, true);
  if (size === 4) return view.getUint32(0, true);
  if (size === 2) return view.getUint16(0, true);
  return view.getUint8(0);
}

// ── the state of the run ──

/** Native Mirch of the current run, or `null` before it boots. */
let state: NativeMirch | null = null;

/** What native memory asks of Mirch (installed at boot). */
const outsideHeap: OutsideHeap = {
  pointerAt: (addr, layout) => state!.pointerAt(addr, layout),
  readVolatile: (p) => state!.readVolatile(p),
  writeVolatile: (p, value) => state!.writeVolatile(p, value),
};

/**
 * Boots native Mirch from scratch (fresh RAM, page states, boot page table, devices, lines, CPUs),
 * as each Machine boots its own: the driver's NativeLinker calls it for a program that imports
 * `kmiri/mirch`, after `resetNativeMemory({ start: KERNEL_CODE_BASE })`.
 *
 * @param options - the Machine's Mirch options (CPUs, RAM, hostile, devices at boot)
 * @param print - where the console's lines go (the run's output)
 * @param guest - whether the program runs in kmiri's guest realm (the driver's native runs)
 */
export function bootNativeMirch(options: MirchOptions = {}, print: (line: string) => void = (line) => console.log(line), guest = false): NativeMirch {
  state = null;
  setOutsideHeap(null);
  const s = new NativeMirch(options, print, guest);
  state = s;
  setOutsideHeap(outsideHeap);
  return s;
}

/** Shuts native Mirch down (a native run of a program without Mirch): native memory forgets it. */
export function stopNativeMirch(): void {
  state = null;
  setOutsideHeap(null);
}

/**
 * Native Mirch of this run; booted with the defaults on first use when no driver booted it (the
 * package's `kmiri/mirch` imported by plain Node: the console prints with `console.log`).
 */
export function nativeMirch(): NativeMirch {
  return state ?? bootNativeMirch();
}
