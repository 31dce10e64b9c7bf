/**
 * The slow path of the memory checks: once the fast path of `access.ts` has seen that something is
 * off, these functions find out exactly what, in the order Miri checks it, and report it to the
 * memory's host (the first report stops the run). Nothing here runs on a clean access.
 *
 * Each `diagnose*` function returns normally only when the operation is in fact allowed (a
 * zero-sized access through any pointer is); otherwise it reports, which throws.
 */
import { UB_HELP, type HelpLine, type UBKind } from "../report.js";
import type { Layout } from "./layouts.js";
import type { Allocation } from "./allocation.js";
import { NO_SITE, UNCHECKED_OFFSET } from "./allocation.js";
import type { Memory } from "./memory.js";
import { expectedValue, locate } from "./value-paths.js";
import {
  dumpAllocation,
  formatPointer,
  formatRange,
  invalidValueMessage,
  misalignedMessage,
  addressAlignment,
  noProvenanceMessage,
  nullPointerMessage,
  outOfBoundsMessage,
  readOnlyMessage,
  badLayoutMessage,
  notAtStartMessage,
  wrongKindMessage,
  uninitMessage,
  uninitValueMessage,
  useAfterFreeMessage,
  type PointerOp,
} from "./messages.js";

/** The location of a site, or none for {@link NO_SITE}. */
function siteLocation(m: Memory, site: number) {
  return site === NO_SITE ? undefined : m.host.siteLocation(site);
}

/** `alloc12 was allocated here:` (and `... was deallocated here:` once freed), with locations. */
export function allocationHelp(m: Memory, a: Allocation): HelpLine[] {
  const help: HelpLine[] = [{ message: `${a.name} was allocated here:`, location: siteLocation(m, a.allocSite) }];
  if (!a.live) help.push({ message: `${a.name} was deallocated here:`, location: siteLocation(m, a.freeSite) });
  return help;
}

/**
 * Reports Undefined Behavior with Miri's two generic help lines first, then `help` (the lines
 * that point somewhere), then `notes`.
 */
export function reportUB(m: Memory, kind: UBKind, message: string, help: HelpLine[] = [], notes?: string[]): never {
  return m.host.report(kind, message, {
    help: [...UB_HELP.map((m) => ({ message: m })), ...help],
    ...(notes === undefined ? {} : { notes }),
  });
}

/** True when `[off, off + size)` (or `[off + size, off)` for a negative size) lies within `a`. */
function inBounds(off: number, size: number, a: Allocation): boolean {
  const end = off + size;
  return (off < end ? off : end) >= 0 && (off < end ? end : off) <= a.size;
}

/**
 * Checks that `size` bytes at `addr` (signed for pointer arithmetic) are inside the live
 * allocation `a`, in the order Miri does: provenance (null, none), liveness, bounds. Returns when
 * they are, or when `size` is 0 (a zero-sized access or offset is allowed through any pointer).
 */
export function diagnosePointer(m: Memory, op: PointerOp, addr: number, a: Allocation | null, size: number): void {
  if (size === 0 && op !== "dereferenceable") return;
  if (a !== null && a.indirect) {
    a = resolveIndirect(m, addr, size, a);
    addr = m.translated;
  }
  if (a === null) {
    if (addr === 0) reportUB(m, "null-pointer", nullPointerMessage(op, size));
    reportUB(m, "no-provenance", noProvenanceMessage(op, size, addr));
  }
  if (!a.live) reportUB(m, "use-after-free", useAfterFreeMessage(op, a), allocationHelp(m, a));
  if (!inBounds(addr - a.base, size, a)) {
    reportUB(m, "out-of-bounds", outOfBoundsMessage(op, size, addr, a), allocationHelp(m, a));
  }
}

/** Reports a misaligned access at `addr` that requires `align`, if it is one. */
function diagnoseAlignment(m: Memory, addr: number, align: number): void {
  if (addr % align !== 0) reportUB(m, "misaligned", misalignedMessage(addr, align));
}

/**
 * The allocation an address stands for whose pointer carries the indirect provenance `marker`
 * (a wildcard from `ptr_from_exposed`; with Mirch, a virtual, physical or MMIO address), in an
 * access or offset of `size` bytes: asked of the memory's resolvers (`Memory.resolve`). `null`:
 * the pointer has no provenance there.
 */
export function resolveIndirect(m: Memory, addr: number, size: number, marker: Allocation): Allocation | null {
  // A resolver that translates the address (Mirch's virtual addresses) leaves the address the
  // access happens at in `translated`; the caller continues there.
  m.translated = addr;
  return m.resolve(addr, size, marker);
}

/**
 * The slow path of a read of `layout` at `addr` through provenance `a`: reports what is wrong, or
 * returns the value when nothing is (a zero-sized read through any pointer; a wildcard pointer
 * once resolved).
 */
export function diagnoseLoad<T>(m: Memory, addr: number, a: Allocation | null, layout: Layout<T>, aligned: boolean): T {
  // (An indirect provenance was resolved by the caller: access.ts's `loadSlow`.)
  const size = layout.size;
  diagnosePointer(m, "access", addr, a, size);
  if (aligned) diagnoseAlignment(m, addr, layout.align);
  if (size === 0 || a === null) return layout.decode(new DataView(new ArrayBuffer(0)), 0, a ?? undefined);
  const off = addr - a.base;
  const bad = a.firstUninitRanges(off, size, layout.initRanges);
  if (bad !== null) reportUninit(m, a, off, layout, bad);
  const why = layout.invalid === null ? null : layout.invalid(a.view, off, a);
  if (why !== null) reportUB(m, "invalid-value", invalidValueMessage(valueTypeName(layout), why));
  return layout.decode(a.view, off, a);
}

/** The type a read of `layout` constructs: `T` for a `maybe_uninit(T)` (read as `assume_init_read`). */
export function valueTypeName(layout: Layout<unknown>): string {
  return layout.kind === "maybe_uninit" && layout.inner !== undefined ? layout.inner.name : layout.name;
}

/**
 * Reports a read of a `layout` value at `off` of `a` whose bytes `bad` (absolute) are
 * uninitialised. A scalar gets Miri's memory wording and a dump of the allocation
 * (`reading memory at alloc3[0x0..0x8], but memory is uninitialized at [0x4..0x8], …`); a part of
 * a struct or array its validity wording, with the path to the part
 * (`constructing invalid value of type Desc: at .len, encountered uninitialized memory, but expected an integer`).
 */
export function reportUninit(m: Memory, a: Allocation, off: number, layout: Layout<unknown>, bad: [number, number]): never {
  const { path, leaf } = locate(layout, bad[0] - off);
  if (path !== "") reportUB(m, "uninit", uninitValueMessage(valueTypeName(layout), path, expectedValue(leaf)));
  return reportUB(m, "uninit", uninitMessage(a, off, layout.size, bad), [], [
    `Uninitialized memory occurred at ${formatRange(a, bad[0], bad[1])}, in this allocation:`,
    ...dumpAllocation(a),
  ]);
}

/**
 * The slow path of a write of `size` bytes at `addr` through provenance `a` (or, with `write`
 * false, of a read that needs no initialised bytes, as a bulk copy): reports what is wrong, or
 * returns when the access is allowed after all (zero-sized: nothing to do).
 */
export function diagnoseAccess(
  m: Memory,
  addr: number,
  a: Allocation | null,
  size: number,
  align: number,
  aligned: boolean,
  write: boolean,
): void {
  if (a !== null && a.indirect) {
    a = resolveIndirect(m, addr, size, a);
    addr = m.translated;
  }
  diagnosePointer(m, "access", addr, a, size);
  if (aligned) diagnoseAlignment(m, addr, align);
  if (write && size !== 0 && a !== null && !a.writable) reportUB(m, "read-only", readOnlyMessage(a));
}

/** The slow path of an in-bounds offset of `bytes` (signed) from `addr`; a wildcard is resolved first. */
export function diagnoseOffset(m: Memory, addr: number, a: Allocation | null, bytes: number): void {
  if (a !== null && a.indirect) {
    // Resolvers are told it is arithmetic, not an access (no access rule applies).
    m.resolvingOffset = true;
    try {
      a = resolveIndirect(m, addr, bytes, a);
    } finally {
      m.resolvingOffset = false;
    }
    if (a === UNCHECKED_OFFSET) return;
    addr = m.translated;
  }
  diagnosePointer(m, "arithmetic", addr, a, bytes);
}

/**
 * Checks that a reference to `layout` at `addr` may be made (`&*p`, `&mut *p`): dereferenceable
 * for its size, then aligned. Reports with Miri's validity wording
 * (`constructing invalid value of type &u32: encountered a dangling reference (use-after-free)`).
 */
export function diagnoseReference(m: Memory, addr: number, a: Allocation | null, layout: Layout<unknown>, mutable: boolean): void {
  if (a !== null && a.indirect) {
    a = resolveIndirect(m, addr, layout.size, a);
    addr = m.translated;
  }
  const type = `${mutable ? "&mut " : "&"}${layout.name}`;
  const size = layout.size;
  const invalid: (kind: UBKind, what: string, help?: HelpLine[]) => never = (kind, what, help = []) =>
    reportUB(m, kind, invalidValueMessage(type, what), help);
  if (addr === 0) invalid("invalid-value", "encountered a null reference");
  if (size !== 0) {
    if (a === null) invalid("no-provenance", `encountered a dangling reference (${formatPointer(addr, null)} has no provenance)`);
    if (!a.live) invalid("use-after-free", "encountered a dangling reference (use-after-free)", allocationHelp(m, a));
    if (!inBounds(addr - a.base, size, a)) {
      invalid("out-of-bounds", "encountered a dangling reference (going beyond the bounds of its allocation)", allocationHelp(m, a));
    }
  }
  if (addr % layout.align !== 0) {
    invalid(
      "misaligned",
      `encountered an unaligned reference (required ${layout.align} byte alignment but found ${addressAlignment(addr, layout.align)})`,
    );
  }
}

/**
 * Reports what is wrong with a deallocation (`verb` "deallocating") or reallocation of `addr` as a
 * heap block of `size` bytes aligned to `align`, in Miri's order: provenance, offset, liveness
 * (a second free is `double-free`), kind of memory, layout.
 */
export function diagnoseDealloc(
  m: Memory,
  addr: number,
  a: Allocation | null,
  size: number,
  align: number,
  verb: "deallocating" | "reallocating",
): never {
  if (a !== null && a.indirect) {
    a = resolveIndirect(m, addr, 0, a);
    addr = m.translated;
  }
  if (a === null) {
    diagnosePointer(m, "dereferenceable", addr, a, 0);
    throw new Error("kmiri internal error: a pointer without provenance passed the dealloc check");
  }
  if (addr !== a.base) reportUB(m, "bad-dealloc", notAtStartMessage(verb, addr, a), allocationHelp(m, a));
  if (!a.live) {
    reportUB(m, verb === "deallocating" ? "double-free" : "use-after-free", useAfterFreeMessage("access", a), allocationHelp(m, a));
  }
  if (a.kind !== "heap") reportUB(m, "bad-dealloc", wrongKindMessage(verb, a), allocationHelp(m, a));
  return reportUB(m, "bad-dealloc", badLayoutMessage(a, size, align), allocationHelp(m, a));
}
