/**
 * Layouts: the size, alignment and byte encoding of the types program code stores in memory.
 *
 * A layout is shared by the checked and the native runtime. Besides the `name`, `size` and
 * `align` of the `kmiri/rt` contract it carries what both runtimes need on every access:
 * `decode`/`encode` (the value ⇄ little-endian bytes at an offset of a `DataView`, no checks) and
 * `invalid` (the validity check the checked runtime runs after reading, `null` when every
 * initialised bit pattern is a valid value — then the check costs one comparison).
 *
 * `kind` is the discriminant the composite layouts (`ptr`, `array`, `struct`, `cell`, `enum_`,
 * atomics, `maybe_uninit`) will extend; this module defines the scalars.
 */

/** What kind of type a layout describes. Composite kinds are declared ahead of their layouts. */
export type LayoutKind =
  | "int"
  | "float"
  | "bool"
  | "char"
  | "unit"
  | "ptr"
  | "array"
  | "struct"
  | "cell"
  | "enum"
  | "atomic"
  | "maybe_uninit";

/**
 * The layout of a type whose values read as `T`: its name, size and alignment in bytes, and how
 * its values are stored.
 *
 * `decode`, `encode` and `invalid` are the runtime's own: program code has no reason to call them.
 */
export interface Layout<T> {
  /** The Rust name of the type (`u32`, `bool`, `Node`, …), as diagnostics print it. */
  readonly name: string;
  /** Size in bytes (`mem::size_of`). */
  readonly size: number;
  /** Alignment in bytes, a power of two (`mem::align_of`). */
  readonly align: number;
  /** The discriminant of the layout. */
  readonly kind: LayoutKind;
  /**
   * Reads a value from `view` at byte `offset` (little-endian). No checks: the bytes must be in
   * bounds and, for a type with invalid bit patterns, valid (see {@link Layout.invalid}).
   */
  decode(view: DataView, offset: number): T;
  /** Writes `value` into `view` at byte `offset` (little-endian). No checks. */
  encode(view: DataView, offset: number, value: T): void;
  /**
   * The validity check of a read: given the (initialised) bytes at `offset`, `null` if they are a
   * valid value, else what was found, in Miri's words (`encountered 0x02, but expected a boolean`).
   * `null` itself when every bit pattern is valid.
   */
  readonly invalid: ((view: DataView, offset: number) => string | null) | null;
}

/** The JS value type of a layout. */
export type Value<L> = L extends Layout<infer T> ? T : never;

/** 2^32, to split a `usize`/`isize` number into two 32-bit halves. */
const TWO_32 = 4294967296;

/**
 * Builds a scalar layout. Every scalar is made here, with its properties in one order, so that all
 * of them share one hidden class and the property loads of the access path stay monomorphic.
 */
function scalar<T>(
  name: string,
  kind: LayoutKind,
  size: number,
  align: number,
  decode: (view: DataView, offset: number) => T,
  encode: (view: DataView, offset: number, value: T) => void,
  invalid: ((view: DataView, offset: number) => string | null) | null = null,
): Layout<T> {
  return Object.freeze({ name, size, align, kind, decode, encode, invalid });
}

/** `value` as Miri prints a scalar in a validity error: hex, zero-padded to the type's width. */
function hexOf(value: number, bytes: number): string {
  return `0x${value.toString(16).padStart(bytes * 2, "0")}`;
}

/** `u8`. */
export const u8: Layout<number> = scalar<number>(
  "u8", "int", 1, 1,
  (v, o) => v.getUint8(o),
  (v, o, x) => v.setUint8(o, x),
);
/** `u16`. */
export const u16: Layout<number> = scalar<number>(
  "u16", "int", 2, 2,
  (v, o) => v.getUint16(o, true),
  (v, o, x) => v.setUint16(o, x, true),
);
/** `u32`. */
export const u32: Layout<number> = scalar<number>(
  "u32", "int", 4, 4,
  (v, o) => v.getUint32(o, true),
  (v, o, x) => v.setUint32(o, x, true),
);
/** `u64`: a `bigint`. */
export const u64: Layout<bigint> = scalar<bigint>(
  "u64", "int", 8, 8,
  (v, o) => v.getBigUint64(o, true),
  (v, o, x) => v.setBigUint64(o, x, true),
);
/**
 * `usize`: a `number` (Mirch addresses stay below 2^53), stored in 8 bytes. Values of 2^53 and
 * more read back rounded, as any JS number would be.
 */
export const usize: Layout<number> = scalar<number>(
  "usize", "int", 8, 8,
  (v, o) => v.getUint32(o, true) + v.getUint32(o + 4, true) * TWO_32,
  // setUint32 takes its argument modulo 2^32, which is exactly the low half; the high half is
  // the floor quotient (two's complement for a negative number, by the same modulo).
  (v, o, x) => {
    v.setUint32(o, x, true);
    v.setUint32(o + 4, Math.floor(x / TWO_32), true);
  },
);
/** `i8`. */
export const i8: Layout<number> = scalar<number>(
  "i8", "int", 1, 1,
  (v, o) => v.getInt8(o),
  (v, o, x) => v.setInt8(o, x),
);
/** `i16`. */
export const i16: Layout<number> = scalar<number>(
  "i16", "int", 2, 2,
  (v, o) => v.getInt16(o, true),
  (v, o, x) => v.setInt16(o, x, true),
);
/** `i32`. */
export const i32: Layout<number> = scalar<number>(
  "i32", "int", 4, 4,
  (v, o) => v.getInt32(o, true),
  (v, o, x) => v.setInt32(o, x, true),
);
/** `i64`: a `bigint`. */
export const i64: Layout<bigint> = scalar<bigint>(
  "i64", "int", 8, 8,
  (v, o) => v.getBigInt64(o, true),
  (v, o, x) => v.setBigInt64(o, x, true),
);
/** `isize`: a `number` stored in 8 bytes (two's complement). */
export const isize: Layout<number> = scalar<number>(
  "isize", "int", 8, 8,
  (v, o) => v.getUint32(o, true) + v.getInt32(o + 4, true) * TWO_32,
  (v, o, x) => {
    v.setUint32(o, x, true);
    v.setUint32(o + 4, Math.floor(x / TWO_32), true);
  },
);
/** `f32`. */
export const f32: Layout<number> = scalar<number>(
  "f32", "float", 4, 4,
  (v, o) => v.getFloat32(o, true),
  (v, o, x) => v.setFloat32(o, x, true),
);
/** `f64`. */
export const f64: Layout<number> = scalar<number>(
  "f64", "float", 8, 8,
  (v, o) => v.getFloat64(o, true),
  (v, o, x) => v.setFloat64(o, x, true),
);
/** `bool`: one byte, 0 or 1; any other byte is an invalid value. */
export const bool: Layout<boolean> = scalar<boolean>(
  "bool", "bool", 1, 1,
  (v, o) => v.getUint8(o) !== 0,
  (v, o, x) => v.setUint8(o, x ? 1 : 0),
  (v, o) => {
    const b = v.getUint8(o);
    return b <= 1 ? null : `encountered ${hexOf(b, 1)}, but expected a boolean`;
  },
);
/**
 * `char`: a Unicode scalar value in 4 bytes; reads as a one-code-point string. A surrogate or a
 * value above 0x10FFFF is an invalid value.
 */
export const char: Layout<string> = scalar<string>(
  "char", "char", 4, 4,
  (v, o) => String.fromCodePoint(v.getUint32(o, true)),
  (v, o, x) => v.setUint32(o, x.codePointAt(0) ?? 0, true),
  (v, o) => {
    const c = v.getUint32(o, true);
    return c <= 0x10ffff && (c < 0xd800 || c > 0xdfff)
      ? null
      : `encountered ${hexOf(c, 4)}, but expected a valid unicode scalar value ` +
          "(in `0..=0x10FFFF` but not in `0xD800..=0xDFFF`)";
  },
);
/** `()`: zero-sized; reads as `undefined`. */
export const unit: Layout<undefined> = scalar<undefined>(
  "()", "unit", 0, 1,
  () => undefined,
  () => {},
);

/**
 * `[T; len]`: `len` elements of `elem` back to back (a Rust array has no padding between
 * elements: the element size is already a multiple of its alignment). Reads as a JS array.
 * The other composite layouts (`ptr`, `struct`, `cell`, `enum_`, …) come with the memory model.
 */
export function array<T>(elem: Layout<T>, len: number): Layout<T[]> {
  if (!Number.isInteger(len) || len < 0) throw new RangeError(`array length must be a non-negative integer, got ${len}`);
  const stride = elem.size;
  const check = elem.invalid;
  return scalar<T[]>(
    `[${elem.name}; ${len}]`, "array", stride * len, elem.align,
    (v, o) => {
      const out = new Array<T>(len);
      for (let i = 0; i < len; i++) out[i] = elem.decode(v, o + i * stride);
      return out;
    },
    (v, o, x) => {
      for (let i = 0; i < len; i++) elem.encode(v, o + i * stride, x[i]);
    },
    check &&
      ((v, o) => {
        for (let i = 0; i < len; i++) {
          const bad = check(v, o + i * stride);
          if (bad) return `at [${i}], ${bad}`;
        }
        return null;
      }),
  );
}

/** `mem::size_of::<T>()`. */
export function size_of(layout: Layout<unknown>): number {
  return layout.size;
}

/** `mem::align_of::<T>()`. */
export function align_of(layout: Layout<unknown>): number {
  return layout.align;
}
