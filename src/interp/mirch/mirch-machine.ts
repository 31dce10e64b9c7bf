/**
 * Mirch on a Machine: the state of the pseudo-architecture one run has — physical memory and its
 * page states, CPUs with their CR3 and TLB, the IOMMU, DMA streams, MMIO and ports, interrupts,
 * devices — and the checks the `kmiri/mirch` shims make against it.
 *
 * The data structures and rules that need no Machine (the page-state map, the page-table walker,
 * the TLB, the IOMMU, DMA ownership, I/O space, interrupt lines) are src/mirch's, engine-free, for
 * simulators to reuse; this module wires them to the Machine's memory (through its seam: a
 * resolver for Mirch's pointers, extra leak roots), its threads (each thread a CPU) and its
 * reports. Created when the program imports `kmiri/mirch` (or the Machine is given Mirch
 * options), before the program runs: the boot state is ready when `main` starts.
 *
 * @module
 */
import {
  DEFAULT_CPUS,
  DEFAULT_RAM_BYTES,
  FRAME_METADATA_CAP,
  LINEAR_MAPPING_BASE,
  MAX_USERSPACE_VADDR,
  PAGE_SIZE,
  PteFlags,
  VMALLOC_BASE,
  type MemoryRegion,
  type PageState,
  type PageType,
} from "../../mirch/constants.js";
import { PhysicalMemoryMap, ramRangesFor } from "../../mirch/physical-memory.js";
import { bootPageTableFrameCount, buildBootPageTable, checkPageTableTree, checkLeaf, walk, type Translation } from "../../mirch/page-table.js";
import { Tlb, isStale, tlbEntryFor } from "../../mirch/tlb.js";
import { Iommu } from "../../mirch/iommu.js";
import { DmaStreams } from "../../mirch/dma-streams.js";
import { Xoshiro128, deriveSeed } from "../../concurrency/scheduler.js";
import type { Allocation } from "../memory/allocation.js";
import type { Memory } from "../memory/memory.js";
import type { HelpLine, ReportOptions, UBKind } from "../report.js";
import type { Machine } from "../machine.js";
import { PhysicalPages, physSlot } from "./physical-pages.js";
import { concretePointer, isPlainData, kernelPointer, resolveMirch, sharedMarkers, type SharedMarkers } from "./pointers.js";
import type { Layout } from "../memory/layouts.js";
import { Interrupts } from "./interrupts.js";
import { Devices } from "./devices.js";
import type { DeviceModel } from "../../mirch/device-model.js";

/** Mirch's options of a Machine (library `createMachine({ mirch })`, CLI `--cpus`, `--ram`, `--hostile`). */
export interface MirchOptions {
  /** CPUs (`num_cpus()`; each `kmiri/rt` thread is one; default 4). */
  cpus?: number;
  /** Bytes of RAM (default 256 MiB; a multiple of the page size). */
  ramBytes?: number;
  /** Every attached device is hostile (Iago values, double fetches), whatever `attach_device` says. */
  hostile?: boolean;
  /**
   * Device models attached at boot, before `main` runs (host code: a simulator's models), in
   * order: each gets an MMIO window, ports and an interrupt line as `attach_device` would give.
   */
  devices?: readonly { model: DeviceModel; mmio_len?: number; ports?: number; irq?: boolean; hostile?: boolean }[];
}

/** The most CPUs a Machine may have (each is a thread; interrupt contexts take as many race-detector slots). */
export const MAX_CPUS = 64;

/** Parses a RAM size (`512M`, `4G`, `1048576`) to bytes; `NaN` when it is none. */
export function parseRamSize(text: string): number {
  const m = /^(\d+)\s*([KMG]?)i?B?$/i.exec(text.trim());
  if (!m) return NaN;
  const unit = { "": 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 }[m[2].toUpperCase() as "" | "K" | "M" | "G"];
  return Number(m[1]) * unit;
}

/** Validates Mirch options; throws a RangeError naming the bad one. */
export function checkMirchOptions(o: MirchOptions): void {
  const cpus = o.cpus ?? DEFAULT_CPUS;
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > MAX_CPUS) throw new RangeError(`kmiri: cpus must be an integer from 1 to ${MAX_CPUS}, got ${o.cpus}`);
  const ram = o.ramBytes ?? DEFAULT_RAM_BYTES;
  if (!Number.isInteger(ram) || ram < 4 * 2 ** 20 || ram % PAGE_SIZE !== 0 || ram > 2 ** 40) {
    throw new RangeError(`kmiri: the RAM size must be a multiple of 4 KiB from 4 MiB to 1 TiB, got ${o.ramBytes}`);
  }
}

/** The per-CPU state of the MMU. */
interface CpuMmu {
  /** CR3: the root of the active table. */
  cr3: number;
  readonly tlb: Tlb;
}

/** Mirch's state on one Machine. */
export class MirchMachine {
  readonly cpus: number;
  readonly ramBytes: number;
  /** Every device is hostile (`--hostile`). */
  readonly hostileAll: boolean;
  /** Page states (engine-free). */
  readonly phys: PhysicalMemoryMap;
  /** The allocations of physical memory. */
  readonly pages: PhysicalPages;
  readonly markers: SharedMarkers = sharedMarkers();
  readonly iommu = new Iommu();
  readonly dma = new DmaStreams();
  readonly interrupts: Interrupts;
  readonly devices: Devices;
  /** Mirch's own stream of choices (the IRQ target CPU, hostile values): `deriveSeed(seed, "mirch")`. */
  readonly rng: Xoshiro128;
  /** The boot page table's root. */
  readonly bootRoot: number;
  private readonly mmu: CpuMmu[] = [];
  /** Where each TLB entry was filled (the site of the access that made the MMU walk). */
  private readonly fillSites = new WeakMap<object, number>();
  /** The kernel's user page-fault handler (`set_user_page_fault_handler`). */
  userFaultHandler: ((fault: { vaddr: number; write: boolean; present: boolean }) => boolean) | null = null;

  constructor(
    readonly host: Machine,
    options: MirchOptions = {},
  ) {
    checkMirchOptions(options);
    this.cpus = options.cpus ?? DEFAULT_CPUS;
    this.ramBytes = options.ramBytes ?? DEFAULT_RAM_BYTES;
    this.hostileAll = options.hostile ?? false;
    this.rng = new Xoshiro128(deriveSeed(host.seed, "mirch"));
    const memory = host.memory;
    this.pages = new PhysicalPages(memory, (a, site) => {
      const t = host.borrowTracker;
      if (t === null || t === undefined) return 0;
      const root = t.newAllocation(a, site);
      // Every physical page counts as exposed from boot (mirch.d.ts): pointers made from an
      // address (a vmalloc mapping's) may use it as a wildcard.
      a.exposed = true;
      t.expose(a, root);
      return root;
    });
    memory.addResolver((addr, size, marker) => resolveMirch(this, addr, size, marker));
    const roots = memory.extraRoots;
    memory.extraRoots = () => [...(roots?.() ?? []), ...this.pages.live()];
    // Firmware: the boot page table, in frames from 0x1000 (counted first, then built).
    const ram = ramRangesFor(this.ramBytes);
    this.phys = new PhysicalMemoryMap({ ramBytes: this.ramBytes, bootTableFrames: bootPageTableFrameCount(ram) });
    let next = 0;
    const boot = buildBootPageTable(
      ram,
      () => {
        const paddr = 0x1000 + PAGE_SIZE * next++;
        this.pages.make(paddr, 1, "page-table", 0, -1);
        return paddr;
      },
      (paddr, value) => this.pages.write64(paddr, value),
    );
    this.bootRoot = boot.root;
    for (let c = 0; c < this.cpus; c++) this.mmu.push({ cr3: this.bootRoot, tlb: new Tlb() });
    this.interrupts = new Interrupts(this);
    this.devices = new Devices(this);
    for (const d of options.devices ?? []) this.devices.attach(d.model, d);
  }

  get memory(): Memory {
    return this.host.memory;
  }

  // ── CPUs ──

  /** The name of race-detector slot `t` when it is Mirch's: an interrupt context or a device. */
  raceName(t: number): string | undefined {
    return this.interrupts.raceName(t) ?? this.devices.raceName(t);
  }

  /** The current CPU: the running thread's (an idle CPU's for its interrupt thread). */
  currentCpu(): number {
    return this.host.thread.cpu;
  }

  // ── physical memory ──

  /** `memory_regions()`. */
  regions(): readonly MemoryRegion[] {
    return this.phys.regions();
  }

  /** Whether `paddr` lies in an MMIO hole. */
  isMmioHole(paddr: number): boolean {
    return this.phys.isMmioHole(paddr);
  }

  /** `page_state(paddr)`. */
  pageState(paddr: number): PageState {
    return this.phys.state(paddr);
  }

  /** `alloc_pages`. */
  allocPages(paddr: number, count: number): void {
    this.checkPageArgs("alloc_pages", paddr, count);
    const p = this.phys.alloc(paddr, count);
    if (p !== null) this.pageStateReport(p.message, "allocated here");
    this.pages.make(paddr, count, null, 0, this.host.currentSite());
  }

  /** `dealloc_pages`. */
  deallocPages(paddr: number, count: number): void {
    this.checkPageArgs("dealloc_pages", paddr, count);
    for (let p = paddr; p < paddr + count * PAGE_SIZE; p += PAGE_SIZE) {
      // Up to the first page that is not allocated, which `phys.dealloc` reports: a huge count
      // (`dealloc_pages(pa, 2 ** 30)`) is reported at once, not after a walk of every page.
      const st = this.phys.state(p).state;
      if (st !== "untyped" && st !== "typed") break;
      if (this.iommu.isMapped(p)) {
        this.report("dma", `freeing page 0x${p.toString(16)}, which is still mapped in the IOMMU: a device can still reach it`, {
          label: "freed here while a device may still access it",
          help: [{ message: "unmap it first (`iommu.unmap(daddr)`; OSTD's `DmaStream`/`DmaCoherent` drop does), then free it" }],
        });
      }
    }
    const pr = this.phys.dealloc(paddr, count);
    if (pr !== null) this.pageStateReport(pr.message, "freed here");
    this.pages.remove(paddr, count, this.host.currentSite());
  }

  /** `retype_pages`. */
  retypePages(paddr: number, count: number, type: PageType, slotSize: number): void {
    this.checkPageArgs("retype_pages", paddr, count);
    if (slotSize !== 0 && (!Number.isInteger(slotSize) || slotSize <= 0 || PAGE_SIZE % slotSize !== 0)) {
      this.report("unsupported", `\`retype_pages\`: slot_size ${slotSize} does not divide the page size (${PAGE_SIZE})`, { title: "unsupported operation" });
    }
    const pr = this.phys.retype(paddr, count, type);
    if (pr !== null) this.pageStateReport(pr.message, "retyped here");
    const site = this.host.currentSite();
    this.pages.remove(paddr, count, site);
    this.pages.make(paddr, count, type, slotSize === PAGE_SIZE ? 0 : slotSize, site);
  }

  private checkPageArgs(fn: string, paddr: number, count: number): void {
    if (!Number.isInteger(paddr) || paddr < 0 || paddr % PAGE_SIZE !== 0) {
      this.pageStateReport(`\`${fn}\` of 0x${Number(paddr).toString(16)}, which is not a page-aligned physical address`, "here");
    }
    if (!Number.isInteger(count) || count < 1) this.pageStateReport(`\`${fn}\` of ${count} pages: the count must be at least 1`, "here");
  }

  private pageStateReport(message: string, label: string): never {
    return this.report("page-state", message, { label });
  }

  /** An access through a pointer made where no allocation was (a free or reserved page). */
  reportNoPage(paddr: number, vaddr?: number): never {
    const st = this.phys.state(paddr);
    const what = st.state === "typed" ? `typed \`${st.type}\`` : st.state;
    const via = vaddr === undefined ? "" : ` (reached through 0x${vaddr.toString(16)})`;
    return this.report("page-state", `access to physical address 0x${paddr.toString(16)}${via}, whose page was ${st.state === "free" || st.state === "reserved" ? what : `not allocated when the pointer was made (it is ${what} now)`}`, {
      label: `access to a ${st.state} page`,
      help: [
        { message: "only allocated pages may be accessed: `alloc_pages` makes free pages untyped, `retype_pages` makes them typed" },
        { message: "a pointer takes the provenance of the allocation present when it is made; make it after allocating the page" },
      ],
    });
  }

  /** A typed page reached through a second kernel virtual address. */
  reportMisbound(a: Allocation, addr: number, binding: number): never {
    const first = binding === 0 ? "the linear map" : `0x${binding.toString(16)}`;
    const slot = physSlot(a)!;
    return this.report("page-state", `access to typed \`${slot.type}\` memory at 0x${addr.toString(16)}, but since its retype it was used through ${first}: a typed page must be used through one kernel virtual address`, {
      label: "second kernel virtual address of a typed page",
      help: [{ message: `alloc${a.id} is physical memory at 0x${slot.paddr.toString(16)}; use it through the address it was first used at` }],
    });
  }

  /**
   * The checks of a CPU access to untyped memory (mirch.d.ts): volatile or atomic only, of plain
   * data, and DMA ownership of streaming buffers.
   */
  untypedAccess(a: Allocation, linear: number, size: number): void {
    const memory = this.memory;
    const write = memory.accessWrite;
    const paddr = linear - LINEAR_MAPPING_BASE;
    const layout = memory.accessLayout;
    // A reference to an atomic in untyped memory is how atomics reach it (`AtomicU32::from_ptr`).
    if (memory.accessMode === "plain" && !(layout !== null && layout.kind === "atomic")) {
      this.report("page-state", `${write ? "write" : "read"} of ${size} byte${size === 1 ? "" : "s"} of untyped memory at physical address 0x${paddr.toString(16)} that is not volatile`, {
        label: `non-volatile ${write ? "write" : "read"} of untyped memory`,
        help: [
          { message: "untyped memory (frames for users and devices) is shared with devices and user space: access it with `read_volatile`/`write_volatile`, atomics or `memcpy_volatile` (OSTD's `VmReader`/`VmWriter`), never through `read`, `write`, `copy` or a reference" },
          { message: "to keep kernel objects in the frame, retype it (`retype_pages`)" },
        ],
      });
    }
    if (layout !== null && !isPlainData(layout)) {
      this.report("page-state", `${write ? "write" : "read"} of \`${layout.name}\` in untyped memory at physical address 0x${paddr.toString(16)}: only plain data (integers, floats, arrays and structs of them) may be kept there`, {
        label: `\`${layout.name}\` in untyped memory`,
        help: [{ message: "a device or a user can write any bytes to untyped memory: a `bool`, `char`, enum or pointer read from it may be invalid" }],
      });
    }
    const problem = write ? this.dma.cpuWrite(paddr, size) : this.dma.cpuRead(paddr, size);
    if (problem !== null) {
      this.report("dma", problem, {
        label: write ? "CPU write to a DMA stream buffer" : "CPU read of a DMA stream buffer",
        help: [{ message: "after the device wrote a streaming buffer, `dma_sync_for_cpu` (OSTD's `DmaStream::sync`) must come before the CPU reads it" }],
      });
    }
    this.devices.beforeCpuAccess(paddr, size);
  }

  // ── page tables, CR3, TLB ──

  /** `activate_page_table(root)`: the CR3 write, checked. */
  activate(root: number): void {
    const problem = checkPageTableTree(root, (p) => this.pages.read64(p), (p) => this.phys.state(p), { isMmioHole: (p) => this.isMmioHole(p), skipLinearMap: true });
    if (problem !== null) {
      this.report("page-table", `activating page table 0x${root.toString(16)}: ${problem.message}`, {
        label: "CR3 written with a bad page table",
        help: [{ message: `the entry at physical address 0x${problem.pteAddr.toString(16)} (level ${problem.level}) maps 0x${problem.vaddr.toString(16)}` }],
      });
    }
    const cpu = this.mmu[this.currentCpu()]!;
    cpu.cr3 = root;
    cpu.tlb.flushAll(false);
  }

  /** The current CPU's CR3. */
  currentRoot(): number {
    return this.mmu[this.currentCpu()]!.cr3;
  }

  /** The current CPU's TLB. */
  tlb(): Tlb {
    return this.mmu[this.currentCpu()]!.tlb;
  }

  /** `page_walk(vaddr)`: a software walk of the active table (no TLB). */
  pageWalk(vaddr: number): { paddr: number; flags: number } | null {
    const t = walk(this.currentRoot(), vaddr, (p) => this.pages.read64(p));
    return t.fault ? null : { paddr: t.paddr, flags: t.flags };
  }

  /**
   * Translates a kernel vmalloc or metadata address through the current CPU's TLB and active
   * table: its physical address. A missing mapping is a kernel page fault (`page-table`), a
   * served translation whose entry was cleared and whose frame was freed since is `stale-tlb`;
   * `quiet`: `null` instead of a report (making a pointer is no access).
   */
  translateKernel(vaddr: number, write: boolean, quiet: boolean): number | null {
    if (vaddr < VMALLOC_BASE || vaddr >= FRAME_METADATA_CAP) return vaddr - LINEAR_MAPPING_BASE;
    const t = this.translate(vaddr, write, false, quiet);
    if ("fault" in t) {
      if (quiet) return null;
      const why = t.present ? "is mapped without WRITABLE at some level" : "is not mapped";
      return this.report("page-table", `kernel page fault: 0x${vaddr.toString(16)} ${why} in the kernel half of the active page table (CR3 0x${this.currentRoot().toString(16)})`, {
        label: "access to an unmapped kernel address",
        help: [{ message: "map the page (a leaf entry with VALID) before using the address, and keep it mapped while pointers to it are in use" }],
      });
    }
    return t.paddr;
  }

  /**
   * A translation by the current CPU's MMU: the TLB first (checked for staleness), else a walk
   * whose leaf is checked and cached. A fault (unmapped, or a forbidden access) is returned.
   */
  translate(vaddr: number, write: boolean, user: boolean, quiet: boolean): { paddr: number; flags: number } | { fault: true; present: boolean } {
    const cpu = this.mmu[this.currentCpu()]!;
    const hit = cpu.tlb.lookup(vaddr);
    if (hit !== undefined) {
      const pte = this.pages.read64(hit.pteAddr);
      if (!quiet && isStale(hit, pte, this.generationOf(hit.pbase, hit.size))) {
        const help: HelpLine[] = [];
        const filled = this.fillSites.get(hit);
        if (filled !== undefined && filled >= 0) help.push({ message: `the TLB entry was filled here:`, location: this.host.siteLocation(filled) });
        const freed = this.pages.lastFreedSite(hit.pbase, hit.size);
        if (freed >= 0) help.push({ message: `the frame was freed or retyped here:`, location: this.host.siteLocation(freed) });
        help.push({ message: "after unmapping, flush the TLB of every CPU that may cache the mapping before the frame is reused: `tlb_flush_addr` here, `inter_processor_call` on the others (OSTD's `TlbFlusher`)" });
        this.report("stale-tlb", `access to 0x${vaddr.toString(16)} through a stale TLB entry of CPU ${this.currentCpu()}: its page-table entry changed and the frame it mapped (0x${hit.pbase.toString(16)}) was freed or retyped since, but this CPU's TLB was not flushed`, {
          label: "use of a stale TLB entry",
          help,
        });
      }
      const off = vaddr - hit.vbase;
      if ((write && !(hit.flags & PteFlags.WRITABLE)) || (user && !(hit.flags & PteFlags.USER))) return { fault: true, present: true };
      return { paddr: hit.pbase + off, flags: hit.flags };
    }
    const t = walk(cpu.cr3, vaddr, (p) => this.pages.read64(p));
    if (t.fault) return { fault: true, present: false };
    // A quiet translation (making a pointer) is no access: it neither checks nor fills the TLB.
    if (quiet) return { paddr: t.paddr, flags: t.flags };
    this.checkFill(t, vaddr);
    const entry = tlbEntryFor(vaddr, t, this.generationOf(t.leafPaddr, t.size));
    cpu.tlb.fill(entry);
    this.fillSites.set(entry, this.host.currentSite());
    if ((write && !(t.flags & PteFlags.WRITABLE)) || (user && !(t.flags & PteFlags.USER))) return { fault: true, present: true };
    return { paddr: t.paddr, flags: t.flags };
  }

  /** The generation of the frames a leaf of `size` bytes maps (bumped by each free or retype). */
  private generationOf(pbase: number, size: number): number {
    return size > PAGE_SIZE ? this.phys.generationSum(pbase, size / PAGE_SIZE) : this.phys.generation(pbase);
  }

  /** The rules of `activate_page_table` for one leaf the MMU is about to cache. */
  private checkFill(t: Translation, vaddr: number): void {
    const problem = checkLeaf(vaddr, t, (p) => this.phys.state(p), { isMmioHole: (p) => this.isMmioHole(p), skipLinearMap: true });
    if (problem !== null) {
      this.report("page-table", `the MMU translated 0x${vaddr.toString(16)} through a bad leaf entry: ${problem.message}`, {
        label: "translation through a bad page-table entry",
        help: [{ message: `the leaf entry is at physical address 0x${t.pteAddr.toString(16)} (level ${t.level})` }],
      });
    }
  }

  /** A user address where a kernel access needs one (`memcpy_volatile`): a fault is `page-table`. */
  translateKernelOrUser(vaddr: number, write: boolean): number {
    const t = this.translate(vaddr, write, false, false);
    if ("fault" in t) {
      return this.report("page-table", `page fault at 0x${vaddr.toString(16)} in an infallible kernel copy: the address is not mapped (or not ${write ? "writable" : "readable"}) in the active page table`, {
        label: "page fault in an infallible copy",
        help: [{ message: "user memory is reached with the fallible copies (`memcpy_fallible`, OSTD's `VmReader<Fallible>`), which return the bytes not copied instead" }],
      });
    }
    return t.paddr;
  }

  /** A user address (`memcpy_fallible`'s): its physical address, after the page-fault handler had its chance; `null` on a fault. */
  translateUser(vaddr: number, write: boolean): number | null {
    if (vaddr < 0 || vaddr > MAX_USERSPACE_VADDR + PAGE_SIZE - 1) return null;
    for (let attempt = 0; attempt < 2; attempt++) {
      const t = this.translate(vaddr, write, true, false);
      if (!("fault" in t)) return t.paddr;
      if (attempt === 1 || this.userFaultHandler === null) return null;
      if (!this.userFaultHandler({ vaddr, write, present: t.present })) return null;
    }
    return null;
  }

  // ── IOMMU, DMA streams, I/O claims ──

  /** `iommu.map`: only allocated untyped pages may be mapped for a device. */
  iommuMap(daddr: number, paddr: number, writable: boolean): void {
    const st = this.phys.state(paddr);
    if (st.state !== "untyped") {
      this.report("dma", `mapping physical page 0x${paddr.toString(16)} for a device, but it is ${st.state === "typed" ? `typed \`${st.type}\`` : st.state}: only allocated untyped pages may be reached by devices`, {
        label: "IOMMU mapping of a page a device must not reach",
        help: [{ message: "DMA buffers are untyped frames (`alloc_pages`); a typed page holds kernel objects a device could corrupt" }],
      });
    }
    const problem = this.iommu.map(daddr, paddr, writable);
    if (problem !== null) this.report("dma", `\`iommu.map\`: ${problem}`, { label: "bad IOMMU mapping" });
  }

  /** `iommu.unmap`. */
  iommuUnmap(daddr: number): void {
    const problem = this.iommu.unmap(daddr);
    if (problem !== null) this.report("dma", `\`iommu.unmap\`: ${problem}`, { label: "bad IOMMU unmapping" });
  }

  /** A streaming-DMA annotation (`dma_stream_begin`, `_end`, `dma_sync_for_device`, `_for_cpu`). */
  dmaCall(fn: "dma_stream_begin" | "dma_stream_end" | "dma_sync_for_device" | "dma_sync_for_cpu", paddr: number, len: number, direction?: "to-device" | "from-device" | "bidirectional"): void {
    const d = this.dma;
    const problem =
      fn === "dma_stream_begin" ? d.begin(paddr, len, direction!) : fn === "dma_stream_end" ? d.end(paddr, len) : fn === "dma_sync_for_device" ? d.syncForDevice(paddr, len) : d.syncForCpu(paddr, len);
    if (problem !== null && problem !== undefined) this.report("dma", `\`${fn}\`: ${problem}`, { label: `bad \`${fn}\`` });
  }

  /** `io_mem_claim` / `io_port_claim`: overlapping claims are `mmio`. */
  ioClaim(what: "mmio" | "ports", start: number, len: number): void {
    const io = this.devices.io;
    const problem = what === "mmio" ? io.claimMmio(start, len) : io.claimPorts(start, len);
    if (problem !== null) this.report("mmio", `\`${what === "mmio" ? "io_mem_claim" : "io_port_claim"}\`: ${problem}`, { label: "overlapping I/O claim" });
  }

  /** `io_mem_release` / `io_port_release`. */
  ioRelease(what: "mmio" | "ports", start: number, len: number): void {
    const io = this.devices.io;
    const problem = what === "mmio" ? io.releaseMmio(start, len) : io.releasePorts(start, len);
    if (problem !== null) this.report("mmio", `\`${what === "mmio" ? "io_mem_release" : "io_port_release"}\`: ${problem}`, { label: "bad I/O release" });
  }

  // ── reports ──

  /** Stops the run with a finding at the current site (the Machine's report). */
  report(kind: UBKind, message: string, options: ReportOptions & { help?: HelpLine[] } = {}): never {
    return this.host.report(kind, message, { title: kind === "unsupported" ? "unsupported operation" : undefined, ...options });
  }

  /** A reference's place through a vmalloc or metadata pointer (see pointers.ts `concretePointer`). */
  concrete(addr: number, marker: Allocation, layout: Layout<unknown>, mutable: boolean): { address: number; provenance: Allocation; tag: number } | null {
    return concretePointer(this, addr, marker, layout, mutable);
  }

  /** A pointer to kernel address `addr` (`ptr_from_exposed` / `phys_ptr` of a linear, vmalloc or metadata address). */
  pointer(addr: number): { provenance: Allocation | null; tag: number } {
    return kernelPointer(this, addr);
  }
}
