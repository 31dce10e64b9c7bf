/**
 * Rust-like `{:?}` formatting and equality of program values, for `assert_eq!` / `assert_ne!`
 * messages. Shared by the checked and the native runtime so both panic with the same text.
 */

/** Formats a value as Rust's `Debug` would print the corresponding Rust value. */
export function debugFormat(v: unknown, depth = 0): string {
  if (depth > 4) return "..";
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "bigint":
      return v.toString();
    case "number":
      return Number.isInteger(v) && !Object.is(v, -0) ? String(v) : String(v).includes(".") || !Number.isFinite(v) ? String(v) : `${v}.0`;
    case "boolean":
      return String(v);
    case "undefined":
      return "()";
    case "function":
      return `fn ${(v as Function).name || "<closure>"}`;
  }
  if (v === null) return "null";
  if (Array.isArray(v)) return `[${v.map((x) => debugFormat(x, depth + 1)).join(", ")}]`;
  const o = v as Record<string, unknown>;
  if (typeof o.addr === "function" && "layout" in o) {
    return `0x${(o.addr as () => number)().toString(16)}`;
  }
  const name = (o.constructor && o.constructor !== Object && o.constructor.name) || "";
  const fields = Object.keys(o).map((k) => `${k}: ${debugFormat(o[k], depth + 1)}`);
  return `${name ? `${name} ` : ""}{ ${fields.join(", ")} }`.replace("{  }", "{}");
}

/** Structural equality, as `#[derive(PartialEq)]` would compare (NaN is not equal to itself). */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  if (typeof ra.addr === "function" && typeof rb.addr === "function") {
    return (ra.addr as () => number)() === (rb.addr as () => number)();
  }
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && valuesEqual(ra[k], rb[k]));
}

/** The message of a failed `assert_eq!` / `assert_ne!` (Rust 1.73+ wording). */
export function assertionMessage(op: "==" | "!=", left: unknown, right: unknown, message?: string): string {
  return (
    `assertion \`left ${op} right\` failed${message ? `: ${message}` : ""}\n` +
    `  left: ${debugFormat(left)}\n right: ${debugFormat(right)}`
  );
}
