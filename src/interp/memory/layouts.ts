/**
 * Layouts: the size, alignment and byte encoding of the types program code stores in memory.
 *
 * A layout is shared by the checked and the native runtime. Besides the `name`, `size` and
 * `align` of the `kmiri/rt` contract it carries what both runtimes need on every access:
 * `decode`/`encode` (the value ⇄ little-endian bytes at an offset of a `DataView`, no checks),
 * `invalid` (the validity check the checked runtime runs after reading, `null` when every
 * initialised bit pattern is a valid value — then the check costs one comparison), and which of
 * its bytes must be initialised (`initRanges`), are padding (`padding`) or are interior-mutable
 * (`cells`).
 *
 * Pointers: a `ptr` layout stores the address in its 8 bytes and hands the provenance to the
 * memory it is read from or written to — the `mem` argument of `decode`/`encode`, a
 * {@link LayoutMemory}: on the Machine the {@link Allocation} itself (which keeps a side table of
 * the pointers stored in it), natively the native heap. Layouts that hold no pointer ignore it.
 *
 * Every layout is a {@link LayoutImpl}: one class, its fields assigned in one order, so that every
 * layout shares one hidden class and the property loads of the access path stay monomorphic.
 * Nothing here is `Object.freeze`d: V8 reads frozen arrays and objects several times slower, and
 * the field list and byte ranges are read on every projection and access (`readonly` in the types
 * is the protection).
 */

/**
 * A pointer value as memory sees it: the `Ptr` of whichever runtime reads it (the memory's pointer
 * factory makes it). Each runtime re-exports `ptr` and `AtomicPtr` typed with its own `Ptr`, which
 * is what programs compile against.
 */
export interface PointerValue<T> {
  /** The address. */
  readonly address: number;
  /** The pointee's layout. */
  readonly layout: Layout<T>;
}

/** The type a `ptr(T)` layout is declared with here (the runtimes narrow it to their `Ptr<T>`). */
type Ptr<T> = PointerValue<T>;

/** What kind of type a layout describes. */
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
 * Where a value is read from or written to, as the layouts of pointers (and `maybe_uninit`) need
 * it: the Machine's allocation, or the native heap. Scalar layouts never touch it.
 */
export interface LayoutMemory {
  /**
   * The pointer stored at `offset` of `view` (its address is in the 8 bytes; its provenance is
   * wherever this memory keeps it), as a pointer to `pointee`.
   */
  loadPtr(view: DataView, offset: number, pointee: Layout<unknown>): unknown;
  /** Stores pointer `value` at `offset` of `view`: its address into the bytes, its provenance aside. */
  storePtr(view: DataView, offset: number, value: unknown): void;
  /** Marks `[offset, offset + length)` uninitialised (a `maybe_uninit` written with `undefined`). */
  markUninit(offset: number, length: number): void;
  /**
   * A value that does not fit its layout (a missing struct field, an unknown enum variant): what
   * rustc would reject, with its error `code` (`E0063`). Never returns.
   */
  typeError(code: string, message: string): never;
}

/** A field of a struct layout. */
export interface Field {
  /** The field's name. */
  readonly name: string;
  /** Its byte offset in the struct. */
  readonly offset: number;
  /** Its layout. */
  readonly layout: Layout<unknown>;
}

/** Reads a value at an offset; see {@link Layout.decode}. */
export type Decoder<T> = (view: DataView, offset: number, mem?: LayoutMemory) => T;
/** Writes a value at an offset; see {@link Layout.encode}. */
export type Encoder<T> = (view: DataView, offset: number, value: T, mem?: LayoutMemory) => void;
/** A validity check; see {@link Layout.invalid}. */
export type Validity = (view: DataView, offset: number, mem?: LayoutMemory) => string | null;

/**
 * The layout of a type whose values read as `T`: its name, size and alignment in bytes, and how
 * its values are stored.
 *
 * Everything beyond `name`, `size` and `align` is the runtime's own: program code has no reason
 * to use it.
 */
export interface Layout<T> {
  /** The Rust name of the type (`u32`, `bool`, `Node`, `*mut Node`, …), as diagnostics print it. */
  readonly name: string;
  /** Size in bytes (`mem::size_of`). */
  readonly size: number;
  /** Alignment in bytes, a power of two (`mem::align_of`). */
  readonly align: number;
  /** The discriminant of the layout. */
  readonly kind: LayoutKind;
  /**
   * Reads a value from `view` at byte `offset` (little-endian). No checks: the bytes must be in
   * bounds and, for a type with invalid bit patterns, valid (see {@link Layout.invalid}). `mem`
   * is where pointers' provenance lives (the native heap when left out).
   */
  decode(view: DataView, offset: number, mem?: LayoutMemory): T;
  /** Writes `value` into `view` at byte `offset` (little-endian). No checks. */
  encode(view: DataView, offset: number, value: T, mem?: LayoutMemory): void;
  /**
   * The validity check of a read: given the (initialised) bytes at `offset`, `null` if they are a
   * valid value, else what was found, in Miri's words (`encountered 0x02, but expected a boolean`,
   * `at .flags, encountered 0x02, but expected a boolean`). `null` itself when every bit pattern
   * is valid.
   */
  readonly invalid: Validity | null;
  /**
   * The bytes a read needs initialised, as flattened `[start, end)` pairs relative to the value's
   * start; `null` when that is every byte (a scalar). Padding and the contents of a
   * `maybe_uninit` field are left out.
   */
  readonly initRanges: readonly number[] | null;
  /** The bytes a write leaves uninitialised (padding), as flattened `[start, end)` pairs, or `null`. */
  readonly padding: readonly number[] | null;
  /** The interior-mutable bytes (inside a `cell` or an atomic), as flattened `[start, end)` pairs, or `null`. */
  readonly cells: readonly number[] | null;
  /** A struct's fields, in declaration order (`undefined` for any other layout). */
  readonly fields: readonly Field[] | undefined;
  /** An array's element layout (`undefined` for any other layout). */
  readonly elem: Layout<unknown> | undefined;
  /** An array's length (0 for any other layout). */
  readonly len: number;
  /**
   * What a wrapper holds: the contents of a `cell`, `maybe_uninit` or atomic, the `repr` of an
   * enum; `undefined` otherwise (a pointer's pointee is {@link pointeeOf}).
   */
  readonly inner: Layout<unknown> | undefined;
  /** An enum's variants, name → discriminant (`undefined` for any other layout). */
  readonly variants: Readonly<Record<string, number>> | undefined;
}

/** The JS value type of a layout. */
export type Value<L> = L extends Layout<infer T> ? T : never;

/** What a {@link LayoutImpl} is made of: every field of {@link Layout}, some defaulted. */
interface LayoutSpec<T> {
  name: string;
  kind: LayoutKind;
  size: number;
  align: number;
  decode: Decoder<T>;
  encode: Encoder<T>;
  invalid?: Validity | null;
  initRanges?: readonly number[] | null;
  padding?: readonly number[] | null;
  cells?: readonly number[] | null;
  fields?: readonly Field[];
  elem?: Layout<unknown>;
  len?: number;
  inner?: Layout<unknown>;
  variants?: Readonly<Record<string, number>>;
  pointee?: Layout<unknown> | (() => Layout<unknown>);
}

/**
 * The one class of every layout. Its fields are assigned in one order, so all layouts share a
 * hidden class. `name` is writable only for a pointer to a thunk, named once the thunk resolves.
 */
export class LayoutImpl<T> implements Layout<T> {
  name: string;
  readonly size: number;
  readonly align: number;
  readonly kind: LayoutKind;
  readonly decode: Decoder<T>;
  readonly encode: Encoder<T>;
  readonly invalid: Validity | null;
  readonly initRanges: readonly number[] | null;
  readonly padding: readonly number[] | null;
  readonly cells: readonly number[] | null;
  readonly fields: readonly Field[] | undefined;
  readonly elem: Layout<unknown> | undefined;
  readonly len: number;
  readonly inner: Layout<unknown> | undefined;
  readonly variants: Readonly<Record<string, number>> | undefined;
  /** A pointer's pointee, or the thunk that gives it (see {@link pointeeOf}); `undefined` for other layouts. */
  pointee: Layout<unknown> | (() => Layout<unknown>) | undefined;

  constructor(s: LayoutSpec<T>) {
    this.name = s.name;
    this.size = s.size;
    this.align = s.align;
    this.kind = s.kind;
    this.decode = s.decode;
    this.encode = s.encode;
    this.invalid = s.invalid ?? null;
    this.initRanges = s.initRanges ?? null;
    this.padding = s.padding ?? null;
    this.cells = s.cells ?? null;
    this.fields = s.fields;
    this.elem = s.elem;
    this.len = s.len ?? 0;
    this.inner = s.inner;
    this.variants = s.variants;
    this.pointee = s.pointee;
  }
}

/** 2^32, to split a `usize`/`isize` number into two 32-bit halves. */
const TWO_32 = 4294967296;

/** The memory pointers are read from when a decode is given none: the native heap, once loaded. */
let defaultMemory: LayoutMemory | null = null;

/**
 * Sets the memory a `ptr` layout uses when `decode`/`encode` are called without one (the native
 * runtime registers its heap when it loads). The checked runtime always passes the allocation.
 */
export function setDefaultLayoutMemory(mem: LayoutMemory): void {
  defaultMemory = mem;
}

/** `mem`, or the default memory. */
function memOr(mem: LayoutMemory | undefined): LayoutMemory {
  if (mem !== undefined) return mem;
  if (defaultMemory === null) throw new Error("kmiri internal error: a pointer was read or written without a memory");
  return defaultMemory;
}

/** Builds a scalar layout (no padding, no cells, every byte needed). */
function scalar<T>(
  name: string,
  kind: LayoutKind,
  size: number,
  align: number,
  decode: Decoder<T>,
  encode: Encoder<T>,
  invalid: Validity | null = null,
): Layout<T> {
  return new LayoutImpl<T>({ name, kind, size, align, decode, encode, invalid });
}

/** `value` as Miri prints a scalar in a validity error: hex, zero-padded to the type's width. */
function hexOf(value: number | bigint, bytes: number): string {
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

// ───────────────────────────── byte ranges ─────────────────────────────

/** `ranges` (flattened pairs) of a part placed at `base`, appended to `out`. */
function shift(ranges: readonly number[], base: number, out: number[]): void {
  for (let i = 0; i < ranges.length; i += 2) out.push(ranges[i]! + base, ranges[i + 1]! + base);
}

/** Sorts and merges flattened `[start, end)` pairs, dropping empty ones. */
function merge(ranges: number[]): number[] {
  const pairs: [number, number][] = [];
  for (let i = 0; i < ranges.length; i += 2) if (ranges[i]! < ranges[i + 1]!) pairs.push([ranges[i]!, ranges[i + 1]!]);
  pairs.sort((x, y) => x[0] - y[0]);
  const out: number[] = [];
  for (const [s, e] of pairs) {
    const n = out.length;
    if (n > 0 && s <= out[n - 1]!) out[n - 1] = Math.max(out[n - 1]!, e);
    else out.push(s, e);
  }
  return out;
}

/** The bytes of `layout` a read needs initialised, as pairs (never `null`). */
function neededBytes(layout: Layout<unknown>): readonly number[] {
  return layout.initRanges ?? [0, layout.size];
}

/** `null` when `ranges` is exactly `[0, size)` (every byte), else `ranges`. */
function wholeOrRanges(ranges: number[], size: number): readonly number[] | null {
  if (ranges.length === 2 && ranges[0] === 0 && ranges[1] === size) return null;
  if (ranges.length === 0 && size === 0) return null;
  return ranges;
}

/** `null` for no ranges, else `ranges`. */
function orNull(ranges: number[]): readonly number[] | null {
  return ranges.length === 0 ? null : ranges;
}

/**
 * A validity message of a part, `at` a path: `encountered 0x02, …` inside field `.b` becomes
 * `at .b, encountered 0x02, …`, and `at .c, …` inside `[1]` becomes `at [1].c, …` (Miri's paths).
 */
function within(path: string, what: string): string {
  return what.startsWith("at ") ? `at ${path}${what.slice(3)}` : `at ${path}, ${what}`;
}

/**
 * How a part is read inside a composite: a `maybe_uninit` part may hold anything, so it is
 * decoded only when its bytes are a valid value (else `undefined`); any other part as itself.
 */
function partDecoder(part: Layout<unknown>): Decoder<unknown> {
  if (part.kind !== "maybe_uninit") return part.decode;
  const check = part.invalid;
  const decode = part.decode;
  return check === null ? decode : (v, o, m) => (check(v, o, m) === null ? decode(v, o, m) : undefined);
}

/** The validity check of a part inside a composite: none for a `maybe_uninit` part. */
function partValidity(part: Layout<unknown>): Validity | null {
  return part.kind === "maybe_uninit" ? null : part.invalid;
}

// ───────────────────────────── composites ─────────────────────────────

/**
 * `[T; len]`: `len` elements of `elem` back to back (a Rust array has no padding between
 * elements: the element size is already a multiple of its alignment). Reads as a JS array.
 */
export function array<T>(elem: Layout<T>, len: number): Layout<T[]> {
  if (!Number.isInteger(len) || len < 0) throw new RangeError(`array length must be a non-negative integer, got ${len}`);
  const stride = elem.size;
  const check = partValidity(elem);
  const decodeElem = partDecoder(elem) as Decoder<T>;
  const encodeElem = elem.encode;
  const name = `[${elem.name}; ${len}]`;
  const init: number[] = [];
  const padding: number[] = [];
  const cells: number[] = [];
  // Every byte is needed when every byte of an element is: then there is nothing to list (a
  // large buffer of integers costs nothing here).
  const everyByte = elem.initRanges === null && elem.kind !== "maybe_uninit";
  const listInit = !everyByte && elem.kind !== "maybe_uninit";
  if (listInit || elem.padding !== null || elem.cells !== null) {
    for (let i = 0; i < len; i++) {
      if (listInit) shift(neededBytes(elem), i * stride, init);
      if (elem.padding !== null) shift(elem.padding, i * stride, padding);
      if (elem.cells !== null) shift(elem.cells, i * stride, cells);
    }
  }
  return new LayoutImpl<T[]>({
    name,
    kind: "array",
    size: stride * len,
    align: elem.align,
    decode: (v, o, m) => {
      const out = new Array<T>(len);
      for (let i = 0; i < len; i++) out[i] = decodeElem(v, o + i * stride, m);
      return out;
    },
    encode: (v, o, x, m) => {
      if (!Array.isArray(x) || x.length !== len) {
        memOr(m).typeError(
          "E0308",
          `mismatched types: expected an array \`${name}\` with ${len} elements, found ${Array.isArray(x) ? `one with ${x.length} elements` : typeof x}`,
        );
      }
      for (let i = 0; i < len; i++) encodeElem(v, o + i * stride, x[i]!, m);
    },
    invalid:
      check &&
      ((v, o, m) => {
        for (let i = 0; i < len; i++) {
          const bad = check(v, o + i * stride, m);
          if (bad !== null) return within(`[${i}]`, bad);
        }
        return null;
      }),
    initRanges: everyByte ? null : wholeOrRanges(merge(init), stride * len),
    padding: orNull(merge(padding)),
    cells: orNull(merge(cells)),
    elem,
    len,
  });
}

/** Options of {@link struct}. */
export interface StructOptions {
  /** `"C"` (the default): fields in order, each aligned; `"packed"`: alignment 1, no padding. */
  repr?: "C" | "packed";
}

/** `n` rounded up to a multiple of `align` (a power of two). */
function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

/**
 * A struct with C layout rules (`#[repr(C)]`, the default) or packed (`#[repr(C, packed)]`):
 * fields in declaration order, each at the next offset aligned to its alignment (packed: right
 * after the previous one), the size rounded up to the struct's alignment (the largest field
 * alignment; 1 when packed). Reads as a plain object of its fields; writing one writes the fields
 * and leaves the padding uninitialised.
 *
 * Field order is the object's key order (note that JavaScript puts integer-like keys first).
 *
 * @example
 * const Node: Layout<{ next: Ptr<any>; v: u32 }> = struct("Node", { next: ptr(() => Node), v: u32 });
 * size_of(Node) // 16: next at 0, v at 8, 4 bytes of tail padding
 */
export function struct<F extends Record<string, Layout<any>>>(
  name: string,
  fields: F,
  options: StructOptions = {},
): Layout<{ [K in keyof F]: Value<F[K]> }> {
  const packed = options.repr === "packed";
  if (options.repr !== undefined && options.repr !== "C" && !packed) {
    throw new TypeError(`struct ${name}: repr must be "C" or "packed", got ${JSON.stringify(options.repr)}`);
  }
  const list: Field[] = [];
  let end = 0;
  let align = 1;
  for (const key of Object.keys(fields)) {
    const layout = fields[key]! as Layout<unknown>;
    const a = packed ? 1 : layout.align;
    const offset = alignUp(end, a);
    list.push({ name: key, offset, layout });
    end = offset + layout.size;
    if (a > align) align = a;
  }
  const size = alignUp(end, align);
  const init: number[] = [];
  const spans: number[] = [];
  const nested: number[] = [];
  const cells: number[] = [];
  for (const f of list) {
    if (f.layout.kind !== "maybe_uninit") shift(neededBytes(f.layout), f.offset, init);
    spans.push(f.offset, f.offset + f.layout.size);
    if (f.layout.padding !== null) shift(f.layout.padding, f.offset, nested);
    if (f.layout.cells !== null) shift(f.layout.cells, f.offset, cells);
  }
  // Padding: the bytes no field covers, and the padding inside the fields.
  const covered = merge(spans);
  const gaps: number[] = [];
  let at = 0;
  for (let i = 0; i < covered.length; i += 2) {
    gaps.push(at, covered[i]!);
    at = covered[i + 1]!;
  }
  gaps.push(at, size);

  const decoders = list.map((f) => partDecoder(f.layout));
  const offsets = list.map((f) => f.offset);
  const names = list.map((f) => f.name);
  // A field may be left out of a value only when its type has nothing to write.
  const optional = list.map((f) => f.layout.kind === "maybe_uninit" || f.layout.kind === "unit");
  const checked = list.filter((f) => partValidity(f.layout) !== null);
  const n = list.length;
  type V = { [K in keyof F]: Value<F[K]> };
  return new LayoutImpl<V>({
    name,
    kind: "struct",
    size,
    align,
    decode: (v, o, m) => {
      const out: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) out[names[i]!] = decoders[i]!(v, o + offsets[i]!, m);
      return out as V;
    },
    encode: (v, o, x, m) => {
      if (typeof x !== "object" || x === null) {
        memOr(m).typeError("E0308", `mismatched types: expected \`${name}\`, found ${x === null ? "null" : typeof x}`);
      }
      const obj = x as Record<string, unknown>;
      for (let i = 0; i < n; i++) {
        const value = obj[names[i]!];
        if (value === undefined && !optional[i]) {
          memOr(m).typeError("E0063", `missing field \`${names[i]}\` in initializer of \`${name}\``);
        }
        list[i]!.layout.encode(v, o + offsets[i]!, value, m);
      }
    },
    invalid:
      checked.length === 0
        ? null
        : (v, o, m) => {
            for (const f of checked) {
              const bad = f.layout.invalid!(v, o + f.offset, m);
              if (bad !== null) return within(`.${f.name}`, bad);
            }
            return null;
          },
    initRanges: wholeOrRanges(merge(init), size),
    padding: orNull(merge([...gaps, ...nested])),
    cells: orNull(merge(cells)),
    fields: list,
  });
}

/**
 * `UnsafeCell<T>`: the same bytes as `T`, read and written as `T`, but interior-mutable: they may
 * be written through a shared reference (the borrow tracker reads {@link cellRanges}).
 */
export function cell<T>(inner: Layout<T>): Layout<T> {
  return new LayoutImpl<T>({
    name: `UnsafeCell<${inner.name}>`,
    kind: "cell",
    size: inner.size,
    align: inner.align,
    decode: inner.decode,
    encode: inner.encode,
    invalid: inner.invalid,
    initRanges: inner.initRanges,
    padding: inner.padding,
    cells: inner.size === 0 ? null : [0, inner.size],
    inner,
  });
}

/**
 * `MaybeUninit<T>`: may hold uninitialised (or invalid) bytes. Reading a `maybe_uninit(T)` itself
 * reads a `T` and checks it there (`assume_init_read`); inside a struct or an array its bytes are
 * not checked (a field that is not a valid `T` reads as `undefined`). Writing `undefined` makes its
 * bytes uninitialised (`MaybeUninit::uninit()`).
 */
export function maybe_uninit<T>(inner: Layout<T>): Layout<T> {
  const size = inner.size;
  const encode = inner.encode;
  return new LayoutImpl<T>({
    name: `MaybeUninit<${inner.name}>`,
    kind: "maybe_uninit",
    size,
    align: inner.align,
    decode: inner.decode,
    encode: (v, o, x, m) => {
      if (x === undefined) memOr(m).markUninit(o, size);
      else encode(v, o, x, m);
    },
    invalid: inner.invalid,
    initRanges: inner.initRanges,
    padding: inner.padding,
    cells: inner.cells,
    inner,
  });
}

/**
 * A field-less enum with explicit discriminants, stored as `repr` (an integer layout); reads as
 * the variant's name and is written as one. A discriminant that is no variant's is an invalid
 * value (`at .<enum-tag>, encountered 0x05, but expected a valid enum tag`).
 */
export function enum_<V extends Record<string, number>>(
  name: string,
  repr: Layout<number>,
  variants: V,
): Layout<keyof V & string> {
  if (repr.kind !== "int") throw new TypeError(`enum ${name}: repr must be an integer layout, got ${repr.name}`);
  const wide = repr.size === 8 && (repr === (u64 as unknown) || repr === (i64 as unknown));
  const byValue = new Map<number, string>();
  for (const key of Object.keys(variants)) {
    const d = variants[key]!;
    if (!Number.isInteger(d)) throw new TypeError(`enum ${name}: the discriminant of ${key} must be an integer, got ${d}`);
    if (byValue.has(d)) throw new TypeError(`enum ${name}: discriminant ${d} is assigned twice (E0081)`);
    byValue.set(d, key);
  }
  const table: Readonly<Record<string, number>> = { ...variants };
  const decodeRepr = repr.decode as Decoder<number | bigint>;
  const encodeRepr = repr.encode as Encoder<number | bigint>;
  const size = repr.size;
  /** The stored bits, unsigned, for the message. */
  const bits = (v: DataView, o: number): number | bigint =>
    size === 1 ? v.getUint8(o) : size === 2 ? v.getUint16(o, true) : size === 4 ? v.getUint32(o, true) : v.getBigUint64(o, true);
  return new LayoutImpl<keyof V & string>({
    name,
    kind: "enum",
    size,
    align: repr.align,
    decode: (v, o) => byValue.get(Number(decodeRepr(v, o))) as keyof V & string,
    encode: (v, o, x, m) => {
      const d = Object.prototype.hasOwnProperty.call(table, x) ? table[x] : undefined;
      if (d === undefined) return memOr(m).typeError("E0599", `no variant named \`${String(x)}\` found for enum \`${name}\``);
      encodeRepr(v, o, wide ? BigInt(d) : d);
    },
    invalid: (v, o) =>
      byValue.has(Number(decodeRepr(v, o)))
        ? null
        : `at .<enum-tag>, encountered ${hexOf(bits(v, o), size)}, but expected a valid enum tag`,
    inner: repr,
    variants: table,
  });
}

// ───────────────────────────── pointers ─────────────────────────────

/** The pointee layout of a `ptr` (or `AtomicPtr`) layout, resolving a thunk; `null` for other layouts. */
export function pointeeOf(layout: Layout<unknown>): Layout<unknown> | null {
  const l = (layout.kind === "atomic" ? layout.inner : layout) as LayoutImpl<unknown> | undefined;
  if (l === undefined || l.kind !== "ptr") return null;
  const p = l.pointee;
  if (p === undefined) return null;
  if (typeof p !== "function") return p;
  const resolved = p();
  l.pointee = resolved;
  l.name = `*mut ${resolved.name}`;
  return resolved;
}

/**
 * `*mut T` (and `*const T`) stored in memory: the address in 8 bytes (alignment 8); the
 * provenance is kept by the memory it is written to, so that reading the same 8 bytes back as a
 * `ptr` gives the pointer, provenance included, while reading them as integers gives the address
 * only. For a recursive type, pass a thunk:
 * `const Node: Layout<NodeV> = struct("Node", { next: ptr(() => Node), v: u32 })`.
 */
export function ptr<T>(pointee: Layout<T> | (() => Layout<T>)): Layout<Ptr<T>> {
  let target: Layout<unknown> | null = null;
  if (typeof pointee !== "function") target = pointee;
  else {
    // A thunk to a layout already defined resolves now; one to the struct being defined (still
    // in its temporal dead zone) resolves at the first access.
    try {
      target = pointee();
    } catch {
      target = null;
    }
  }
  const l: LayoutImpl<Ptr<T>> = new LayoutImpl<Ptr<T>>({
    name: target === null ? "*mut _" : `*mut ${target.name}`,
    kind: "ptr",
    size: 8,
    align: 8,
    decode: (v, o, m) => memOr(m).loadPtr(v, o, target ?? (target = pointeeOf(l)!)) as Ptr<T>,
    encode: (v, o, x, m) => memOr(m).storePtr(v, o, x),
    pointee: target ?? (pointee as () => Layout<unknown>),
  });
  return l;
}


// ───────────────────────────── atomics ─────────────────────────────

/** An atomic layout: the bytes of `inner`, interior-mutable, named `name`. */
function atomic<T>(name: string, inner: Layout<T>): Layout<T> {
  return new LayoutImpl<T>({
    name,
    kind: "atomic",
    size: inner.size,
    align: inner.align,
    decode: inner.decode,
    encode: inner.encode,
    invalid: inner.invalid,
    initRanges: inner.initRanges,
    padding: inner.padding,
    cells: [0, inner.size],
    inner,
  });
}

/** `AtomicU8`. */
export const AtomicU8: Layout<number> = atomic("AtomicU8", u8);
/** `AtomicU16`. */
export const AtomicU16: Layout<number> = atomic("AtomicU16", u16);
/** `AtomicU32`. */
export const AtomicU32: Layout<number> = atomic("AtomicU32", u32);
/** `AtomicU64`: a `bigint`, alignment 8. */
export const AtomicU64: Layout<bigint> = atomic("AtomicU64", u64);
/** `AtomicUsize`. */
export const AtomicUsize: Layout<number> = atomic("AtomicUsize", usize);
/** `AtomicBool`: one byte, 0 or 1. */
export const AtomicBool: Layout<boolean> = atomic("AtomicBool", bool);
/** `AtomicPtr<T>`: a pointer (8 bytes, keeps its provenance), atomic. */
export function AtomicPtr<T>(pointee: Layout<T> | (() => Layout<T>)): Layout<Ptr<T>> {
  const p = ptr(pointee);
  const l = atomic(`AtomicPtr<${p.name.slice(5)}>`, p) as LayoutImpl<Ptr<T>>;
  return l;
}

// ───────────────────────────── queries ─────────────────────────────

/** `mem::size_of::<T>()`. */
export function size_of(layout: Layout<unknown>): number {
  return layout.size;
}

/** `mem::align_of::<T>()`. */
export function align_of(layout: Layout<unknown>): number {
  return layout.align;
}

/** The field `name` of a struct layout, or `undefined` (not a struct, or no such field). */
export function fieldOf(layout: Layout<unknown>, name: string): Field | undefined {
  const fields = layout.fields;
  if (fields === undefined) return undefined;
  // An index loop: `for…of` over the frozen array is several times slower in V8, and this runs at
  // every field projection.
  for (let i = 0; i < fields.length; i++) if (fields[i]!.name === name) return fields[i];
  return undefined;
}

/** `mem::offset_of!(T, field)`. Throws a `TypeError` when `layout` has no field `field` (rustc's E0609). */
export function offset_of<T>(layout: Layout<T>, field: keyof T & string): number {
  const f = fieldOf(layout, field);
  if (f === undefined) throw new TypeError(`no field \`${field}\` on type \`${layout.name}\` (E0609)`);
  return f.offset;
}

/**
 * The interior-mutable bytes of a `layout` value — those inside a `cell` or an atomic — as sorted,
 * disjoint `[start, end)` ranges relative to the value's start.
 */
export function cellRanges(layout: Layout<unknown>): [number, number][] {
  const c = layout.cells;
  const out: [number, number][] = [];
  if (c !== null) for (let i = 0; i < c.length; i += 2) out.push([c[i]!, c[i + 1]!]);
  return out;
}
