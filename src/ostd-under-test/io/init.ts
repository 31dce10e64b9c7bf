// Setting up device I/O for the io tests on a fresh Machine: the devices (the platform's part:
// firmware's and a test bench's), the system devices OSTD keeps from drivers, and `io::init`.
// Separate from boot.ts (another module's); idempotent within a Machine, cheap.
import { panic, spin_loop, u8 } from "kmiri/rt";
import {
  COM1_BASE,
  UART_PORTS,
  attach_device,
  console_device,
  io_mem_ranges,
  type AttachedDevice,
  type DeviceModel,
} from "../arch/io.js";
import { IoMemAllocatorBuilder, type IoMem, type Sensitive } from "./io_mem/index.js";
import { init as io_init } from "./index.js";
import { IoPort, ReadOnlyAccess, WriteOnlyAccess, reserve_io_port_range, sensitive_io_port } from "./io_port/index.js";

// OSTD's system drivers declare their ports; these are the ones Mirch's firmware has: the serial
// console at COM1 (OSTD's `arch/x86/serial`), and the legacy PIC (OSTD's `arch/x86/irq/pic`),
// which Mirch does not model but a driver must not get either.
//
// The serial driver's two registers, as OSTD's `sensitive_io_port!` statics: the data register
// (transmit holding) and the line status. The rest of the UART is reserved.
let serial_data: IoPort<number, WriteOnlyAccess>;
let serial_line_status: IoPort<number, ReadOnlyAccess>;
unsafe: {
  // SAFETY: COM1 is the firmware's console UART; these ports are its registers, used only by the
  // serial driver, and overlap no other sensitive port.
  serial_data = sensitive_io_port(u8, WriteOnlyAccess, COM1_BASE);
  serial_line_status = sensitive_io_port(u8, ReadOnlyAccess, COM1_BASE + 5);
}
/** COM1's transmit holding register. */
export const SERIAL_DATA = serial_data;
/** COM1's line status register. */
export const SERIAL_LINE_STATUS = serial_line_status;
reserve_io_port_range(COM1_BASE + 1, COM1_BASE + 5);
reserve_io_port_range(COM1_BASE + 6, COM1_BASE + UART_PORTS);
reserve_io_port_range(0x20, 0x22);
reserve_io_port_range(0xa0, 0xa2);

/** Writes `s` to the console through the serial driver's ports (OSTD's early `print`). */
export function serial_print(s: string): void {
  for (const c of s) {
    // Wait for "transmit holding register empty".
    while ((SERIAL_LINE_STATUS.read() & 0x20) === 0) spin_loop();
    SERIAL_DATA.write(c.charCodeAt(0) & 0xff);
  }
}

/**
 * A bench device: `mmio_len` bytes of registers that read back what was written (plain memory
 * behind the device window), and 8 ports that do the same. Registers start as
 * `(offset * 3 + 1) & 0xff`, so a read shows where it went.
 */
export function scratch_device(name: string, mmio_len: number): DeviceModel {
  const regs = new Uint8Array(mmio_len);
  for (let i = 0; i < mmio_len; i++) regs[i] = (i * 3 + 1) & 0xff;
  const ports = new Uint8Array(8);
  const load = (bytes: Uint8Array, off: number, size: number): bigint => {
    let v = 0n;
    for (let k = size - 1; k >= 0; k--) v = (v << 8n) | BigInt(bytes[off + k]!);
    return v;
  };
  const store = (bytes: Uint8Array, off: number, size: number, value: number | bigint): void => {
    let v = BigInt(value);
    for (let k = 0; k < size; k++) {
      bytes[off + k] = Number(v & 0xffn);
      v >>= 8n;
    }
  };
  return {
    name,
    mmio_read: (offset, size) => (size === 8 ? load(regs, offset, 8) : Number(load(regs, offset, size))),
    mmio_write: (offset, size, value) => store(regs, offset, size, value),
    port_read: (offset, size) => Number(load(ports, offset, size)),
    port_write: (offset, size, value) => store(ports, offset, size, value),
  };
}

/** What {@link init} set up. */
export interface IoBench {
  /** A driver's device: an MMIO window of 2 pages and 8 ports (the scratch model). */
  readonly scratch: AttachedDevice;
  /** A second console UART (8 ports) a driver may acquire. */
  readonly console: AttachedDevice;
  /** A system device whose window OSTD reserves (`reserve`): drivers cannot acquire it. */
  readonly system: AttachedDevice;
  /** The system device's registers, as its OSTD driver holds them. */
  readonly system_io_mem: IoMem<Sensitive>;
}

let BENCH: IoBench | null = null;

/** Attaches the devices, builds the allocators and calls `io::init` (once per Machine). */
export function init(): IoBench {
  if (BENCH !== null) return BENCH;
  const scratch = attach_device(scratch_device("scratch", 2 * 4096), { mmio_len: 2 * 4096, ports: 8 });
  const console = attach_device(console_device(), { ports: 8 });
  const system = attach_device(scratch_device("system", 4096), { mmio_len: 4096 });
  if (scratch.mmio === undefined || scratch.ports === undefined || console.ports === undefined || system.mmio === undefined) {
    panic("io init: a device did not get its window or ports");
  }
  let system_io_mem: IoMem<Sensitive>;
  unsafe: {
    // SAFETY: called once per Machine, with the boot page table active; the ranges are the MMIO
    // holes of the memory map, never RAM.
    const builder = IoMemAllocatorBuilder.new(io_mem_ranges(), "IO_MEM_ALLOCATOR");
    // The system device's driver keeps its window (OSTD's IOAPIC/IOMMU drivers do the same).
    system_io_mem = builder.reserve({ start: system.mmio.paddr, end: system.mmio.paddr + system.mmio.len }, "Uncacheable");
    // SAFETY: the system device's MMIO was removed from the builder; its ports and the
    // firmware's are declared above; Mirch's MAX_IO_PORT is x86's.
    io_init(builder);
  }
  BENCH = { scratch, console, system, system_io_mem };
  return BENCH;
}
