// OSTD's `mm/dma/dma_stream.rs` (asterinas/asterinas `ostd/src/mm/dma/dma_stream.rs`, MPL-2.0),
// re-written for kmiri: `DmaStream<D>`, a streaming DMA mapping whose contents the CPU and the
// device own in turn, handed over by `sync_to_device` and `sync_from_device`.
//
// The direction `D` is a Rust type parameter checked at compile time (`const { assert!(..) }`); here
// it is one of three sealed values (`ToDevice`, `FromDevice`, `FromAndToDevice`) the stream keeps:
// the methods a direction forbids are refused by their `this` type when the direction is known
// statically, and panic at run time otherwise.
//
// Mirch checks the ownership protocol (kind `dma`): a stream begins (`dma_stream_begin`) when a
// `DmaStream` is made, `sync_to_device` ends with `dma_sync_for_device`, `sync_from_device` starts
// with `dma_sync_for_cpu`, and the stream ends (`dma_stream_end`) when it drops — the places where
// OSTD's generic code reaches `arch::mm::sync_dma_range` or a bounce-buffer copy, also for
// cache-coherent devices, where OSTD returns early.
import { assert, panic } from "kmiri/rt";
import {
  can_sync_dma, dma_stream_begin, dma_stream_end, dma_sync_for_cpu, dma_sync_for_device, sync_dma_range,
  type Daddr, type DmaStreamDirection,
} from "../../arch/dma.js";
import { is_local_enabled } from "../../arch/irq.js";
import { PAGE_SIZE, paddr_to_vaddr, type Paddr } from "../../arch/mm.js";
import { FrameAllocOptions, type Range, type USegment } from "../frame/index.js";
import { Err, Error, Ok, VmIoByReaderWriter, VmReader, VmWriter, unwrap, type Infallible, type Result } from "../io.js";
import type { KVirtArea } from "../kspace/kvirt_area.js";
import { alloc_kva, cvm_need_private_protection, prepare_dma, split_daddr, unprepare_dma } from "./util.js";

// ───────────────────────────── directions ─────────────────────────────

/**
 * `DmaDirection`: which way data flows, hence what the CPU may do with the buffer. Sealed: only the
 * three values below are directions (OSTD seals the trait so that no one reaches code that assumes
 * them, or skips the reader/writer checks).
 */
export interface DmaDirection {
  readonly name: "ToDevice" | "FromDevice" | "FromAndToDevice";
  /** Whether the CPU can read data from the device. */
  readonly CAN_READ_FROM_DEVICE: boolean;
  /** Whether the CPU can write data to the device. */
  readonly CAN_WRITE_TO_DEVICE: boolean;
}

/** `ToDevice`: data flows to the device; the CPU writes the buffer. */
export const ToDevice = Object.freeze({ name: "ToDevice", CAN_READ_FROM_DEVICE: false, CAN_WRITE_TO_DEVICE: true } as const);
export type ToDevice = typeof ToDevice;
/** `FromDevice`: data flows from the device; the CPU only reads the buffer. */
export const FromDevice = Object.freeze({ name: "FromDevice", CAN_READ_FROM_DEVICE: true, CAN_WRITE_TO_DEVICE: false } as const);
export type FromDevice = typeof FromDevice;
/** `FromAndToDevice`: data flows both ways. */
export const FromAndToDevice = Object.freeze({
  name: "FromAndToDevice",
  CAN_READ_FROM_DEVICE: true,
  CAN_WRITE_TO_DEVICE: true,
} as const);
export type FromAndToDevice = typeof FromAndToDevice;

/** A direction in which the CPU may read (`D::CAN_READ_FROM_DEVICE`). */
export type CanRead = DmaDirection & { readonly CAN_READ_FROM_DEVICE: true };
/** A direction in which the CPU may write (`D::CAN_WRITE_TO_DEVICE`). */
export type CanWrite = DmaDirection & { readonly CAN_WRITE_TO_DEVICE: true };

/** `private::Sealed`: the direction is one of the three, and how Mirch names it. */
function sealed(d: DmaDirection): DmaStreamDirection {
  if (d === ToDevice) return "to-device";
  if (d === FromDevice) return "from-device";
  if (d === FromAndToDevice) return "bidirectional";
  return panic(`\`${String(d?.name)}\` is not a sealed \`DmaDirection\``);
}

// ───────────────────────────── DmaStream ─────────────────────────────

/**
 * Starts Mirch's ownership tracking of a new stream. The CPU owns a new stream until it syncs it
 * to the device — except a `FromDevice` one: OSTD gives the CPU no way to hand such a buffer over
 * (`sync_to_device` is refused for it at compile time), and needs none, as the CPU never writes
 * it (so it holds no dirty cache lines of the CPU's to write back over the device's data). So a
 * `FromDevice` stream is the device's from the start, and `sync_from_device` gives it back to the
 * device right after making the device's writes visible to the CPU: the CPU's reads after the
 * sync are fine, a read of bytes the device wrote after the last sync is still reported.
 */
function begin_stream(paddr: Paddr, len: number, direction: DmaDirection): void {
  dma_stream_begin(paddr, len, sealed(direction));
  if (!direction.CAN_WRITE_TO_DEVICE) dma_sync_for_device(paddr, len);
}

/** What backs a `DmaStream`. */
type Inner =
  | { readonly kind: "Segment"; readonly segment: USegment }
  | { readonly kind: "Kva"; readonly kva: KVirtArea; readonly paddr: Paddr }
  /** A bounce buffer: the device sees the `KVirtArea`'s frames, the CPU the segment; syncs copy. */
  | { readonly kind: "Both"; readonly kva: KVirtArea; readonly paddr: Paddr; readonly segment: USegment };

/**
 * `DmaStream<D>`: a streaming DMA mapping. The CPU calls `sync_to_device` after writing and before
 * telling the device to read, and `sync_from_device` after the device wrote and before reading.
 *
 * Making one (`alloc`, `alloc_uninit`, `map`) needs local interrupts enabled; dropping it is
 * allowed anywhere, interrupt handlers included (after the device is done with it).
 */
export class DmaStream<D extends DmaDirection = FromAndToDevice> extends VmIoByReaderWriter {
  #inner: Inner | null;
  readonly #map_daddr: Daddr | null;
  readonly #is_cache_coherent: boolean;
  /** The direction (Rust's type parameter `D`). */
  readonly direction: D;

  private constructor(inner: Inner, map_daddr: Daddr | null, is_cache_coherent: boolean, direction: D) {
    super();
    this.#inner = inner;
    this.#map_daddr = map_daddr;
    this.#is_cache_coherent = is_cache_coherent;
    this.direction = direction;
  }

  /** The backing, or a panic for a handle moved out of. */
  private inner(): Inner {
    if (this.#inner === null) panic("use of a `DmaStream` after it was dropped or split");
    return this.#inner;
  }

  /** Takes the backing out (Rust's move); the handle is dead afterwards. */
  private take(): Inner {
    const inner = this.inner();
    this.#inner = null;
    return inner;
  }

  /**
   * `DmaStream::<D>::alloc`: `nframes` frames of streaming DMA memory, zeroed, for a device that is
   * (or is not) cache-coherent. Only for directions the CPU writes in (zeroing writes).
   */
  static alloc<D extends CanWrite = FromAndToDevice>(nframes: number, is_cache_coherent: boolean, direction?: D): Result<DmaStream<D>, Error> {
    const dir = (direction ?? FromAndToDevice) as D;
    if (!dir.CAN_WRITE_TO_DEVICE) panic("assertion failed: D::CAN_WRITE_TO_DEVICE");
    const r = DmaStream.alloc_uninit(nframes, is_cache_coherent, dir);
    if (!r.ok) return r;
    // `dma.writer()?`: never an error, the direction was checked to be writable.
    unwrap(r.value.writer()).fill_zeros(r.value.size());
    return r;
  }

  /** `DmaStream::<D>::alloc_uninit`: as `alloc`, without zeroing (any direction). */
  static alloc_uninit<D extends DmaDirection = FromAndToDevice>(
    nframes: number,
    is_cache_coherent: boolean,
    direction?: D,
  ): Result<DmaStream<D>, Error> {
    const dir = (direction ?? FromAndToDevice) as D;
    sealed(dir);
    assert(is_local_enabled(), "DmaStream::alloc_uninit with local interrupts disabled");

    const cvm = cvm_need_private_protection();

    let inner: Inner;
    let paddr_range: Range;
    if ((can_sync_dma() || is_cache_coherent) && !cvm) {
      const segment = FrameAllocOptions.new().zeroed(false).alloc_segment(nframes);
      if (!segment.ok) return segment;
      const useg = segment.value.into_usegment();
      inner = { kind: "Segment", segment: useg };
      paddr_range = { start: useg.paddr(), end: useg.end_paddr() };
    } else {
      const kva = alloc_kva(nframes, can_sync_dma() || is_cache_coherent);
      if (!kva.ok) return kva;
      const [area, paddr] = kva.value;
      inner = { kind: "Kva", kva: area, paddr };
      paddr_range = { start: paddr, end: paddr + nframes * PAGE_SIZE };
    }

    let map_daddr: Daddr | null;
    unsafe: {
      // SAFETY: the range is untyped DMA memory that stays allocated until `drop` unprepares it.
      map_daddr = prepare_dma(paddr_range);
    }
    begin_stream(paddr_range.start, paddr_range.end - paddr_range.start, dir);
    return Ok(new DmaStream(inner, map_daddr, is_cache_coherent, dir));
  }

  /**
   * `DmaStream::<D>::map`: a streaming mapping of `segment` (which it takes over) for a device that
   * is (or is not) cache-coherent. When the platform can neither sync caches nor count on the
   * device's coherence (or in a CVM), the device gets a bounce buffer and syncs copy.
   */
  static map<D extends DmaDirection = FromAndToDevice>(segment: USegment, is_cache_coherent: boolean, direction?: D): Result<DmaStream<D>, Error> {
    const dir = (direction ?? FromAndToDevice) as D;
    sealed(dir);
    assert(is_local_enabled(), "DmaStream::map with local interrupts disabled");

    const cvm = cvm_need_private_protection();
    const size = segment.size();

    let inner: Inner;
    let paddr: Paddr;
    if ((can_sync_dma() || is_cache_coherent) && !cvm) {
      paddr = segment.paddr();
      inner = { kind: "Segment", segment };
    } else {
      const kva = alloc_kva(size / PAGE_SIZE, is_cache_coherent);
      if (!kva.ok) {
        segment.drop();
        return kva;
      }
      const [area, kva_paddr] = kva.value;
      paddr = kva_paddr;
      inner = { kind: "Both", kva: area, paddr, segment };
    }

    const paddr_range = { start: paddr, end: paddr + size };
    let map_daddr: Daddr | null;
    unsafe: {
      // SAFETY: the range is untyped DMA memory (the segment, or the bounce buffer's frames) that
      // stays allocated until `drop` unprepares it.
      map_daddr = prepare_dma(paddr_range);
    }
    begin_stream(paddr, size, dir);
    return Ok(new DmaStream(inner, map_daddr, is_cache_coherent, dir));
  }

  /**
   * `sync_from_device`: the device's writes to `byte_range` become the CPU's to read. Call it after
   * the device wrote and before reading (`read_bytes`, a reader).
   */
  sync_from_device(this: DmaStream<CanRead>, byte_range: Range): Result<void, Error> {
    if (!this.direction.CAN_READ_FROM_DEVICE) panic("assertion failed: D::CAN_READ_FROM_DEVICE");
    return this.sync_impl(byte_range, true);
  }

  /**
   * `sync_to_device`: the CPU's writes to `byte_range` become the device's to read. Call it after
   * writing (`write_bytes`, a writer) and before telling the device to read.
   */
  sync_to_device(this: DmaStream<CanWrite>, byte_range: Range): Result<void, Error> {
    if (!this.direction.CAN_WRITE_TO_DEVICE) panic("assertion failed: D::CAN_WRITE_TO_DEVICE");
    return this.sync_impl(byte_range, false);
  }

  private sync_impl(byte_range: Range, is_from_device: boolean): Result<void, Error> {
    const size = this.size();
    if (byte_range.end > size || byte_range.start > size) return Err(Error.InvalidArgs);

    // Ownership annotations around what OSTD does below: the CPU takes the bytes back before it
    // copies out of a bounce buffer; the device gets them after the CPU copied into one.
    const paddr = this.paddr() + byte_range.start;
    const len = Math.max(0, byte_range.end - byte_range.start);
    if (is_from_device) dma_sync_for_cpu(paddr, len);
    this.sync_caches(byte_range, is_from_device);
    // To the device; and a buffer the CPU never writes goes straight back to it (`begin_stream`).
    if (!is_from_device || !this.direction.CAN_WRITE_TO_DEVICE) dma_sync_for_device(paddr, len);
    return Ok(undefined);
  }

  /** The body of OSTD's `sync_impl` after the range check: cache maintenance, or bounce copies. */
  private sync_caches(byte_range: Range, is_from_device: boolean): void {
    if (this.#is_cache_coherent) return;

    const inner = this.inner();
    let va_start: number;
    if (inner.kind === "Segment") {
      va_start = paddr_to_vaddr(inner.segment.paddr());
    } else if (inner.kind === "Kva") {
      // Without cache maintenance the area is mapped uncacheable: nothing to sync.
      if (!can_sync_dma()) return;
      va_start = inner.kva.start();
    } else {
      this.sync_via_copying(byte_range, is_from_device, inner.segment, inner.kva);
      return;
    }
    unsafe: {
      // SAFETY: the range was checked to lie in this stream, so it and the direction describe a
      // DMA region; `can_sync_dma()` held when `self` was made with a segment backing (or was
      // checked just above for an area).
      sync_dma_range(va_start + byte_range.start, va_start + byte_range.end, sealed(this.direction));
    }
  }

  /** `sync_via_copying`: copies `byte_range` between the bounce buffer and the segment. */
  private sync_via_copying(byte_range: Range, is_from_device: boolean, seg: USegment, kva: KVirtArea): void {
    const skip = byte_range.start;
    const limit = Math.max(0, byte_range.end - byte_range.start);

    let reader: VmReader<Infallible>;
    let writer: VmWriter<Infallible>;
    if (is_from_device) {
      unsafe: {
        // SAFETY: the area maps untyped memory, lives in this scope, and is reached only through
        // readers and writers.
        reader = VmReader.from_kernel_space(kva.start(), kva.size());
      }
      writer = seg.writer();
    } else {
      reader = seg.reader();
      unsafe: {
        // SAFETY: as above.
        writer = VmWriter.from_kernel_space(kva.start(), kva.size());
      }
    }
    writer.skip(skip).limit(limit).write(reader.skip(skip).limit(limit));
  }

  /** Whether the device it was made for is cache-coherent. */
  is_cache_coherent(): boolean {
    return this.#is_cache_coherent;
  }

  /** `Split::split`: two streams, at `offset` bytes (a page multiple strictly inside). */
  split(offset: number): [DmaStream<D>, DmaStream<D>] {
    if (offset % PAGE_SIZE !== 0) panic("assertion failed: offset.is_multiple_of(PAGE_SIZE)");
    if (!(0 < offset && offset < this.size())) panic("assertion failed: 0 < offset && offset < self.size()");

    const inner = this.take();
    let inner1: Inner;
    let inner2: Inner;
    if (inner.kind === "Segment") {
      const [s1, s2] = inner.segment.split(offset);
      inner1 = { kind: "Segment", segment: s1 };
      inner2 = { kind: "Segment", segment: s2 };
    } else if (inner.kind === "Kva") {
      const [kva1, kva2] = inner.kva.split(offset);
      inner1 = { kind: "Kva", kva: kva1, paddr: inner.paddr };
      inner2 = { kind: "Kva", kva: kva2, paddr: inner.paddr + offset };
    } else {
      const [kva1, kva2] = inner.kva.split(offset);
      const [s1, s2] = inner.segment.split(offset);
      inner1 = { kind: "Both", kva: kva1, paddr: inner.paddr, segment: s1 };
      inner2 = { kind: "Both", kva: kva2, paddr: inner.paddr + offset, segment: s2 };
    }
    const [daddr1, daddr2] = split_daddr(this.#map_daddr, offset);
    return [
      new DmaStream(inner1, daddr1, this.#is_cache_coherent, this.direction),
      new DmaStream(inner2, daddr2, this.#is_cache_coherent, this.direction),
    ];
  }

  /** `Drop`: ends the stream, unmaps the pages from the IOMMU, then frees the backing. */
  drop(): void {
    const range = this.paddr_range();
    const inner = this.take();
    dma_stream_end(range.start, range.end - range.start);
    unsafe: {
      // SAFETY: `map` / `alloc_uninit` (or `split`) prepared exactly this range, at this address.
      unprepare_dma(range, this.#map_daddr);
    }
    if (inner.kind === "Segment") {
      inner.segment.drop();
    } else if (inner.kind === "Kva") {
      inner.kva.drop();
    } else {
      inner.kva.drop();
      inner.segment.drop();
    }
  }

  /** `HasPaddr::paddr`: where the device's bytes are (a bounce buffer's, not the segment's). */
  paddr(): Paddr {
    const inner = this.inner();
    return inner.kind === "Segment" ? inner.segment.paddr() : inner.paddr;
  }

  /** `HasPaddrRange::paddr_range`. */
  paddr_range(): Range {
    const start = this.paddr();
    return { start, end: start + this.size() };
  }

  /** `HasDaddr::daddr`: the address devices use (the physical address when there is no remapping). */
  daddr(): Daddr {
    return this.#map_daddr ?? this.paddr();
  }

  /** `HasSize::size`. */
  size(): number {
    const inner = this.inner();
    if (inner.kind === "Segment") return inner.segment.size();
    if (inner.kind === "Both") assert(inner.kva.size() === inner.segment.size());
    return inner.kva.size();
  }

  /** `HasVmReaderWriter::reader` (`VmReaderWriterResult`): `AccessDenied` unless the CPU may read. */
  reader(): Result<VmReader<Infallible>, Error> {
    if (!this.direction.CAN_READ_FROM_DEVICE) return Err(Error.AccessDenied);
    const inner = this.inner();
    if (inner.kind !== "Kva") return Ok(inner.segment.reader());
    unsafe: {
      // SAFETY: the area maps DMA memory, reached through this mapping (not the linear map); it
      // lives as long as this handle; readers and writers are the only way anyone reaches it.
      return Ok(VmReader.from_kernel_space(inner.kva.start(), inner.kva.size()));
    }
  }

  /** `HasVmReaderWriter::writer`: `AccessDenied` unless the CPU may write. */
  writer(): Result<VmWriter<Infallible>, Error> {
    if (!this.direction.CAN_WRITE_TO_DEVICE) return Err(Error.AccessDenied);
    const inner = this.inner();
    if (inner.kind !== "Kva") return Ok(inner.segment.writer());
    unsafe: {
      // SAFETY: as for `reader`.
      return Ok(VmWriter.from_kernel_space(inner.kva.start(), inner.kva.size()));
    }
  }
}
