/**
 * The words of memory errors, as Miri (rustc's const-eval messages) writes them. Pure functions of
 * the facts, so that the wording is testable and shared by every check that needs it (raw
 * accesses now; references, atomics and the device models later).
 */
import type { Allocation } from "./allocation.js";
import { ALLOC_KIND_NAMES } from "./allocation.js";

/** What was attempted when a pointer turned out bad: the three phrasings of rustc. */
export type PointerOp = "access" | "arithmetic" | "dereferenceable";


/** `0x2c`. */
export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** `1 byte` / `4 bytes` / `-4 bytes` (rustc writes a negative offset so). */
export function bytes(n: number): string {
  return n === 1 ? "1 byte" : `${n} bytes`;
}

/**
 * A pointer as Miri prints it in an error: `alloc7`, `alloc7+0x8`, `alloc7-0x4`, or for a pointer
 * without provenance `0x2c[noalloc]` (and `null pointer` for address 0).
 */
export function formatPointer(addr: number, a: Allocation | null): string {
  if (a === null) return addr === 0 ? "null pointer" : `${hex(addr)}[noalloc]`;
  const off = addr - a.base;
  if (off === 0) return a.name;
  return off > 0 ? `${a.name}+${hex(off)}` : `${a.name}-${hex(-off)}`;
}

/** `alloc3[0x0..0x4]`. */
export function formatRange(a: Allocation, start: number, end: number): string {
  return `${a.name}[${hex(start)}..${hex(end)}]`;
}

/** `memory access failed` / `in-bounds pointer arithmetic failed` / `pointer not dereferenceable`. */
export function pointerOpFailed(op: PointerOp): string {
  return op === "access"
    ? "memory access failed"
    : op === "arithmetic"
      ? "in-bounds pointer arithmetic failed"
      : "pointer not dereferenceable";
}

/** `memory access failed: attempting to access 4 bytes` and its siblings. */
function attempting(op: PointerOp, size: number): string {
  const head = pointerOpFailed(op);
  if (op === "access") return `${head}: attempting to access ${bytes(size)}`;
  if (op === "arithmetic") return `${head}: attempting to offset pointer by ${bytes(size)}`;
  return size === 0
    ? `${head}: pointer must point to some allocation`
    : `${head}: pointer must be dereferenceable for ${bytes(size)}`;
}

/** `...: attempting to access 4 bytes, but got null pointer`. */
export function nullPointerMessage(op: PointerOp, size: number): string {
  return `${attempting(op, size)}, but got null pointer`;
}

/** `...: attempting to access 4 bytes, but got 0x2c[noalloc] which is a dangling pointer (it has no provenance)`. */
export function noProvenanceMessage(op: PointerOp, size: number, addr: number): string {
  return `${attempting(op, size)}, but got ${hex(addr)}[noalloc] which is a dangling pointer (it has no provenance)`;
}

/** `memory access failed: alloc12 has been freed, so this pointer is dangling`. */
export function useAfterFreeMessage(op: PointerOp, a: Allocation): string {
  return `${pointerOpFailed(op)}: ${a.name} has been freed, so this pointer is dangling`;
}

/**
 * An access (or in-bounds offset) of `size` bytes at `addr` that leaves allocation `a`; `size`
 * is negative for an offset backwards. Follows rustc's `PointerOutOfBounds` wording:
 * `... but got alloc7+0x8 which is at or beyond the end of the allocation of size 8 bytes`,
 * `... which is only 2 bytes from the end of the allocation`,
 * `... which points to before the beginning of the allocation`,
 * `... which is at the beginning of the allocation` (a negative offset).
 */
export function outOfBoundsMessage(op: PointerOp, size: number, addr: number, a: Allocation): string {
  const off = addr - a.base;
  let where: string;
  if (off < 0) where = "points to before the beginning of the allocation";
  else if (size >= 0) {
    const left = Math.max(0, a.size - off);
    where =
      left === 0
        ? `is at or beyond the end of the allocation of size ${bytes(a.size)}`
        : `is only ${bytes(left)} from the end of the allocation`;
  } else {
    where = off === 0 ? "is at the beginning of the allocation" : `is only ${bytes(off)} from the beginning of the allocation`;
  }
  return `${attempting(op, size)}, but got ${formatPointer(addr, a)} which ${where}`;
}

/** `accessing memory with alignment 2, but alignment 4 is required`. */
export function misalignedMessage(addr: number, required: number): string {
  return `accessing memory with alignment ${addressAlignment(addr, required)}, but alignment ${required} is required`;
}

/** The alignment of an address (its largest power-of-two divisor), capped at `cap`. */
export function addressAlignment(addr: number, cap: number): number {
  let has = 1;
  while (has < cap && addr % (has * 2) === 0) has *= 2;
  return has;
}

/**
 * `reading memory at alloc3[0x0..0x4], but memory is uninitialized at [0x0..0x4], and this
 * operation requires initialized memory`.
 */
export function uninitMessage(a: Allocation, offset: number, size: number, bad: [number, number]): string {
  return (
    `reading memory at ${formatRange(a, offset, offset + size)}, but memory is uninitialized at ` +
    `[${hex(bad[0])}..${hex(bad[1])}], and this operation requires initialized memory`
  );
}

/**
 * `constructing invalid value of type Desc: at .len, encountered uninitialized memory, but expected
 * an integer`: the validity wording of an uninitialised part of a struct or array.
 */
export function uninitValueMessage(typeName: string, path: string, expected: string): string {
  return invalidValueMessage(typeName, `${path === "" ? "" : `at ${path}, `}encountered uninitialized memory, but expected ${expected}`);
}

/** `creating allocation with size 0` (Rust's allocator API forbids zero-sized requests). */
export const ZERO_SIZE_ALLOCATION = "creating allocation with size 0";

/** `constructing invalid value of type bool: encountered 0x02, but expected a boolean`. */
export function invalidValueMessage(typeName: string, what: string): string {
  return `constructing invalid value of type ${typeName}: ${what}`;
}

/** `writing to alloc3 which is read-only`. */
export function readOnlyMessage(a: Allocation): string {
  return `writing to ${a.name} which is read-only`;
}

/** `incorrect layout on deallocation: alloc3 has size 4 and alignment 4, but gave size 8 and alignment 8`. */
export function badLayoutMessage(a: Allocation, size: number, align: number): string {
  return (
    `incorrect layout on deallocation: ${a.name} has size ${a.size} and alignment ${a.align}, ` +
    `but gave size ${size} and alignment ${align}`
  );
}

/** `deallocating alloc3+0x4 which does not point to the beginning of an object` (`reallocating` for realloc). */
export function notAtStartMessage(verb: "deallocating" | "reallocating", addr: number, a: Allocation): string {
  return `${verb} ${formatPointer(addr, a)} which does not point to the beginning of an object`;
}

/** `deallocating alloc3, which is stack variable memory, using Rust heap deallocation operation`. */
export function wrongKindMessage(verb: "deallocating" | "reallocating", a: Allocation): string {
  return (
    `${verb} ${a.name}, which is ${ALLOC_KIND_NAMES[a.kind]} memory, using ` +
    `${ALLOC_KIND_NAMES.heap} deallocation operation`
  );
}

/** `memory leaked: alloc3 (Rust heap, size: 4, align: 4), allocated here:`. */
export function leakMessage(a: Allocation): string {
  return `memory leaked: ${a.name} (${ALLOC_KIND_NAMES[a.kind]}, size: ${a.size}, align: ${a.align}), allocated here:`;
}

/**
 * A hex dump of an allocation, Miri-style, `__` for an uninitialised byte: the lines to print
 * after `Uninitialized memory occurred at alloc3[0x0..0x4], in this allocation:`. At most
 * `maxBytes` bytes are shown.
 */
export function dumpAllocation(a: Allocation, maxBytes = 256): string[] {
  const lines = [`${a.name} (${ALLOC_KIND_NAMES[a.kind]}, size: ${a.size}, align: ${a.align}) {`];
  const shown = Math.min(a.size, maxBytes);
  const wide = a.size > 16;
  const data = a.bytes;
  for (let row = 0; row < shown; row += 16) {
    const cells: string[] = [];
    let ascii = "";
    for (let i = row; i < Math.min(row + 16, shown); i++) {
      const init = a.init === null || a.init[i] === 1;
      const b = data[i] ?? 0;
      cells.push(init ? b.toString(16).padStart(2, "0") : "__");
      ascii += !init ? "░" : b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".";
    }
    const body = cells.join(" ").padEnd(47, " ");
    lines.push(wide ? `    ${hex(row).padEnd(6, " ")}│ ${body} │ ${ascii}` : `    ${body} │ ${ascii}`);
  }
  if (shown < a.size) lines.push(`    … ${a.size - shown} more bytes`);
  lines.push("}");
  return lines;
}

/** The title and label of the warning `ptr_from_exposed` raises once per run (Miri's `integer-to-pointer cast`). */
export const INT2PTR_WARNING = "integer-to-pointer cast";

/** The help lines of the {@link INT2PTR_WARNING}, Miri's adapted to kmiri's names. */
export const INT2PTR_HELP: readonly string[] = [
  "this program is using integer-to-pointer casts or (equivalently) `ptr_from_exposed`, which means that kmiri might miss pointer bugs in this program",
  "see https://doc.rust-lang.org/nightly/std/ptr/fn.with_exposed_provenance.html for more details on that operation",
  "to ensure that kmiri does not miss bugs in your program, use Strict Provenance APIs (`with_addr`, `without_provenance`; https://doc.rust-lang.org/nightly/std/ptr/index.html#strict-provenance) instead",
  "you can then set `--strict-provenance` to ensure you are not relying on `ptr_from_exposed` semantics",
];

/** The `unsupported` message of `ptr_from_exposed` under `--strict-provenance` (Miri's `-Zmiri-strict-provenance`). */
export const STRICT_PROVENANCE_MESSAGE =
  "integer-to-pointer casts and `ptr_from_exposed` are not supported with `--strict-provenance`";

/** The help line of {@link STRICT_PROVENANCE_MESSAGE}. */
export const STRICT_PROVENANCE_HELP =
  "use Strict Provenance APIs (`with_addr`, `without_provenance`; https://doc.rust-lang.org/nightly/std/ptr/index.html#strict-provenance) instead";
