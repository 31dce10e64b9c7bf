/**
 * What references need to know about a layout beyond its size and alignment — where a struct's
 * field is (`&r.field`), an array's element layout and length (`&r[i]`), the contents of a `cell`
 * (`UnsafeCell::get`), and whether some bytes are interior-mutable — read from the composite
 * layouts of `layouts.ts`. Shared by the checked and the native runtime.
 */
import type { Field, Layout } from "../interp/memory/layouts.js";

/** The field `name` of a struct layout, or `null` when `layout` has no such field. */
export function fieldOf(layout: Layout<any>, name: string): Field | null {
  const fields = layout.fields;
  if (fields === undefined) return null;
  for (const f of fields) if (f.name === name) return f;
  return null;
}

/** The element layout and length of an array layout, or `null` for any other layout. */
export function elemOf(layout: Layout<any>): { elem: Layout<unknown>; len: number } | null {
  return layout.kind === "array" && layout.elem !== undefined ? { elem: layout.elem, len: layout.len } : null;
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
  const fields = layout.fields;
  if (fields === undefined) return `\`${method}("${name}")\` on a reference to \`${layout.name}\`, which is not a struct`;
  return `no field \`${name}\` on type \`${layout.name}\` (its fields: ${fields.map((f) => `\`${f.name}\``).join(", ")})`;
}
