// OSTD's `io/io_port/mod.rs` (asterinas/asterinas, MPL-2.0), re-written for kmiri: I/O ports and
// their allocator, which hands port I/O to device drivers. Ports are x86's; Mirch has them too.
import { assert, panic, size_of, u16, u32, u8, type Layout } from "kmiri/rt";
import { io_port_claim, io_port_release, read_from_port, write_to_port } from "../../arch/io.js";
import { Err, Error, Ok, type Result } from "../../mm/io.js";
import { io_port_allocator, register_sensitive_io_ports, type RawIoPortRange } from "./allocator.js";

export { init, io_port_allocator, type RawIoPortRange } from "./allocator.js";

/** What an access type allows (x86_64's `PortReadAccess` / `PortWriteAccess`). */
export interface IoPortAccess {
  readonly read: boolean;
  readonly write: boolean;
}
/** Access types that allow reads (`IoPortReadAccess`). */
export interface IoPortReadAccess extends IoPortAccess {
  readonly read: true;
}
/** Access types that allow writes (`IoPortWriteAccess`). */
export interface IoPortWriteAccess extends IoPortAccess {
  readonly write: true;
}
/** `ReadOnlyAccess`. */
export interface ReadOnlyAccess extends IoPortAccess {
  readonly read: true;
  readonly write: false;
}
/** `WriteOnlyAccess`. */
export interface WriteOnlyAccess extends IoPortAccess {
  readonly read: false;
  readonly write: true;
}
/** `ReadWriteAccess`. */
export interface ReadWriteAccess extends IoPortAccess {
  readonly read: true;
  readonly write: true;
}
export const ReadOnlyAccess: ReadOnlyAccess = Object.freeze({ read: true, write: false });
export const WriteOnlyAccess: WriteOnlyAccess = Object.freeze({ read: false, write: true });
export const ReadWriteAccess: ReadWriteAccess = Object.freeze({ read: true, write: true });

/** The value types a port is read or written as (`PortRead`/`PortWrite`: u8, u16, u32). */
function port_size(layout: Layout<unknown>): 1 | 2 | 4 {
  if (layout !== u8 && layout !== u16 && layout !== u32) panic(`${layout.name} is not a port value type (u8, u16, u32)`);
  return size_of(layout) as 1 | 2 | 4;
}

/**
 * `IoPort<T, A>`: one I/O port of `T`'s width (u8, u16, u32) with access `A`.
 *
 * ```ts
 * const PORT = IoPort.acquire(u32, ReadWriteAccess, 0x12);
 * PORT.write(PORT.read() + 1);
 * ```
 */
export class IoPort<T, A extends IoPortAccess> {
  private readonly port_: number;
  private readonly is_overlapping: boolean;
  private readonly layout: Layout<T>;
  private readonly access: A;
  private dropped = false;

  private constructor(layout: Layout<T>, access: A, port: number, is_overlapping: boolean) {
    this.layout = layout;
    this.access = access;
    this.port_ = port;
    this.is_overlapping = is_overlapping;
  }

  /** Acquires the port: every port of its width is marked occupied. `Err(AccessDenied)` when taken. */
  static acquire<T, A extends IoPortAccess>(layout: Layout<T>, access: A, port: number): Result<IoPort<T, A>> {
    const p = io_port_allocator().acquire(layout, access, port, false);
    return p === null ? Err(Error.AccessDenied) : Ok(p);
  }

  /** Acquires the port, marking only its first port occupied: it may overlap other `IoPort`s. */
  static acquire_overlapping<T, A extends IoPortAccess>(layout: Layout<T>, access: A, port: number): Result<IoPort<T, A>> {
    const p = io_port_allocator().acquire(layout, access, port, true);
    return p === null ? Err(Error.AccessDenied) : Ok(p);
  }

  /** The port number. */
  port(): number {
    return this.port_;
  }

  /** The width in bytes. */
  size(): number {
    return size_of(this.layout);
  }

  /**
   * `IoPort::new(port)` (crate-internal).
   *
   * Safety: accessing the port may have side effects; they must not break soundness (e.g.
   * corrupt kernel memory).
   */
  static new<T, A extends IoPortAccess>(layout: Layout<T>, access: A, port: number): IoPort<T, A> {
    "unsafe";
    return IoPort.new_overlapping(layout, access, port, false);
  }

  /**
   * `IoPort::new_overlapping` (see the allocator's `acquire` for `is_overlapping`). Safety: as
   * `new`. The ports counted as the `IoPort`'s are claimed in Mirch.
   */
  static new_overlapping<T, A extends IoPortAccess>(layout: Layout<T>, access: A, port: number, is_overlapping: boolean): IoPort<T, A> {
    "unsafe";
    const p = new IoPort(layout, access, port, is_overlapping);
    const r = p.range();
    io_port_claim(r.start, r.end - r.start);
    return p;
  }

  /** Reads the port (`A: IoPortReadAccess`). */
  read(this: IoPort<T, IoPortReadAccess>): T {
    assert(this.access.read, "IoPort::read on a write-only port");
    this.live();
    unsafe: {
      // SAFETY: the port is ours (acquired or a declared system port), and reading it has no
      // unsound side effect (`new`'s contract).
      return read_from_port(this.port_, port_size(this.layout)) as T;
    }
  }

  /** Writes the port (`A: IoPortWriteAccess`). */
  write(this: IoPort<T, IoPortWriteAccess>, value: T): void {
    assert(this.access.write, "IoPort::write on a read-only port");
    this.live();
    unsafe: {
      // SAFETY: as for `read`.
      write_to_port(this.port_, port_size(this.layout), value as number);
    }
  }

  /** `Drop`: the ports go back to the allocator. */
  drop(): void {
    if (this.dropped) return;
    this.dropped = true;
    const range = this.range();
    io_port_release(range.start, range.end - range.start);
    unsafe: {
      // SAFETY: the PIO range is ours.
      io_port_allocator().recycle(range);
    }
  }

  private range(): { start: number; end: number } {
    return this.is_overlapping ? { start: this.port_, end: this.port_ + 1 } : { start: this.port_, end: this.port_ + size_of(this.layout) };
  }

  private live(): void {
    if (this.dropped) panic("IoPort used after drop");
  }
}

/**
 * `reserve_io_port_range!(begin..end)`: declares ports a system device driver uses, removed from
 * the allocator at `init`. Call it at module level (OSTD: a static in `.sensitive_io_ports`).
 */
export function reserve_io_port_range(begin: number, end: number): void {
  register_sensitive_io_ports({ begin, end });
}

/**
 * `sensitive_io_port!`: a system device's port, declared (removed from the allocator at `init`)
 * and made without the allocator. Call it at module level.
 *
 * Safety: the port is valid, overlaps no other sensitive port, and its system driver uses it.
 */
export function sensitive_io_port<T, A extends IoPortAccess>(layout: Layout<T>, access: A, port: number): IoPort<T, A> {
  "unsafe";
  const range: RawIoPortRange = { begin: port, end: port + size_of(layout) };
  register_sensitive_io_ports(range);
  return IoPort.new(layout, access, port);
}
