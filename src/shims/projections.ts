/**
 * What references need to know about a layout beyond its size and alignment — where a struct's
 * field is (`&r.field`), an array's element layout and length (`&r[i]`), the contents of a `cell`
 * (`UnsafeCell::get`), and whether some bytes are interior-mutable — read from the composite
 * layouts of `layouts.ts`. Shared by the checked and the native runtime.
 *
 * Projections see through `maybe_uninit`: the contract types `maybe_uninit(T)` as a `Layout<T>`,
 * and a pointer to a `MaybeUninit<Header>` reaches `len` as Rust's
 * `addr_of_mut!((*slot.as_mut_ptr()).len)` does. The field is as uninitialised as its bytes:
 * reading it before a write is `uninit`, writing it initialises it.
 */
import { throughUninit, type Field, type Layout } from "../interp/memory/layouts.js";

/** The field `name` of a struct layout (or of a `maybe_uninit` struct), or `null` when `layout` has no such field. */
export function fieldOf(layout: Layout<any>, name: string): Field | null {
  const fields = throughUninit(layout).fields;
  if (fields === undefined) return null;
  // (Indexed: a `for … of` here allocated an iterator per field borrow.)
  for (let i = 0; i < fields.length; i++) if (fields[i]!.name === name) return fields[i]!;
  return null;
}

/** The element layout and length of an array layout (or of a `maybe_uninit` array), or `null` for any other layout. */
export function elemOf(layout: Layout<any>): { elem: Layout<unknown>; len: number } | null {
  const l = throughUninit(layout);
  return l.kind === "array" && l.elem !== undefined ? { elem: l.elem, len: l.len } : null;
}

/** The contents' layout of a `cell(T)`, or `null` when `layout` is not a cell. */
export function cellContents(layout: Layout<any>): Layout<unknown> | null {
  return layout.kind === "cell" ? (layout.inner ?? null) : null;
}

/** True for an atomic layout (`AtomicU32`, `AtomicPtr(T)`, …). */
export function isAtomic(layout: Layout<any>): boolean {
  return layout.kind === "atomic";
}

/** True when some byte of a `layout` value is interior-mutable (inside a `cell` or an atomic). */
export function hasInterior(layout: Layout<any>): boolean {
  return layout.cells !== null;
}

/** What a projection found missing, for the report: `no field \`x\` on type \`Node\` (its fields: …)`. */
export function noFieldMessage(layout: Layout<any>, name: string, method: string): string {
  const fields = throughUninit(layout).fields;
  if (fields === undefined) return `\`${method}("${name}")\` on a reference to \`${layout.name}\`, which is not a struct`;
  return `no field \`${name}\` on type \`${layout.name}\` (its fields: ${fields.map((f) => `\`${f.name}\``).join(", ")})`;
}
