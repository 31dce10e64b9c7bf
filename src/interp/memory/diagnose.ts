/**
 * The slow path of the memory checks: once the fast path of `access.ts` has seen that something is
 * off, these functions find out exactly what, in the order Miri checks it, and report it to the
 * running Machine (the first report stops the run). Nothing here runs on a clean access.
 *
 * Each `diagnose*` function returns normally only when the operation is in fact allowed (a
 * zero-sized access through any pointer is); otherwise it reports, which throws.
 */
import type { HelpLine, UBKind } from "../diagnostics/report.js";
import { current } from "../host.js";
import type { Layout } from "../../shims/layouts.js";
import type { Allocation } from "./allocation.js";
import { NO_SITE } from "./allocation.js";
import {
  UB_HELP,
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
  useAfterFreeMessage,
  type PointerOp,
} from "./messages.js";

/** The location of a site, or none for {@link NO_SITE}. */
function siteLocation(site: number) {
  return site === NO_SITE ? undefined : current.siteLocation(site);
}

/** `alloc12 was allocated here:` (and `... was deallocated here:` once freed), with locations. */
export function allocationHelp(a: Allocation): HelpLine[] {
  const help: HelpLine[] = [{ message: `${a.name} was allocated here:`, location: siteLocation(a.allocSite) }];
  if (!a.live) help.push({ message: `${a.name} was deallocated here:`, location: siteLocation(a.freeSite) });
  return help;
}

/**
 * Reports Undefined Behavior with Miri's two generic help lines first, then `help` (the lines
 * that point somewhere), then `notes`.
 */
export function reportUB(kind: UBKind, message: string, help: HelpLine[] = [], notes?: string[]): never {
  return current.report(kind, message, {
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
export function diagnosePointer(op: PointerOp, addr: number, a: Allocation | null, size: number): void {
  if (size === 0 && op !== "dereferenceable") return;
  if (a === null) {
    if (addr === 0) reportUB("null-pointer", nullPointerMessage(op, size));
    reportUB("no-provenance", noProvenanceMessage(op, size, addr));
  }
  if (!a.live) reportUB("use-after-free", useAfterFreeMessage(op, a), allocationHelp(a));
  if (!inBounds(addr - a.base, size, a)) {
    reportUB("out-of-bounds", outOfBoundsMessage(op, size, addr, a), allocationHelp(a));
  }
}

/** Reports a misaligned access at `addr` that requires `align`, if it is one. */
function diagnoseAlignment(addr: number, align: number): void {
  if (addr % align !== 0) reportUB("misaligned", misalignedMessage(addr, align));
}

/**
 * The slow path of a read of `layout` at `addr` through provenance `a`: reports what is wrong, or
 * returns the value when nothing is (a zero-sized read through any pointer).
 */
export function diagnoseLoad<T>(addr: number, a: Allocation | null, layout: Layout<T>, aligned: boolean): T {
  const size = layout.size;
  diagnosePointer("access", addr, a, size);
  if (aligned) diagnoseAlignment(addr, layout.align);
  if (size === 0 || a === null) return layout.decode(new DataView(new ArrayBuffer(0)), 0);
  const off = addr - a.base;
  const bad = a.firstUninit(off, size);
  if (bad !== null) {
    reportUB("uninit", uninitMessage(a, off, size, bad), [], [
      `Uninitialized memory occurred at ${formatRange(a, bad[0], bad[1])}, in this allocation:`,
      ...dumpAllocation(a),
    ]);
  }
  const why = layout.invalid === null ? null : layout.invalid(a.view, off);
  if (why !== null) reportUB("invalid-value", invalidValueMessage(layout.name, why));
  return layout.decode(a.view, off);
}

/**
 * The slow path of a write of `size` bytes at `addr` through provenance `a` (or, with `write`
 * false, of a read that needs no initialised bytes, as a bulk copy): reports what is wrong, or
 * returns when the access is allowed after all (zero-sized: nothing to do).
 */
export function diagnoseAccess(
  addr: number,
  a: Allocation | null,
  size: number,
  align: number,
  aligned: boolean,
  write: boolean,
): void {
  diagnosePointer("access", addr, a, size);
  if (aligned) diagnoseAlignment(addr, align);
  if (write && size !== 0 && a !== null && !a.writable) reportUB("read-only", readOnlyMessage(a));
}

/** The slow path of an in-bounds offset of `bytes` (signed) from `addr`. */
export function diagnoseOffset(addr: number, a: Allocation | null, bytes: number): void {
  diagnosePointer("arithmetic", addr, a, bytes);
}

/**
 * Checks that a reference to `layout` at `addr` may be made (`&*p`, `&mut *p`): dereferenceable
 * for its size, then aligned. Reports with Miri's validity wording
 * (`constructing invalid value of type &u32: encountered a dangling reference (use-after-free)`).
 */
export function diagnoseReference(addr: number, a: Allocation | null, layout: Layout<unknown>, mutable: boolean): void {
  const type = `${mutable ? "&mut " : "&"}${layout.name}`;
  const size = layout.size;
  const invalid: (kind: UBKind, what: string, help?: HelpLine[]) => never = (kind, what, help = []) =>
    reportUB(kind, invalidValueMessage(type, what), help);
  if (addr === 0) invalid("null-pointer", "encountered a null reference");
  if (size !== 0) {
    if (a === null) invalid("no-provenance", `encountered a dangling reference (${formatPointer(addr, null)} has no provenance)`);
    if (!a.live) invalid("use-after-free", "encountered a dangling reference (use-after-free)", allocationHelp(a));
    if (!inBounds(addr - a.base, size, a)) {
      invalid("out-of-bounds", "encountered a dangling reference (going beyond the bounds of its allocation)", allocationHelp(a));
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
  addr: number,
  a: Allocation | null,
  size: number,
  align: number,
  verb: "deallocating" | "reallocating",
): never {
  if (a === null) {
    diagnosePointer("dereferenceable", addr, a, 0);
    throw new Error("kmiri internal error: a pointer without provenance passed the dealloc check");
  }
  if (addr !== a.base) reportUB("bad-dealloc", notAtStartMessage(verb, addr, a), allocationHelp(a));
  if (!a.live) {
    reportUB(verb === "deallocating" ? "double-free" : "use-after-free", useAfterFreeMessage("access", a), allocationHelp(a));
  }
  if (a.kind !== "heap") reportUB("bad-dealloc", wrongKindMessage(verb, a), allocationHelp(a));
  return reportUB("bad-dealloc", badLayoutMessage(a, size, align), allocationHelp(a));
}
