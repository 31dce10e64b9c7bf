/**
 * Where a byte of a value is, in Miri's notation, for the validity wording of diagnostics:
 * `constructing invalid value of type Desc: at .len, encountered uninitialized memory, but
 * expected an integer`. Reads the layouts' structure (`fields`, `elem`, `inner`); slow path only.
 */
import type { Layout } from "./layouts.js";

/**
 * Where byte `offset` of a `layout` value is, for diagnostics: the path to it in Miri's notation
 * (`.next`, `[2].flags`, `.<enum-tag>`; empty for a scalar) and the innermost layout holding it
 * (`null` when the byte is padding).
 */
export function locate(layout: Layout<unknown>, offset: number): { path: string; leaf: Layout<unknown> | null } {
  let path = "";
  let l: Layout<unknown> = layout;
  let off = offset;
  for (;;) {
    if (l.kind === "struct") {
      const f = l.fields!.find((x) => x.offset <= off && off < x.offset + x.layout.size);
      if (f === undefined) return { path, leaf: null };
      path += `.${f.name}`;
      off -= f.offset;
      l = f.layout;
    } else if (l.kind === "array" && l.elem !== undefined && l.elem.size > 0) {
      const i = Math.floor(off / l.elem.size);
      path += `[${i}]`;
      off -= i * l.elem.size;
      l = l.elem;
    } else if (l.kind === "enum") {
      return { path: `${path}.<enum-tag>`, leaf: l };
    } else if ((l.kind === "cell" || l.kind === "maybe_uninit" || l.kind === "atomic") && l.inner !== undefined) {
      l = l.inner;
    } else {
      return { path, leaf: l };
    }
  }
}

/** What a valid value of a scalar layout is, in Miri's words (`an integer`, `a boolean`, …). */
export function expectedValue(leaf: Layout<unknown> | null): string {
  switch (leaf?.kind) {
    case "int":
      return "an integer";
    case "float":
      return "a floating point number";
    case "bool":
      return "a boolean";
    case "char":
      return "a unicode scalar value";
    case "ptr":
      return "a raw pointer";
    case "enum":
      return "a valid enum tag";
    default:
      return "initialized memory";
  }
}
