// OSTD's `io/mod.rs` (asterinas/asterinas, MPL-2.0), re-written for kmiri: device I/O and the
// allocators that hand it to drivers. There are two kinds: `IoMem` for memory-mapped I/O (MMIO)
// and `IoPort` for port I/O (PIO, x86 and Mirch).
import { init as io_mem_init, type IoMemAllocatorBuilder } from "./io_mem/index.js";
import { init as io_port_init } from "./io_port/index.js";

export {
  IoMem,
  IoMemAllocator,
  IoMemAllocatorBuilder,
  io_mem_allocator,
  type CachePolicy,
  type Insensitive,
  type Range,
  type SecuritySensitivity,
  type Sensitive,
} from "./io_mem/index.js";
export {
  IoPort,
  ReadOnlyAccess,
  ReadWriteAccess,
  WriteOnlyAccess,
  reserve_io_port_range,
  sensitive_io_port,
  type IoPortAccess,
  type IoPortReadAccess,
  type IoPortWriteAccess,
  type RawIoPortRange,
} from "./io_port/index.js";

/**
 * Initialises the allocators (`io::init`).
 *
 * Safety:
 * 1. Every MMIO range of a system device was removed from the builder (`remove`, `reserve`).
 * 2. Every port range of a system device is declared (`sensitive_io_port`, `reserve_io_port_range`).
 * 3. `MAX_IO_PORT` does not exceed the architecture's.
 */
export function init(io_mem_builder: IoMemAllocatorBuilder): void {
  "unsafe";
  io_mem_init(io_mem_builder);
  io_port_init();
}
