/**
 * Pointers to Mirch's kernel addresses, and the resolver that decides what they reach.
 *
 * `phys_ptr(paddr)` is `ptr_from_exposed(paddr + LINEAR_MAPPING_BASE)`: every physical page counts
 * as exposed from boot. What the pointer carries depends on what is at the address *when it is
 * made* (mirch.d.ts), translated as an access would translate it:
 *
 * - a **typed** allocation, through the linear map: the allocation itself and its root tag — the
 *   memory's fast path, as for a heap pointer (the common case of kernel objects: slab slots,
 *   page-table pages, stacks);
 * - an **untyped** allocation: an indirect marker, so that every access goes to the resolver,
 *   which lets only volatile and atomic accesses of plain data through (page-state) and checks
 *   DMA ownership;
 * - a **vmalloc or metadata** address: a marker naming the allocation it translated to; every
 *   access translates again through the current CPU's TLB and table (`page-table`, `stale-tlb`),
 *   and continues at the linear-map address of the page (the memory's `translated`);
 * - an **MMIO** hole: a marker whose accesses reach the device (devices.ts);
 * - **nothing** (a free or reserved page): a marker whose every access is `page-state`.
 *
 * A typed allocation is bound to the first kernel virtual address it is accessed through after
 * its retype: the linear map when a linear pointer to it is made first (the binding is taken when
 * that pointer is made: linear pointers take the fast path, which cannot watch for a first
 * access), else the vmalloc or metadata address of its first access. A pointer through the other
 * one reports `page-state` at its first access.
 *
 * The pointers a program makes carry a borrow tag: linear pointers to typed memory carry the
 * allocation's root tag rather than Miri's wildcard (a pointer from an integer), so that kernel
 * objects reached through the linear map take the fast path. A documented difference: a raw
 * pointer made from an address then invalidates references derived from it as the root would.
 *
 * @module
 */
import { FRAME_METADATA_CAP, KERNEL_CODE_BASE, LINEAR_MAPPING_BASE, PAGE_SIZE, VMALLOC_BASE } from "../../mirch/constants.js";
import { UNCHECKED_OFFSET, indirectMarker, type Allocation } from "../memory/allocation.js";
import type { Layout } from "../memory/layouts.js";
import { LINEAR_BINDING, physSlot, type PhysSlot } from "./physical-pages.js";
import type { MirchMachine } from "./mirch-machine.js";

/** What a Mirch marker stands for (kept in the marker's `page` slot). */
export interface MarkerInfo {
  readonly mirch: "marker";
  readonly kind: "untyped" | "virtual" | "mmio" | "none" | "misbound";
  /** The allocation the pointer was made to (`virtual`, `untyped`, `misbound`), or `null`. */
  readonly target: Allocation | null;
}

/** A new marker for `info`. */
function marker(info: MarkerInfo): Allocation {
  const m = indirectMarker();
  m.page = info;
  return m;
}

/** The marker of kind `kind` for pointers to `a` (one per allocation and kind). */
function markerOf(a: Allocation, slot: PhysSlot, kind: MarkerInfo["kind"]): Allocation {
  slot.markers ??= new Map();
  let mk = slot.markers.get(kind);
  if (mk === undefined) {
    mk = marker({ mirch: "marker", kind, target: a });
    slot.markers.set(kind, mk);
  }
  return mk;
}

/** The markers shared by every pointer of their kind (one set per Machine). */
export interface SharedMarkers {
  readonly mmio: Allocation;
  readonly none: Allocation;
}

/** Makes the shared markers of a Machine. */
export function sharedMarkers(): SharedMarkers {
  return {
    mmio: marker({ mirch: "marker", kind: "mmio", target: null }),
    none: marker({ mirch: "marker", kind: "none", target: null }),
  };
}

/** The provenance and tag of a pointer made to kernel address `addr` (linear, vmalloc or metadata). */
export function kernelPointer(mm: MirchMachine, addr: number): { provenance: Allocation | null; tag: number } {
  if (addr < VMALLOC_BASE) return linearPointer(mm, addr - LINEAR_MAPPING_BASE);
  if (addr < FRAME_METADATA_CAP) {
    // Translated now, as an access would be, to find the allocation it stands for; translated
    // again at every access.
    const paddr = mm.translateKernel(addr, false, true);
    if (paddr === null) return { provenance: marker({ mirch: "marker", kind: "virtual", target: null }), tag: 0 };
    if (mm.isMmioHole(paddr)) return { provenance: marker({ mirch: "marker", kind: "virtual", target: null }), tag: 0 };
    const a = mm.pages.at(paddr);
    if (a === null) return { provenance: marker({ mirch: "marker", kind: "virtual", target: null }), tag: 0 };
    return { provenance: markerOf(a, physSlot(a)!, "virtual"), tag: 0 };
  }
  // (Kernel-image addresses are the Machine's own memory: ptr_from_exposed's wildcard.)
  return { provenance: null, tag: 0 };
}

/** A pointer through the linear map to physical address `paddr`. */
function linearPointer(mm: MirchMachine, paddr: number): { provenance: Allocation | null; tag: number } {
  if (mm.isMmioHole(paddr)) return { provenance: mm.markers.mmio, tag: 0 };
  const a = mm.pages.at(paddr);
  if (a === null) return { provenance: mm.markers.none, tag: 0 };
  const slot = physSlot(a)!;
  if (slot.type === null) return { provenance: markerOf(a, slot, "untyped"), tag: 0 };
  if (slot.binding === -1) slot.binding = LINEAR_BINDING;
  if (slot.binding !== LINEAR_BINDING) return { provenance: markerOf(a, slot, "misbound"), tag: 0 };
  return { provenance: a, tag: slot.root };
}

/**
 * The memory's resolver for Mirch's markers (seam.ts): the allocation an access through `marker`
 * at `addr` of `size` bytes reaches, after every Mirch check of it; the address it continues at
 * is left in the memory's `translated`. `undefined` for markers that are not Mirch's.
 */
export function resolveMirch(mm: MirchMachine, addr: number, size: number, mk: Allocation): Allocation | null | undefined {
  const info = mk.page as MarkerInfo | PhysSlot | null;
  if (info === null) return undefined;
  if (info.mirch === "phys") return pieceAt(info, addr, mk);
  if (info.mirch !== "marker") return undefined;
  if (mm.memory.resolvingOffset) {
    // Pointer arithmetic: bounds only, within the allocation the pointer was made to. Device
    // memory, and mappings (translated at each access, where they may have changed), are not
    // checked until accessed.
    if (info.kind === "untyped" || info.kind === "misbound") return pieceFor(info.target!, addr);
    return UNCHECKED_OFFSET;
  }
  switch (info.kind) {
    case "untyped": {
      const a = pieceFor(info.target!, addr);
      if (a.live) mm.untypedAccess(a, addr, size);
      return a;
    }
    case "none":
      return mm.reportNoPage(addr - LINEAR_MAPPING_BASE);
    case "misbound":
      return mm.reportMisbound(info.target!, addr, LINEAR_BINDING);
    case "mmio":
      return mm.devices.mmioAccess(addr - LINEAR_MAPPING_BASE, size, addr);
    case "virtual":
      return virtualAccess(mm, info.target, addr, size);
  }
}

/** An access through a vmalloc or metadata address: translated, then checked at its linear place. */
function virtualAccess(mm: MirchMachine, target: Allocation | null, addr: number, size: number): Allocation | null {
  const memory = mm.memory;
  const paddr = mm.translateKernel(addr, memory.accessWrite, false)!;
  const linear = LINEAR_MAPPING_BASE + paddr;
  if (mm.isMmioHole(paddr)) return mm.devices.mmioAccess(paddr, size, addr);
  if (target === null) return mm.reportNoPage(paddr, addr);
  const a = pieceFor(target, linear);
  memory.translated = linear;
  if (!a.live) return a;
  const slot = physSlot(a)!;
  if (slot.type === null) {
    mm.untypedAccess(a, linear, size);
    return a;
  }
  const base = addr - (linear - a.base);
  if (slot.binding === -1) slot.binding = base;
  else if (slot.binding !== base) return mm.reportMisbound(a, addr, slot.binding);
  return a;
}

/** The allocation that holds `addr` now, for a pointer to `a` (which may have been split since). */
function pieceFor(a: Allocation, addr: number): Allocation {
  const slot = physSlot(a);
  if (slot === null || slot.pieces === null) return a;
  return pieceAt(slot, addr, a);
}

/** After a split: the piece of `slot`'s allocation holding `addr` (a dead one for freed pages). */
function pieceAt(slot: PhysSlot, addr: number, whole: Allocation): Allocation {
  for (const p of slot.pieces ?? []) {
    if (addr >= p.base && addr < p.base + p.size) return pieceFor(p, addr);
  }
  // Outside every piece (before or past the whole): the original reports it.
  return whole;
}

/**
 * Plain data for untyped memory (mirch.d.ts): integers, floats, and arrays, structs and atomics of
 * them — every bit pattern a valid value, no pointer.
 */
export function isPlainData(l: Layout<unknown>): boolean {
  switch (l.kind) {
    case "int":
    case "float":
      return true;
    case "array":
      return isPlainData(l.elem!);
    case "struct":
      return (l.fields ?? []).every((f) => isPlainData(f.layout));
    case "atomic":
    case "cell":
      return isPlainData(l.inner!);
    default:
      return false;
  }
}

/** Whether `addr` is a kernel address Mirch resolves (linear map, vmalloc, metadata). */
export function isMirchKernelAddress(addr: number): boolean {
  return addr >= LINEAR_MAPPING_BASE && addr < KERNEL_CODE_BASE;
}

/** The page base of `addr`. */
export function pageOf(addr: number): number {
  return addr - (addr % PAGE_SIZE);
}

/**
 * A reference made through a vmalloc or metadata pointer (`as_ref`, `as_mut`): the place the
 * address translates to now, checked as an access of `layout` would be, as a pointer through the
 * linear map — the reference keeps that place, as a retag picks its allocation. `null` for a
 * pointer that is not virtual (the reference keeps it, and its accesses are checked through it).
 */
export function concretePointer(mm: MirchMachine, addr: number, mk: Allocation, layout: Layout<unknown>, mutable: boolean): { address: number; provenance: Allocation; tag: number } | null {
  const info = mk.page as MarkerInfo | PhysSlot | null;
  if (info === null || info.mirch !== "marker" || info.kind !== "virtual") return null;
  const memory = mm.memory;
  memory.accessLayout = layout;
  memory.accessWrite = mutable;
  memory.translated = addr;
  const a = resolveMirch(mm, addr, layout.size, mk);
  if (a === null || a === undefined || !a.live || a.kind === "mmio") return null;
  const slot = physSlot(a)!;
  const address = memory.translated;
  return slot.type === null ? { address, provenance: markerOf(a, slot, "untyped"), tag: 0 } : { address, provenance: a, tag: slot.root };
}
