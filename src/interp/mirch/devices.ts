/**
 * Devices on Mirch: attaching device models, routing MMIO and port I/O to them, their DMA through
 * the IOMMU, and hostile mode.
 *
 * **MMIO.** A pointer into an MMIO hole carries a marker (pointers.ts), so every access to it
 * reaches {@link Devices.mmioAccess} through the memory's resolver. Only volatile accesses of 1, 2,
 * 4 or 8 naturally aligned bytes of an integer layout, inside a claimed range where a device
 * answers, reach the device; anything else is `mmio`. The access itself happens on a small
 * scratch allocation: a read finds the device's value there, a write leaves its value there for
 * the runtime's `write_volatile`, which hands it to the device once the store is done
 * ({@link Devices.completeWrite}).
 *
 * **When a device runs.** Its `run` runs right after each MMIO or port write to it, in the
 * writer's turn (the doorbell), so a device's DMA finding is reported at the driver's doorbell
 * write. A hostile device also runs at scheduling decisions (an actor of the Machine) and right
 * before each CPU access to memory mapped in the IOMMU, so that it can rewrite shared memory
 * between two CPU reads of it (a double fetch) when its seeded choices say so.
 *
 * **DMA.** A device reaches memory only through IOMMU mappings of untyped pages; each access is
 * checked against the mapping (present, writable) and streaming-DMA ownership (dma-streams). DMA
 * to untyped memory is never a data race (mirch.d.ts): the race detector does not track untyped
 * memory at all. A device is an actor of the race detector of its own (a slot after the CPUs'
 * interrupt contexts): a CPU's access to it (a doorbell) orders the CPU's past before the device,
 * its answer to a read orders the device's past before the reading CPU, and the interrupt it
 * raises orders the device's past before the handler. (Streaming-DMA syncs order nothing more:
 * the buffers are untyped memory, which no race check reads.)
 *
 * @module
 */
import { FRAME_METADATA_CAP, IOMMU_DADDR_END, LINEAR_MAPPING_BASE, PAGE_SIZE } from "../../mirch/constants.js";
import { describeValue } from "../memory/layouts.js";
import type { DeviceContext, DeviceModel } from "../../mirch/device-model.js";
import { IoSpace } from "../../mirch/io-space.js";
import { consoleDevice } from "../../mirch/devices/console.js";
import type { Allocation } from "../memory/allocation.js";
import { guestRealm } from "../guest-realm.js";
import type { LineState } from "./interrupts.js";
import { VectorClock } from "../../concurrency/vector-clock.js";
import type { MirchMachine } from "./mirch-machine.js";

/** The console's fixed ports (COM1), attached by firmware. */
export const CONSOLE_PORT = 0x3f8;

/** An attached device. */
export interface Attached {
  readonly index: number;
  readonly model: DeviceModel;
  readonly name: string;
  readonly hostile: boolean;
  readonly mmio?: { readonly paddr: number; readonly len: number };
  readonly ports?: { readonly base: number; readonly len: number };
  readonly irq?: LineState;
  /** What the model's handlers receive. */
  readonly ctx: DeviceContext;
  /** The device's slot in the race detector (an actor of its own), once it ran. */
  readonly raceId: number;
  raceCreated: boolean;
  /** Released by a CPU's access to the device (a doorbell), acquired by the device. */
  readonly toDevice: VectorClock;
  /** Released by the device when it answers a read, acquired by the reading CPU. */
  readonly fromDevice: VectorClock;
}

/** Options of `attach_device`. */
export interface AttachOptions {
  mmio_len?: number;
  ports?: number;
  irq?: boolean;
  hostile?: boolean;
}

/** The devices of one Machine's Mirch. */
export class Devices {
  readonly io = new IoSpace();
  readonly list: Attached[] = [];
  /** Where MMIO accesses happen (8 bytes, outside every region a program reaches). */
  private scratch: Allocation | null = null;
  /** A write whose value is in the scratch, for the device once the store is done. */
  private pendingWrite: { d: Attached; offset: number; size: 1 | 2 | 4 | 8 } | null = null;
  /** Hostile devices (for the double-fetch chances). */
  private readonly hostile: Attached[] = [];
  /**
   * The program's stack depth where the running device model was entered (the driver's MMIO or
   * port access, the doorbell), or -1: a device's finding is the driver's, reported there even
   * when the model is program code with frames of its own.
   */
  private entrySp = -1;

  constructor(private readonly mm: MirchMachine) {
    // Firmware's console: a 16550 on COM1, whose output is the run's output.
    const console = consoleDevice((line) => mm.host.print(line));
    this.attach(console, { ports: 8 }, CONSOLE_PORT);
  }

  /** `attach_device(model, options)`; `portBase` places the ports (firmware's console). */
  attach(model: DeviceModel, options: AttachOptions = {}, portBase?: number): Attached {
    const mm = this.mm;
    if (typeof model !== "object" || model === null || typeof model.name !== "string") {
      mm.report("unsupported", "`attach_device` needs a device model: an object with a `name` string and the handlers of `DeviceModel`", {});
    }
    const index = this.list.length;
    const hostile = mm.hostileAll || options.hostile === true;
    let mmio: Attached["mmio"];
    const wantsMmio = options.mmio_len !== undefined || typeof model.mmio_read === "function" || typeof model.mmio_write === "function";
    if (wantsMmio && portBase === undefined) {
      const len = options.mmio_len ?? PAGE_SIZE;
      if (!Number.isInteger(len) || len <= 0 || len % PAGE_SIZE !== 0) {
        mm.report("unsupported", `\`attach_device\`: mmio_len ${len} is not a positive multiple of the page size`, {});
      }
      const w = this.io.allocateMmio(index, len);
      if (typeof w === "string") return mm.report("unsupported", `\`attach_device\`: ${w}`, {});
      mmio = { paddr: w.base, len: w.len };
    }
    let ports: Attached["ports"];
    if (options.ports !== undefined && options.ports > 0) {
      const w = portBase === undefined ? this.io.allocatePorts(index, options.ports) : this.io.addPorts(index, portBase, options.ports);
      if (typeof w === "string") return mm.report("unsupported", `\`attach_device\`: ${w}`, {});
      ports = { base: w.base, len: w.len };
    }
    const irq = options.irq ? mm.interrupts.allocLine(undefined) : undefined;
    const ctx = this.context(() => this.list[index]!);
    const d: Attached = {
      index, model, name: model.name, hostile, mmio, ports, irq, ctx,
      raceId: 2 * mm.cpus + index, raceCreated: false, toDevice: new VectorClock(), fromDevice: new VectorClock(),
    };
    this.list.push(d);
    if (hostile) {
      this.hostile.push(d);
      mm.host.addActor({
        name: d.name,
        kind: "device",
        rate: 0.5,
        step: () => {
          this.run(d);
          return "progress";
        },
      });
    }
    return d;
  }

  // ── MMIO ──

  /** An access through an MMIO marker at physical address `paddr` (`vaddr` as the program wrote it): the scratch it happens on. */
  mmioAccess(paddr: number, size: number, vaddr: number): Allocation {
    const mm = this.mm;
    const memory = mm.memory;
    const write = memory.accessWrite;
    const at = `0x${vaddr.toString(16)} (MMIO, physical 0x${paddr.toString(16)})`;
    const what = `${write ? "write" : "read"} of ${size} byte${size === 1 ? "" : "s"} at ${at}`;
    if (memory.accessMode !== "volatile") {
      this.mmioReport(`${memory.accessMode === "atomic" ? "atomic" : "non-volatile"} ${what}: device registers take only \`read_volatile\` and \`write_volatile\``, "non-volatile MMIO access", [
        { message: "a plain access may be merged, split, reordered or elided by the compiler; MMIO needs `read_volatile`/`write_volatile` (OSTD's `IoMem::read_once`/`write_once`)" },
      ]);
    }
    const layout = memory.accessLayout;
    if (layout === null || layout.kind !== "int" || (size !== 1 && size !== 2 && size !== 4 && size !== 8)) {
      this.mmioReport(`${what} as \`${layout?.name ?? "bytes"}\`: a device register is read and written as an integer of 1, 2, 4 or 8 bytes`, "MMIO access of the wrong size or type");
    }
    const { d, offset } = this.route(paddr, size, what);
    const scratch = this.scratchAllocation();
    const view = scratch.view;
    if (write) {
      this.pendingWrite = { d, offset, size: size as 1 | 2 | 4 | 8 };
    } else {
      writeLE(view, size, this.deviceRead(d, offset, size as 1 | 2 | 4 | 8));
    }
    memory.translated = scratch.base;
    return scratch;
  }

  /** The device register at `paddr` for an access of `size` bytes (`what` names it in reports): aligned, claimed, answered. */
  private route(paddr: number, size: number, what: string): { d: Attached; offset: number } {
    if (paddr % size !== 0) this.mmioReport(`unaligned ${what}: MMIO accesses must be naturally aligned`, "unaligned MMIO access");
    const hit = this.io.mmioAt(paddr);
    if (hit === null) this.mmioReport(`${what}, where no device answers`, "MMIO access to a hole with no device");
    if (!this.io.mmioClaimed(paddr, size)) {
      this.mmioReport(`${what}, outside every claimed MMIO range`, "MMIO access outside the claimed range", [
        { message: "claim the device's registers first (`io_mem_claim(paddr, len)`; OSTD's `IoMem` allocator does), and stay inside what was claimed" },
      ]);
    }
    return { d: this.list[hit!.device]!, offset: hit!.offset };
  }

  private deviceRead(d: Attached, offset: number, size: 1 | 2 | 4 | 8): number | bigint {
    const v = this.inDevice(d, "both", () => (d.model.mmio_read ? d.model.mmio_read(offset, size, d.ctx) : 0));
    return this.registerValue(d, "mmio_read", size, v);
  }

  /**
   * What a model's `mmio_read`/`port_read` returned, checked: a register read gives `size` bytes,
   * so an integer (number or bigint) that fits them, signed or not (`-1` is all ones, as in C's
   * `~0`). Anything else ("x", 1.5, 2 ** 40 for 4 bytes) is the model's mistake, reported at the
   * driver's access rather than read as some number.
   */
  private registerValue(d: Attached, op: string, size: number, v: unknown): number | bigint {
    const bits = BigInt(8 * size);
    const ok =
      (typeof v === "number" && Number.isInteger(v)) || typeof v === "bigint"
        ? BigInt(v as number | bigint) >= -(1n << (bits - 1n)) && BigInt(v as number | bigint) < 1n << bits
        : false;
    if (!ok) {
      this.mm.report("unsupported", `device model \`${d.name}\`'s \`${op}\` returned ${describeValue(v)} for a read of ${size} byte${size === 1 ? "" : "s"}: a register read gives an integer that fits its size`, {
        title: "unsupported operation",
      });
    }
    return v as number | bigint;
  }

  /**
   * A volatile device read or write of `size` bytes at MMIO address `paddr` made by a Mirch copy
   * (`memcpy_volatile`, `memcpy_fallible`: volatile device accesses of at most 8 bytes).
   */
  copyAccess(paddr: number, size: 1 | 2 | 4 | 8, write: boolean, value = 0n): bigint {
    const what = `${write ? "write" : "read"} of ${size} byte${size === 1 ? "" : "s"} at MMIO address 0x${paddr.toString(16)} by a copy`;
    const { d, offset } = this.route(paddr, size, what);
    if (!write) return BigInt.asUintN(64, BigInt(this.deviceRead(d, offset, size)));
    const v = size === 8 ? value : Number(value);
    this.inDevice(d, "to", () => d.model.mmio_write?.(offset, size, v, d.ctx));
    this.run(d);
    return 0n;
  }

  /** Called by `write_volatile` after its store: the value written to MMIO reaches the device, which then runs. */
  completeWrite(): void {
    const p = this.pendingWrite;
    if (p === null) return;
    this.pendingWrite = null;
    const v = readLE(this.scratch!.view, p.size);
    this.inDevice(p.d, "to", () => p.d.model.mmio_write?.(p.offset, p.size, v, p.d.ctx));
    this.run(p.d);
  }

  private scratchAllocation(): Allocation {
    if (this.scratch === null) {
      this.scratch = this.mm.memory.allocateAt(FRAME_METADATA_CAP, 8, 8, "mmio", -1, false);
      this.scratch.markInit(0, 8);
    }
    return this.scratch;
  }

  private mmioReport(message: string, label: string, help: { message: string }[] = []): never {
    return this.mm.report("mmio", message, { label, help });
  }

  // ── ports ──

  /** `port_read(port, size)`. */
  portRead(port: number, size: number): number {
    const { d, offset } = this.portCheck(port, size, "read");
    const v = this.inDevice(d, "both", () => (d.model.port_read ? d.model.port_read(offset, size as 1 | 2 | 4, d.ctx) : 0));
    return Number(this.registerValue(d, "port_read", size, v));
  }

  /** `port_write(port, size, value)`. */
  portWrite(port: number, size: number, value: number): void {
    const { d, offset } = this.portCheck(port, size, "write");
    this.inDevice(d, "to", () => d.model.port_write?.(offset, size as 1 | 2 | 4, value, d.ctx));
    this.run(d);
  }

  private portCheck(port: number, size: number, op: string): { d: Attached; offset: number } {
    // `size` is the program's argument, as it passed it (a symbol or an object has no template string)
    const bytes = typeof size === "number" ? `${size} byte${size === 1 ? "" : "s"}` : `${describeValue(size)} bytes`;
    const what = `port ${op} of ${bytes} at port 0x${Number(port).toString(16)}`;
    if (size !== 1 && size !== 2 && size !== 4) this.mmioReport(`${what}: port I/O is 1, 2 or 4 bytes`, "port access of the wrong size");
    if (!Number.isInteger(port) || port < 0 || port > 0xffff) this.mmioReport(`${what}: ports are 16-bit numbers`, "bad port");
    const hit = this.io.portAt(port);
    if (hit === null) this.mmioReport(`${what}, where no device answers`, "port access with no device");
    if (!this.io.portClaimed(port)) {
      this.mmioReport(`${what}, outside every claimed port range`, "port access outside the claimed range", [
        { message: "claim the ports first (`io_port_claim(port, len)`; OSTD's `IoPort` allocator does)" },
      ]);
    }
    return { d: this.list[hit!.device]!, offset: hit!.offset };
  }

  // ── running devices ──

  /** Runs `d`'s own activity (after a doorbell, or as a hostile actor). */
  run(d: Attached): void {
    if (d.model.run) this.inDevice(d, "none", () => d.model.run!(d.ctx));
  }

  /**
   * Runs a device model's handler as the device: its findings located at the program's access that
   * entered it, and for the race detector the device acting, with the edges mirch.d.ts names — a
   * CPU's access to it (`to`: a doorbell) orders the CPU's past before it; its answer to a read
   * (`both`) orders the device's past before the CPU's future; its own activity (`none`: a hostile
   * device running between two CPU reads) is ordered with nothing.
   */
  private inDevice<R>(d: Attached, edge: "to" | "both" | "none", f: () => R): R {
    const outer = this.entrySp;
    if (outer < 0) this.entrySp = this.mm.host.sp;
    const races = this.mm.host.dataRaces;
    const det = races.detector;
    const from = races.thread();
    const nested = from === d.raceId;
    if (nested) {
      // The model's own handler made a CPU access (MMIO, a port) that reached the device again:
      // a model acts through its DeviceContext. Reported at the driver's access that entered it,
      // before the recursion exhausts the host's stack (a depth that is not the program's).
      this.mm.host.sp = this.entrySp;
      this.mm.report("unsupported", `device model \`${d.name}\` was entered again from its own handler: a device model reaches memory and raises interrupts through its \`DeviceContext\`, not with the CPU's MMIO or port accesses`, {
        title: "unsupported operation",
      });
    }
    if (!nested) {
      if (!d.raceCreated) {
        d.raceCreated = true;
        races.spawn(from, d.raceId);
      }
      if (edge !== "none") {
        det.lockRelease(d.toDevice, from);
        det.lockAcquire(d.toDevice, d.raceId);
      }
      races.setThread(d.raceId);
    }
    try {
      return f();
    } finally {
      if (!nested) {
        races.setThread(from);
        if (edge === "both") {
          det.lockRelease(d.fromDevice, d.raceId);
          det.lockAcquire(d.fromDevice, from);
        }
      }
      this.entrySp = outer;
    }
  }

  /** The race-detector name of slot `t` when it is a device's (`device \`virtio-blk\``). */
  raceName(t: number): string | undefined {
    const d = this.list[t - 2 * this.mm.cpus];
    return d === undefined ? undefined : `device \`${d.name}\``;
  }

  /** A finding of a device's access: at the driver's access that made the device run. */
  private deviceReport(kind: "dma" | "page-state", message: string, options: { label?: string; help?: { message: string }[] } = {}): never {
    const host = this.mm.host;
    if (this.entrySp >= 0) host.sp = this.entrySp;
    return this.mm.report(kind, message, options);
  }

  /**
   * Before a CPU access to untyped memory mapped in the IOMMU: every hostile device runs first, so
   * that it may rewrite what the CPU reads twice (a double fetch); whether it does is its own
   * choice (`choose`, decided by the seed).
   */
  beforeCpuAccess(paddr: number, size: number): void {
    if (this.hostile.length === 0 || !this.mm.iommu.isMapped(paddr - (paddr % PAGE_SIZE))) return;
    void size;
    for (const d of this.hostile) this.run(d);
  }

  // ── what a device can do ──

  /** The context handed to `d`'s model: DMA through the IOMMU, its interrupt line, Iago values. */
  private context(d: () => Attached): DeviceContext {
    const mm = this.mm;
    const realm = guestRealm();
    const U8 = realm.global.Uint8Array as Uint8ArrayConstructor;
    const ctx: DeviceContext = {
      dma_read: (daddr, len) => {
        this.dmaRange(d(), daddr, len, false); // before the buffer is made: a length is the model's
        const out = new U8(len);
        this.dma(d(), daddr, len, false, (a, off, i, n) => out.set(new Uint8Array(a.view.buffer, a.view.byteOffset + off, n), i));
        return out;
      },
      dma_write: (daddr, bytes) => {
        const src = Uint8Array.from(bytes);
        this.dma(d(), daddr, src.length, true, (a, off, i, n) => {
          new Uint8Array(a.view.buffer, a.view.byteOffset + off, n).set(src.subarray(i, i + n));
          a.markInit(off, n);
        });
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
        if (line !== undefined) mm.interrupts.raise(line);
      },
      choose: (honest, bits, bounds) => {
        if (!d().hostile) return honest;
        if (mm.rng.below(2) === 0) return honest;
        const max = bits === 32 ? 0xffffffff : 2 ** bits - 1;
        const choices = [0, max, ...(bounds ?? [])].filter((x) => typeof x === "number");
        return choices[mm.rng.below(choices.length)]!;
      },
      get hostile() {
        return d().hostile;
      },
    };
    // The program's own device models receive it: it must belong to the program's realm.
    realm.admit(ctx);
    return ctx;
  }

  /**
   * What a DMA access is, for its reports; a range that is not one of device addresses (not
   * integers, negative, past `IOMMU_DADDR_END`: the model's mistake) is reported here.
   */
  private dmaRange(d: Attached, daddr: unknown, len: unknown, write: boolean): string {
    const num = typeof len === "number" ? `${len} byte${len === 1 ? "" : "s"}` : describeValue(len);
    const at = typeof daddr === "number" && Number.isInteger(daddr) ? `0x${daddr.toString(16)}` : describeValue(daddr);
    const what = `DMA ${write ? "write" : "read"} of ${num} at device address ${at} by device \`${d.name}\``;
    if (typeof daddr !== "number" || typeof len !== "number" || !Number.isInteger(daddr) || !Number.isInteger(len) || daddr < 0 || len < 0) {
      this.deviceReport("dma", `${what}: not a valid range`, {});
    }
    if (daddr + len > IOMMU_DADDR_END) this.deviceReport("dma", `${what}: device addresses end at 0x${IOMMU_DADDR_END.toString(16)}`, {});
    return what;
  }

  /**
   * A device access of `len` bytes at device address `daddr`: each page through the IOMMU
   * (mapped, writable for a write), each byte range checked against streaming-DMA ownership, then
   * `each(allocation, offset, index in the transfer, bytes)`.
   */
  private dma(d: Attached, daddr: number, len: number, write: boolean, each: (a: Allocation, off: number, i: number, n: number) => void): void {
    const mm = this.mm;
    const what = this.dmaRange(d, daddr, len, write);
    for (let i = 0; i < len; ) {
      const at = daddr + i;
      const pageOff = at % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - pageOff, len - i);
      const t = mm.iommu.translate(at - pageOff);
      if (t === null) {
        this.deviceReport("dma", `${what}: 0x${at.toString(16)} is not mapped in the IOMMU`, {
          label: "device access to an unmapped device address",
          help: [{ message: "a device reaches only what the driver mapped for it (`iommu.map`; OSTD's `DmaCoherent`/`DmaStream`), and only until it is unmapped" }],
        });
      }
      if (write && !t!.writable) this.deviceReport("dma", `${what}: 0x${at.toString(16)} is mapped read-only in the IOMMU`, { label: "device write to a read-only DMA mapping" });
      const paddr = t!.paddr + pageOff;
      const problem = write ? mm.dma.deviceWrite(paddr, n) : mm.dma.deviceRead(paddr, n);
      if (problem !== null) {
        this.deviceReport("dma", `${what}: ${problem}`, {
          label: "device access to a DMA stream buffer the CPU owns",
          help: [{ message: "hand a streaming buffer to the device with `dma_sync_for_device` (OSTD's `DmaStream::sync`) after the CPU wrote it, and back with `dma_sync_for_cpu` before the CPU reads what the device wrote" }],
        });
      }
      const a = mm.pages.at(paddr);
      if (a === null) this.deviceReport("page-state", `${what}: physical page 0x${paddr.toString(16)} is not allocated`);
      each(a!, LINEAR_MAPPING_BASE + paddr - a!.base, i, n);
      i += n;
    }
  }
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
