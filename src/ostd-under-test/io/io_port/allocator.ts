// OSTD's `io/io_port/allocator.rs` (asterinas/asterinas, MPL-2.0), re-written for kmiri: the
// allocator of I/O ports. One bit per port (OSTD's `IdAlloc`, there being only 65536 ports), in
// a static bitmap behind a spin lock that keeps local interrupts off (`LocalIrqDisabled`), so the
// race detector checks every access to it.
import { array, assert, cell, panic, static_, u32, type Layout } from "kmiri/rt";
import { MAX_IO_PORT } from "../../arch/io.js";
import { SpinLock } from "../../sync/spin.js";
import { IoPort, type IoPortAccess } from "./index.js";
import type { Range } from "../io_mem/range_alloc.js";

/** Words of the bitmap: one bit per port of `0..=MAX_IO_PORT`. */
const WORDS = Math.ceil((MAX_IO_PORT + 1) / 32);

/** The bitmap's memory (a `static`, as OSTD's allocator is). */
const IO_PORT_BITMAP = static_(cell(array(u32, WORDS)), new Array<number>(WORDS).fill(0), { name: "IO_PORT_ALLOCATOR" });

/**
 * OSTD's `IdAlloc` over {@link IO_PORT_BITMAP}: ids `0..capacity`. Only used with the
 * allocator's lock held.
 */
class IdAlloc {
  private constructor(private readonly capacity: number) {}

  /** `IdAlloc::with_capacity(capacity)`: every id free. */
  static with_capacity(capacity: number): IdAlloc {
    assert(capacity <= WORDS * 32);
    const ids = new IdAlloc(capacity);
    for (let w = 0; w < WORDS; w++) ids.set_word(w, 0);
    return ids;
  }

  is_allocated(id: number): boolean {
    this.check(id);
    return ((this.word(id >>> 5) >>> (id & 31)) & 1) === 1;
  }

  alloc_specific(id: number): void {
    this.check(id);
    const w = id >>> 5;
    this.set_word(w, (this.word(w) | (1 << (id & 31))) >>> 0);
  }

  free_consecutive(range: Range): void {
    for (let id = range.start; id < range.end; id++) {
      this.check(id);
      const w = id >>> 5;
      this.set_word(w, (this.word(w) & ~(1 << (id & 31))) >>> 0);
    }
  }

  private check(id: number): void {
    if (!(id >= 0 && id < this.capacity)) panic(`IdAlloc: id ${id} out of range 0..${this.capacity}`);
  }

  private word(w: number): number {
    unsafe: {
      // SAFETY: the allocator's lock is held: no one else reaches the bitmap.
      return IO_PORT_BITMAP.as_ref().get().index(w).read();
    }
  }

  private set_word(w: number, v: number): void {
    unsafe: {
      // SAFETY: as for `word`.
      IO_PORT_BITMAP.as_ref().get().index(w).write(v);
    }
  }
}

/** The I/O port allocator (crate-internal in OSTD). */
export class IoPortAllocator {
  /** Each id says whether that port (one byte of PIO) is allocated. */
  private readonly allocator: SpinLock<IdAlloc>;

  private constructor(allocator: SpinLock<IdAlloc>) {
    this.allocator = allocator;
  }

  /**
   * Acquires an `IoPort` of `layout`'s size at `port`: `null` when the range is not available.
   * `is_overlapping`: only the first port is marked occupied (another `IoPort` may cover the rest,
   * as PCI's 32-bit CONFIG_DATA at 0xcf8 and the byte-wide reset control at 0xcf9 do); otherwise
   * every port of the range is.
   */
  acquire<T, A extends IoPortAccess>(layout: Layout<T>, access: A, port: number, is_overlapping: boolean): IoPort<T, A> | null {
    const width = is_overlapping ? 1 : layout.size;
    // `port.checked_add(width)` in u16.
    if (!Number.isInteger(port) || port < 0 || port > 0xffff || width < 1 || port + width > 0xffff) return null;
    const range = { start: port, end: port + width };
    const guard = this.allocator.disable_irq().lock();
    const ids = guard.value;
    for (let i = range.start; i < range.end; i++) {
      if (ids.is_allocated(i)) {
        guard.release();
        return null;
      }
    }
    for (let i = range.start; i < range.end; i++) ids.alloc_specific(i);
    guard.release();
    unsafe: {
      // SAFETY: the ports were in the allocator, so they are no system device's.
      return IoPort.new_overlapping(layout, access, port, is_overlapping);
    }
  }

  /** Gives a PIO range back. Safety: the caller owns it through `acquire`. */
  recycle(range: Range): void {
    "unsafe";
    const guard = this.allocator.disable_irq().lock();
    guard.value.free_consecutive(range);
    guard.release();
  }

  /** @internal `init`'s construction. */
  static make(ids: IdAlloc): IoPortAllocator {
    return new IoPortAllocator(SpinLock.static_(ids, "IoPortAllocator"));
  }
}

/** `IO_PORT_ALLOCATOR: Once<IoPortAllocator>`. */
let IO_PORT_ALLOCATOR: IoPortAllocator | null = null;

/** The system's port allocator. */
export function io_port_allocator(): IoPortAllocator {
  if (IO_PORT_ALLOCATOR === null) panic("the I/O port allocator is not initialised (call io init first)");
  return IO_PORT_ALLOCATOR;
}

/** `RawIoPortRange`: a range of ports a system device owns. */
export interface RawIoPortRange {
  readonly begin: number;
  readonly end: number;
}

/**
 * The ranges declared with `sensitive_io_port!` and `reserve_io_port_range!` (OSTD collects them
 * in the linker section `.sensitive_io_ports`; here, in this list, filled at module load).
 */
const SENSITIVE_IO_PORTS: RawIoPortRange[] = [];

/** @internal `reserve_io_port_range!` / `sensitive_io_port!`'s registration. */
export function register_sensitive_io_ports(range: RawIoPortRange): void {
  if (!(range.begin < range.end)) panic("I/O port range must be valid (start < end)");
  SENSITIVE_IO_PORTS.push(range);
}

/**
 * Initialises `IO_PORT_ALLOCATOR`, the sensitive ranges removed (once; later calls do nothing).
 *
 * Safety: every port range of a system device is declared (`sensitive_io_port`,
 * `reserve_io_port_range`), and `MAX_IO_PORT` does not exceed the architecture's.
 */
export function init(): void {
  "unsafe";
  if (IO_PORT_ALLOCATOR !== null) return;
  const allocator = IdAlloc.with_capacity(MAX_IO_PORT);
  for (const port_range of SENSITIVE_IO_PORTS) {
    assert(port_range.begin < port_range.end);
    for (let i = port_range.begin; i < port_range.end; i++) allocator.alloc_specific(i);
  }
  IO_PORT_ALLOCATOR = IoPortAllocator.make(allocator);
}
