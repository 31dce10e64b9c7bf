// OSTD's `mm/dma/dma_coherent.rs` (asterinas/asterinas `ostd/src/mm/dma/dma_coherent.rs`, MPL-2.0),
// re-written for kmiri: `DmaCoherent`, DMA memory that the CPU and a device share without syncs.
//
// For a cache-coherent device it is a plain untyped `Segment<()>` reached through the linear map;
// for any other device, frames with typed `DmaBufferMeta` mapped uncacheable in a `KVirtArea`
// (`alloc_kva`), reached only through that mapping. Either way its pages are mapped into the IOMMU
// (`prepare_dma`) until it drops. Like `Segment`, the handle is marked dead once moved out of
// (dropped, split).
import { assert, panic } from "kmiri/rt";
import type { Daddr } from "../../arch/dma.js";
import { is_local_enabled } from "../../arch/irq.js";
import { PAGE_SIZE, type Paddr } from "../../arch/mm.js";
import { FrameAllocOptions, type Range, type Segment } from "../frame/index.js";
import { Ok, VmIoByReaderWriter, VmReader, VmWriter, type Error, type Infallible, type Result } from "../io.js";
import type { KVirtArea } from "../kspace/kvirt_area.js";
import { alloc_kva, cvm_need_private_protection, prepare_dma, split_daddr, unprepare_dma } from "./util.js";

/** What backs a `DmaCoherent`. */
type Inner =
  | { readonly kind: "Segment"; readonly segment: Segment<undefined> }
  | { readonly kind: "Kva"; readonly kva: KVirtArea; readonly paddr: Paddr };

/**
 * `DmaCoherent`: a DMA buffer the CPU and the device see coherently. Its readers and writers need
 * no sync; for a device that is not cache-coherent the memory is mapped uncacheable.
 *
 * Making one (`alloc`, `alloc_uninit`) needs local interrupts enabled (the TLB flush of
 * `alloc_kva` waits for other CPUs); dropping it is allowed anywhere, interrupt handlers included.
 */
export class DmaCoherent extends VmIoByReaderWriter {
  #inner: Inner | null;
  readonly #map_daddr: Daddr | null;
  readonly #is_cache_coherent: boolean;

  private constructor(inner: Inner, map_daddr: Daddr | null, is_cache_coherent: boolean) {
    super();
    this.#inner = inner;
    this.#map_daddr = map_daddr;
    this.#is_cache_coherent = is_cache_coherent;
  }

  /** The backing, or a panic for a handle moved out of (Rust would not compile the use). */
  private inner(): Inner {
    if (this.#inner === null) panic("use of a `DmaCoherent` after it was dropped or split");
    return this.#inner;
  }

  /** Takes the backing out (Rust's move); the handle is dead afterwards. */
  private take(): Inner {
    const inner = this.inner();
    this.#inner = null;
    return inner;
  }

  /**
   * `DmaCoherent::alloc`: `nframes` frames of coherent DMA memory, zeroed, for a device that is
   * (`is_cache_coherent`) or is not cache-coherent.
   */
  static alloc(nframes: number, is_cache_coherent: boolean): Result<DmaCoherent, Error> {
    const r = DmaCoherent.alloc_uninit(nframes, is_cache_coherent);
    if (r.ok) r.value.writer().fill_zeros(r.value.size());
    return r;
  }

  /** `DmaCoherent::alloc_uninit`: as `alloc`, without zeroing. */
  static alloc_uninit(nframes: number, is_cache_coherent: boolean): Result<DmaCoherent, Error> {
    assert(is_local_enabled(), "DmaCoherent::alloc_uninit with local interrupts disabled");

    const cvm = cvm_need_private_protection();

    let inner: Inner;
    let paddr_range: Range;
    if (is_cache_coherent && !cvm) {
      const segment = FrameAllocOptions.new().zeroed(false).alloc_segment(nframes);
      if (!segment.ok) return segment;
      inner = { kind: "Segment", segment: segment.value };
      paddr_range = { start: segment.value.paddr(), end: segment.value.end_paddr() };
    } else {
      const kva = alloc_kva(nframes, is_cache_coherent);
      if (!kva.ok) return kva;
      const [area, paddr] = kva.value;
      inner = { kind: "Kva", kva: area, paddr };
      paddr_range = { start: paddr, end: paddr + nframes * PAGE_SIZE };
    }

    let map_daddr: Daddr | null;
    unsafe: {
      // SAFETY: the range is untyped DMA memory (a `Segment<()>`, or the `DmaBufferMeta` frames
      // the `KVirtArea` keeps) that stays allocated until `drop` unprepares it.
      map_daddr = prepare_dma(paddr_range);
    }
    return Ok(new DmaCoherent(inner, map_daddr, is_cache_coherent));
  }

  /** Whether the device it was made for is cache-coherent. */
  is_cache_coherent(): boolean {
    return this.#is_cache_coherent;
  }

  /**
   * `Split::split`: two DMA buffers, at `offset` bytes (a page multiple strictly inside). Each
   * half keeps its part of the IOMMU mapping and unprepares it when it drops.
   */
  split(offset: number): [DmaCoherent, DmaCoherent] {
    if (offset % PAGE_SIZE !== 0) panic("assertion failed: offset.is_multiple_of(PAGE_SIZE)");
    if (!(0 < offset && offset < this.size())) panic("assertion failed: 0 < offset && offset < self.size()");

    // `ManuallyDrop` + `ptr::read`: the backing moves out, and this handle's `Drop` never runs.
    const inner = this.take();
    let inner1: Inner;
    let inner2: Inner;
    if (inner.kind === "Segment") {
      const [s1, s2] = inner.segment.split(offset);
      inner1 = { kind: "Segment", segment: s1 };
      inner2 = { kind: "Segment", segment: s2 };
    } else {
      const [kva1, kva2] = inner.kva.split(offset);
      inner1 = { kind: "Kva", kva: kva1, paddr: inner.paddr };
      inner2 = { kind: "Kva", kva: kva2, paddr: inner.paddr + offset };
    }
    const [daddr1, daddr2] = split_daddr(this.#map_daddr, offset);
    return [
      new DmaCoherent(inner1, daddr1, this.#is_cache_coherent),
      new DmaCoherent(inner2, daddr2, this.#is_cache_coherent),
    ];
  }

  /** `Drop`: unmaps the pages from the IOMMU, then frees the backing. */
  drop(): void {
    const range = this.paddr_range();
    const inner = this.take();
    unsafe: {
      // SAFETY: `alloc_uninit` (or `split`) prepared exactly this range, with this device address.
      unprepare_dma(range, this.#map_daddr);
    }
    if (inner.kind === "Segment") inner.segment.drop();
    else inner.kva.drop();
  }

  /** `HasPaddr::paddr`: the first byte's physical address. */
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
    return inner.kind === "Segment" ? inner.segment.size() : inner.kva.size();
  }

  /** `HasVmReaderWriter::reader` (`VmReaderWriterIdentity`: never denied). */
  reader(): VmReader<Infallible> {
    const inner = this.inner();
    if (inner.kind === "Segment") return inner.segment.reader();
    unsafe: {
      // SAFETY: the area maps untyped memory (DMA buffers are plain bytes), it lives as long as
      // this handle, and readers and writers are the only way anyone reaches it.
      return VmReader.from_kernel_space(inner.kva.start(), inner.kva.size());
    }
  }

  /** `HasVmReaderWriter::writer`. */
  writer(): VmWriter<Infallible> {
    const inner = this.inner();
    if (inner.kind === "Segment") return inner.segment.writer();
    unsafe: {
      // SAFETY: as for `reader`.
      return VmWriter.from_kernel_space(inner.kva.start(), inner.kva.size());
    }
  }
}

