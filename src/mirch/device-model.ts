/**
 * The device-model interface of Mirch (the "devices" section of `kmiri/mirch`'s contract): what a
 * simulator author implements to put a device on the Machine, and what the Machine hands the device
 * in return. Engine-free: a model sees memory only through its {@link DeviceContext}, so the same
 * model runs on the checked Machine (where every DMA access is the device's own, checked through
 * the IOMMU and ordered by the device's vector clock) and on the native shims (plain Node).
 *
 * Why the interface is so small: a device is an actor like a CPU. Its register handlers answer the
 * CPU's MMIO and port accesses synchronously; everything else it does (walking rings, copying data,
 * raising its interrupt) happens in `run`, which the scheduler interleaves with the CPUs' threads.
 * A hostile device differs from an honest one only in what `choose` returns and in how often `run`
 * is scheduled, so the seed, not the model, decides which lie a driver meets.
 */

/**
 * The part of an interrupt line a device description needs: its number. The engine's real line
 * (`IrqLine` in `kmiri/mirch`, with `on_active`, `set_affinity`, `raise`) satisfies it; keeping this
 * minimal lets the models and their tests live without the engine.
 */
export interface IrqLineLike {
  /** The interrupt number, in [`IRQ_NUM_MIN`, `IRQ_NUM_MAX`]. */
  readonly num: number;
}

/**
 * A device model: the registers a driver sees and the work the device does on its own.
 *
 * Each attached device is an actor with its own vector clock; its `run` is scheduled like a CPU
 * thread, so its DMA interleaves with the CPUs' accesses. Every member but `name` is optional: a
 * port-only device leaves out the MMIO handlers, a device that never does DMA leaves out `run`.
 *
 * @example
 * ```ts
 * const scratch: DeviceModel = {
 *   name: "scratch",
 *   port_read: () => 0x42,
 * };
 * ```
 */
export interface DeviceModel {
  /** A short name, shown in reports that involve the device (the actor's name). */
  readonly name: string;
  /**
   * A volatile MMIO read of `size` bytes at `offset` into the device's window. 8-byte reads may
   * return a `bigint` (the full 64 bits); smaller ones return an unsigned number.
   */
  mmio_read?(offset: number, size: 1 | 2 | 4 | 8, dev: DeviceContext): number | bigint;
  /** A volatile MMIO write of `size` bytes at `offset`; an 8-byte value may arrive as a `bigint`. */
  mmio_write?(offset: number, size: 1 | 2 | 4 | 8, value: number | bigint, dev: DeviceContext): void;
  /** An `in` of `size` bytes at `offset` into the device's port range. */
  port_read?(offset: number, size: 1 | 2 | 4, dev: DeviceContext): number;
  /** An `out` of `size` bytes at `offset` into the device's port range. */
  port_write?(offset: number, size: 1 | 2 | 4, value: number, dev: DeviceContext): void;
  /**
   * The device's own activity (processing its queues); returns when it has nothing left to do.
   * Scheduled as an actor after each MMIO or port write to the device, and, for a hostile device,
   * also at the CPUs' preemption points. The register handlers above may do DMA too.
   */
  run?(dev: DeviceContext): void;
}

/**
 * What a device can do, handed to every handler of a {@link DeviceModel}. DMA addresses are
 * device addresses (`daddr`): they go through the IOMMU and are checked as the device's accesses
 * (an unmapped page, a write to a read-only mapping, a streaming buffer the CPU still owns). Multi-byte
 * values are little-endian, as everything on Mirch.
 */
export interface DeviceContext {
  /** Reads `len` bytes at device address `daddr` (a copy: later writes do not show through). */
  dma_read(daddr: number, len: number): Uint8Array;
  /** Writes `bytes` at device address `daddr`. */
  dma_write(daddr: number, bytes: Uint8Array): void;
  /** Reads a little-endian `u16` at `daddr`. */
  dma_read_u16(daddr: number): number;
  /** Reads a little-endian `u32` at `daddr` (unsigned). */
  dma_read_u32(daddr: number): number;
  /** Writes the low 16 bits of `value` at `daddr`, little-endian. */
  dma_write_u16(daddr: number, value: number): void;
  /** Writes the low 32 bits of `value` at `daddr`, little-endian. */
  dma_write_u32(daddr: number, value: number): void;
  /** Raises the device's interrupt line (nothing happens when it was attached without one). */
  raise_irq(): void;
  /**
   * Iago values: the single place where a hostile device lies. An honest device gets `honest`
   * back; a hostile one gets, as the seed decides, `honest` or one of the values that break
   * drivers: 0, the largest value of `bits` bits, or one of the `bounds` the model names (a ring
   * size, the size plus one, an index just freed, a length past the end of a buffer).
   */
  choose(honest: number, bits: 8 | 16 | 32, bounds?: readonly number[]): number;
  /** Whether the device was attached hostile for this run. */
  readonly hostile: boolean;
}

/**
 * A device as attached to the Machine: where the driver finds it. The interrupt line's type is a
 * parameter so that engine-free code can describe a device with an {@link IrqLineLike} while the
 * engine hands out its full `IrqLine`.
 */
export interface AttachedDevice<Irq extends IrqLineLike = IrqLineLike> {
  /** The model's name. */
  readonly name: string;
  /** The MMIO window (page-aligned, in an MMIO hole), when the device has one. */
  readonly mmio?: { readonly paddr: number; readonly len: number };
  /** The port range, when the device has one. */
  readonly ports?: { readonly base: number; readonly len: number };
  /** The interrupt line, when the device was attached with `irq: true`. */
  readonly irq?: Irq;
}

/**
 * A device model reduced to its `DeviceModel` methods, each calling the model's: what a program
 * gets of a model that ships with Mirch, so that the model's own state (a disk's bytes, buffers of
 * the host's realm) stays out of its reach.
 */
export function modelMethods(model: DeviceModel): DeviceModel {
  const f: { -readonly [K in keyof DeviceModel]?: DeviceModel[K] } = { name: model.name };
  for (const key of ["mmio_read", "mmio_write", "port_read", "port_write", "run"] as const) {
    const method = model[key] as ((...args: unknown[]) => unknown) | undefined;
    if (method !== undefined) (f as Record<string, unknown>)[key] = (...args: unknown[]) => method.apply(model, args);
  }
  return f as DeviceModel;
}
