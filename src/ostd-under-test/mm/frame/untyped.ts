// OSTD's `mm/frame/untyped.rs` (ostd/src/mm/frame/untyped.rs), re-written for kmiri: untyped
// frames and segments are plain memory, read and written only through infallible `VmReader` /
// `VmWriter`s over their linear-map addresses (`HasVmReaderWriter`). Mirch keeps their pages
// untyped, where only volatile accesses and the Mirch copies are allowed: exactly what the
// readers and writers do.
//
// TypeScript has no trait bound to restrict `reader()`/`writer()` to untyped metadata, so the
// methods are added to `Frame` and `Segment` here and check the handle's kind at run time: a typed
// frame's contents are never handed out.
import { panic } from "kmiri/rt";
import { paddr_to_vaddr } from "../../arch/mm.js";
import { VmReader, VmWriter, type Infallible } from "../io.js";
import { Frame, type MetaKind } from "./frame.js";
import { Segment } from "./segment.js";
import { set_kernel_reader } from "./meta.js";

export { impl_untyped_frame_meta_for, type FrameMetaType } from "./meta.js";
export { UnitMeta } from "./allocator.js";
export type { UFrame } from "./frame.js";
export type { USegment } from "./segment.js";

// `drop_meta_in_place` hands `on_drop` a reader over the frame.
set_kernel_reader((vaddr, len) => {
  unsafe: {
    // SAFETY: the frame is being torn down by its last owner; whether reading it is sound is the
    // metadata type's promise (`AnyFrameMeta` is an unsafe trait).
    return VmReader.from_kernel_space(vaddr, len);
  }
});

declare module "./frame.js" {
  interface Frame<M> {
    /** `HasVmReaderWriter::reader` (untyped frames only). */
    reader(): VmReader<Infallible>;
    /** `HasVmReaderWriter::writer` (untyped frames only). */
    writer(): VmWriter<Infallible>;
  }
}

declare module "./segment.js" {
  interface Segment<M> {
    /** `HasVmReaderWriter::reader` (untyped segments only). */
    reader(): VmReader<Infallible>;
    /** `HasVmReaderWriter::writer` (untyped segments only). */
    writer(): VmWriter<Infallible>;
  }
}

/** Whether a handle of `kind` is untyped (`AnyUFrameMeta`). */
function is_untyped_kind(kind: MetaKind<unknown>): boolean {
  return kind === "udyn" || (typeof kind !== "string" && kind.untyped);
}

function reader_of(paddr: number, size: number, kind: MetaKind<unknown>): VmReader<Infallible> {
  if (!is_untyped_kind(kind)) panic("`reader()` of a typed frame");
  unsafe: {
    // SAFETY: the range is untyped memory; the frame or segment is alive while the reader is used
    // (the caller's word in TypeScript); readers and writers are the only way to its bytes.
    return VmReader.from_kernel_space(paddr_to_vaddr(paddr), size);
  }
}

function writer_of(paddr: number, size: number, kind: MetaKind<unknown>): VmWriter<Infallible> {
  if (!is_untyped_kind(kind)) panic("`writer()` of a typed frame");
  unsafe: {
    // SAFETY: as for `reader_of`.
    return VmWriter.from_kernel_space(paddr_to_vaddr(paddr), size);
  }
}

Frame.prototype.reader = function (this: Frame<unknown>): VmReader<Infallible> {
  return reader_of(this.paddr(), this.size(), this.kind);
};
Frame.prototype.writer = function (this: Frame<unknown>): VmWriter<Infallible> {
  return writer_of(this.paddr(), this.size(), this.kind);
};
Segment.prototype.reader = function (this: Segment<unknown>): VmReader<Infallible> {
  return reader_of(this.paddr(), this.size(), this.kind);
};
Segment.prototype.writer = function (this: Segment<unknown>): VmWriter<Infallible> {
  return writer_of(this.paddr(), this.size(), this.kind);
};
