// OSTD's `mm/frame/mod.rs` (ostd/src/mm/frame/mod.rs), re-written for kmiri: frames — reference-
// counted handles to physical pages, whose metadata (and count) lives in the frame-metadata array —
// and what is built on them. The module's parts:
//   meta.ts        the metadata slots, the metadata-type registry (`AnyFrameMeta`), the count protocol
//   frame.ts       `Frame<M>` (this file's `Frame` in OSTD), `UFrame`, `inc_frame_ref_count`
//   unique.ts      `UniqueFrame<M>`
//   frame_ref.ts   `FrameRef`, and `Frame` as a `NonNullPtr`
//   segment.ts     `Segment<M>`, `USegment`
//   untyped.ts     untyped metadata, `reader()` / `writer()` of untyped frames and segments
//   linked_list.ts the intrusive list of frames (`LinkedList`, `CursorMut`, `Link`)
//   allocator.ts   `FrameAllocOptions`, the `GlobalFrameAllocator` seam
//   buddy.ts       the default global allocator (OSTD's `osdk/deps/frame-allocator`)
// Frames are typed or untyped by their metadata type: only untyped ones give out their bytes.
export { Frame, inc_frame_ref_count, type DynMeta, type MetaKind, type UFrame } from "./frame.js";
export { FrameRef, NonNullPtr } from "./frame_ref.js";
export { UniqueFrame } from "./unique.js";
export { Segment, type Range, type USegment } from "./segment.js";
export { UnitMeta } from "./untyped.js";
export { Link, LinkedList, CursorMut, type LinkV } from "./linked_list.js";
export {
  FrameAllocOptions, get_global_frame_allocator, global_frame_allocator, type Error, type FrameLayout,
  type GlobalFrameAllocator,
} from "./allocator.js";
export { BuddyFrameAllocator } from "./buddy.js";
export {
  DynFrameMeta, FRAME_METADATA_MAX_ALIGN, FRAME_METADATA_MAX_SIZE, KernelMeta, MetaPageMeta, REF_COUNT_MAX,
  REF_COUNT_UNIQUE, REF_COUNT_UNUSED, ReservedMemoryMeta, UnusableMemoryMeta, impl_frame_meta_for,
  impl_untyped_frame_meta_for, max_paddr, type FrameMetaType, type FrameMetaValue, type GetFrameError,
} from "./meta.js";
