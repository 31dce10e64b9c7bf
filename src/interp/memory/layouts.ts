/**
 * Layouts: the size, alignment and byte encoding of the types program code stores in memory.
 *
 * A layout is shared by the checked and the native runtime. Besides the `name`, `size` and
 * `align` of the `kmiri/rt` contract it carries what both runtimes need on every access:
 * `decode`/`encode` (the value ⇄ little-endian bytes at an offset of a `DataView`; `encode`
 * rejects a value that is no value of the type, as rustc would: see "values that do not fit"),
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
 * it: the Machine's allocation, or the native heap. Scalar layouts use it only to report a value
 * that does not fit (`typeError`).
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
   * A value that does not fit its layout (a missing struct field, an unknown enum variant, `1.5`
   * or `-1` for a `u32`): what rustc would reject, with its error `code` (`E0063`, or the lint
   * {@link OVERFLOWING_LITERALS}). Never returns.
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
  /**
   * Writes `value` into `view` at byte `offset` (little-endian). No memory checks (bounds,
   * liveness: the caller's); a value that is no value of the type (`-1` for a `u32`, a number for
   * a `u64`, a struct missing a field) is reported through `mem`'s `typeError` before any byte of
   * a scalar is written (the native heap's throws when `mem` is left out).
   */
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

/**
 * The realm of the arrays and objects a decode makes (array and struct values): the program's,
 * once kmiri's guest realm exists (src/interp/guest-realm.ts sets it), so that a value read from
 * memory does not lead the program to kmiri's `Object.prototype`.
 */
const valueRealm: { Array: ArrayConstructor; objectPrototype: object } = { Array, objectPrototype: Object.prototype };

/** A plain object of the values' realm (see {@link setValueRealm}): what a shim returns as a record. */
export function valueObject(): Record<string, unknown> {
  return Object.create(valueRealm.objectPrototype) as Record<string, unknown>;
}

/** A name as text, whatever the program passed (a Symbol or a null-prototype object cannot be interpolated). */
function describeName(name: unknown): string {
  return typeof name === "string" ? name : describeValue(name);
}

/** Makes decodes build their arrays with `array` and their objects on `objectPrototype`. */
export function setValueRealm(array: ArrayConstructor, objectPrototype: object): void {
  valueRealm.Array = array;
  valueRealm.objectPrototype = objectPrototype;
}

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

// ───────────────────────────── values that do not fit ─────────────────────────────
//
// A scalar write checks its value: a JavaScript value can be anything, a Rust value of type `u32`
// cannot. What rustc would say about the value written as a literal is what a write of it reports:
//
// - a value of the wrong JavaScript type (a string, a bigint for a `u32`, a number for a `u64`, a
//   number for a `bool`) or a number that is not an integer (`1.5`, `NaN`, `Infinity`) where an
//   integer is expected: error[E0308] `mismatched types`, as `let x: u32 = 1.5;` is;
// - an integer out of the type's range (`-1` or `2 ** 32` for a `u32`): rustc's deny-by-default
//   lint `overflowing_literals`, `literal out of range for \`u32\``, as `let x: u32 = 4294967296;`
//   is (rustc reports a negative literal of an unsigned type as E0600, `cannot apply unary
//   operator \`-\``; one message for both ends of the range reads better). The value may have been
//   computed rather than written out — JavaScript arithmetic neither wraps nor panics — but the
//   write is where kmiri sees it, and a Rust program would have had to wrap it (`wrapping_add`)
//   or would have panicked on the overflow: either way the program has to say which.
//
// The check is on the hot path of every write, so it is one or two comparisons for a valid value
// (`(x >>> 0) === x` for a `u32`); the message is built out of line.

/**
 * The "code" of a type error that is rustc's deny-by-default lint `overflowing_literals` rather than
 * one of its numbered errors: reported with the title rustc gives it (`error: literal out of range
 * for \`u8\``, no code) and the lint's note.
 */
export const OVERFLOWING_LITERALS = "overflowing_literals";

/**
 * A type error's text where no Machine reports it — natively, or for a layout built outside any
 * Machine — thrown as a `TypeError`: the message and rustc's code (or lint).
 */
export function typeErrorText(code: string, message: string): string {
  return code === OVERFLOWING_LITERALS ? `${message} (rustc lint \`${code}\`)` : `${message} (rustc error ${code})`;
}

/** A value that does not fit its layout, reported through `m` (or the default memory; else thrown). */
function valueError(m: LayoutMemory | undefined, code: string, message: string): never {
  const mem = m ?? defaultMemory;
  if (mem === null) throw new TypeError(typeErrorText(code, message));
  return mem.typeError(code, message);
}

/**
 * Who hears of a layout built wrong (`array(u8, -5)`, `struct("S", { x: undefined })`) before it
 * is thrown: the checked runtime registers one that reports it as the program's error when a
 * Machine runs the program (it returns without reporting otherwise).
 */
let constructorReporter: ((code: string, message: string) => void) | null = null;

/**
 * Sets who hears of a layout built wrong (see {@link layoutError}); `null`: nobody (a `TypeError`
 * is thrown).
 */
export function setLayoutErrorReporter(reporter: ((code: string, message: string) => void) | null): void {
  constructorReporter = reporter;
}

/**
 * A layout constructor (or a query: `size_of`) called with arguments no Rust type could have: the
 * reporter's report when a Machine runs the program, else a `TypeError` with the same message
 * (the native runtime, or a layout built outside any Machine). Never returns.
 */
function layoutError(code: string, message: string): never {
  constructorReporter?.(code, message);
  throw new TypeError(typeErrorText(code, message));
}

/** An integer written as a Rust literal would be: `-1`, `18446744073709551616` (no exponent, no `n`). */
function literal(x: number | bigint): string {
  return typeof x === "number" && Number.isInteger(x) && !Number.isSafeInteger(x) ? BigInt(x).toString() : String(x);
}

/** The first characters of a string, as a message quotes it. */
function quoted(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}

/**
 * What a value is, as a type error names it after `found`: `number \`5\``, `floating-point number
 * \`1.5\``, `bigint \`5n\``, `string "5"`, `\`undefined\``, `a raw pointer`, `the layout \`u32\``, …
 */
export function describeValue(x: unknown): string {
  switch (typeof x) {
    case "number":
      return Number.isInteger(x) ? `number \`${literal(x)}\`` : `floating-point number \`${x}\``;
    case "bigint":
      return `bigint \`${x}n\``;
    case "string":
      return `string ${quoted(x)}`;
    case "boolean":
      return `bool \`${x}\``;
    case "undefined":
      return "`undefined`";
    case "symbol":
      return "a symbol";
    case "function":
      return "a function";
    default:
      if (x === null) return "`null`";
      if (Array.isArray(x)) return `an array of ${x.length} elements`;
      if (x instanceof LayoutImpl) return `the layout \`${x.name}\``;
      if (typeof (x as { address?: unknown }).address === "number") return "a raw pointer";
      return "an object";
  }
}

/** An integer type: its name, its range, and whether its values are `bigint`s. */
interface IntType {
  readonly name: string;
  readonly min: bigint;
  readonly max: bigint;
  readonly big: boolean;
}

const U8: IntType = { name: "u8", min: 0n, max: 0xffn, big: false };
const U16: IntType = { name: "u16", min: 0n, max: 0xffffn, big: false };
const U32: IntType = { name: "u32", min: 0n, max: 0xffffffffn, big: false };
const U64: IntType = { name: "u64", min: 0n, max: 0xffffffffffffffffn, big: true };
const USIZE: IntType = { name: "usize", min: 0n, max: 0xffffffffffffffffn, big: false };
const I8: IntType = { name: "i8", min: -0x80n, max: 0x7fn, big: false };
const I16: IntType = { name: "i16", min: -0x8000n, max: 0x7fffn, big: false };
const I32: IntType = { name: "i32", min: -0x80000000n, max: 0x7fffffffn, big: false };
const I64: IntType = { name: "i64", min: -0x8000000000000000n, max: 0x7fffffffffffffffn, big: true };
const ISIZE: IntType = { name: "isize", min: -0x8000000000000000n, max: 0x7fffffffffffffffn, big: false };

/** 2^64 and 2^63 as numbers: the (exclusive) bounds of a `usize` and an `isize` written as a number. */
const TWO_64 = 18446744073709551616;
const TWO_63 = 9223372036854775808;

/**
 * Why `x` is no value of the integer type `t` — `[code, message]` (see the comment above) — or
 * `null` when it is one.
 */
function intMismatch(t: IntType, x: unknown): [string, string] | null {
  const n = t.name;
  const wanted = t.big ? "bigint" : "number";
  if (typeof x === wanted && (t.big || Number.isInteger(x))) {
    const b = BigInt(x as number | bigint);
    if (b >= t.min && b <= t.max) return null;
    return [
      OVERFLOWING_LITERALS,
      `literal out of range for \`${n}\`: the literal \`${literal(x as number | bigint)}\` does not fit into the type \`${n}\` ` +
        `whose range is \`${t.min}..=${t.max}\``,
    ];
  }
  let hint = "";
  const a = n.startsWith("i") ? "an" : "a";
  if (t.big && typeof x === "number" && Number.isInteger(x)) hint = ` (${a} \`${n}\` is a \`bigint\`: write \`${literal(x)}n\`)`;
  if (!t.big && typeof x === "bigint") hint = ` (${a} \`${n}\` is a \`number\`: write \`${x}\`)`;
  return ["E0308", `mismatched types: expected \`${n}\`, found ${describeValue(x)}${hint}`];
}

/** Reports `x` written as the integer type `t` (never a value of it): see {@link intMismatch}. */
function badInt(t: IntType, x: unknown, m: LayoutMemory | undefined): never {
  const why = intMismatch(t, x) ?? ["E0308", `mismatched types: expected \`${t.name}\`, found ${describeValue(x)}`];
  return valueError(m, why[0], why[1]);
}

/** Reports `x` written as the type `name` (a float, `bool`, `char`, `()`), with an optional hint. */
function badValue(name: string, x: unknown, m: LayoutMemory | undefined, hint = ""): never {
  return valueError(m, "E0308", `mismatched types: expected \`${name}\`, found ${describeValue(x)}${hint}`);
}

/**
 * The Unicode scalar value of `s` when it is exactly one (a `char`), else -1 (an empty string,
 * several characters, a lone surrogate).
 */
function scalarOf(s: string): number {
  const c = s.codePointAt(0);
  if (c === undefined || s.length !== (c > 0xffff ? 2 : 1) || (c >= 0xd800 && c <= 0xdfff)) return -1;
  return c;
}

/** `u8`. */
export const u8: Layout<number> = scalar<number>(
  "u8", "int", 1, 1,
  (v, o) => v.getUint8(o),
  (v, o, x, m) => {
    if (typeof x !== "number" || (x & 0xff) !== x) badInt(U8, x, m);
    v.setUint8(o, x);
  },
);
/** `u16`. */
export const u16: Layout<number> = scalar<number>(
  "u16", "int", 2, 2,
  (v, o) => v.getUint16(o, true),
  (v, o, x, m) => {
    if (typeof x !== "number" || (x & 0xffff) !== x) badInt(U16, x, m);
    v.setUint16(o, x, true);
  },
);
/** `u32`. */
export const u32: Layout<number> = scalar<number>(
  "u32", "int", 4, 4,
  (v, o) => v.getUint32(o, true),
  (v, o, x, m) => {
    if (typeof x !== "number" || x >>> 0 !== x) badInt(U32, x, m);
    v.setUint32(o, x, true);
  },
);
/** `u64`: a `bigint`. */
export const u64: Layout<bigint> = scalar<bigint>(
  "u64", "int", 8, 8,
  (v, o) => v.getBigUint64(o, true),
  (v, o, x, m) => {
    if (typeof x !== "bigint" || x < 0n || x > 0xffffffffffffffffn) badInt(U64, x, m);
    v.setBigUint64(o, x, true);
  },
);
/**
 * `usize`: a `number` (Mirch addresses stay below 2^53), stored in 8 bytes. Values of 2^53 and
 * more read back rounded, as any JS number would be.
 */
export const usize: Layout<number> = scalar<number>(
  "usize", "int", 8, 8,
  (v, o) => v.getUint32(o, true) + v.getUint32(o + 4, true) * TWO_32,
  // setUint32 takes its argument modulo 2^32, which is exactly the low half; the high half is
  // the floor quotient. Below 2^32 (every address) the check is one comparison.
  (v, o, x, m) => {
    if (typeof x !== "number" || (x >>> 0 !== x && !(x > 0 && x < TWO_64 && Number.isInteger(x)))) {
      // Without a memory, this may be a pointer's address stored by a `storePtr` that encodes it
      // with `usize` (a pointer moved below 0 by `wrapping_sub` is still a pointer): stored as
      // two's complement, as before. Every write of a program's value passes its memory.
      if (m !== undefined || !isAddress(x)) badInt(USIZE, x, m);
    }
    v.setUint32(o, x, true);
    v.setUint32(o + 4, Math.floor(x / TWO_32), true);
  },
);

/** True for a number a pointer's address may be: an integer in `[-2^63, 2^64)` (wrapping arithmetic). */
function isAddress(x: unknown): x is number {
  return typeof x === "number" && Number.isInteger(x) && x >= -TWO_63 && x < TWO_64;
}

/**
 * Stores a pointer's address in the 8 bytes at `offset`, unchecked: an address outside `usize`'s
 * range (a pointer moved below 0 by `wrapping_sub`) is stored as two's complement, as Rust's
 * address would have wrapped. For the memories' `storePtr`; a program's `usize` goes through
 * {@link usize}, which rejects it.
 */
export function encodeAddress(view: DataView, offset: number, address: number): void {
  view.setUint32(offset, address, true);
  view.setUint32(offset + 4, Math.floor(address / TWO_32), true);
}
/** `i8`. */
export const i8: Layout<number> = scalar<number>(
  "i8", "int", 1, 1,
  (v, o) => v.getInt8(o),
  (v, o, x, m) => {
    if (typeof x !== "number" || (x << 24) >> 24 !== x) badInt(I8, x, m);
    v.setInt8(o, x);
  },
);
/** `i16`. */
export const i16: Layout<number> = scalar<number>(
  "i16", "int", 2, 2,
  (v, o) => v.getInt16(o, true),
  (v, o, x, m) => {
    if (typeof x !== "number" || (x << 16) >> 16 !== x) badInt(I16, x, m);
    v.setInt16(o, x, true);
  },
);
/** `i32`. */
export const i32: Layout<number> = scalar<number>(
  "i32", "int", 4, 4,
  (v, o) => v.getInt32(o, true),
  (v, o, x, m) => {
    if (typeof x !== "number" || (x | 0) !== x) badInt(I32, x, m);
    v.setInt32(o, x, true);
  },
);
/** `i64`: a `bigint`. */
export const i64: Layout<bigint> = scalar<bigint>(
  "i64", "int", 8, 8,
  (v, o) => v.getBigInt64(o, true),
  (v, o, x, m) => {
    if (typeof x !== "bigint" || x < -0x8000000000000000n || x > 0x7fffffffffffffffn) badInt(I64, x, m);
    v.setBigInt64(o, x, true);
  },
);
/** `isize`: a `number` stored in 8 bytes (two's complement). */
export const isize: Layout<number> = scalar<number>(
  "isize", "int", 8, 8,
  (v, o) => v.getUint32(o, true) + v.getInt32(o + 4, true) * TWO_32,
  // The high half of a negative number: the floor quotient, two's complement by setUint32's modulo.
  (v, o, x, m) => {
    if (typeof x !== "number" || ((x | 0) !== x && !(x >= -TWO_63 && x < TWO_63 && Number.isInteger(x)))) badInt(ISIZE, x, m);
    v.setUint32(o, x, true);
    v.setUint32(o + 4, Math.floor(x / TWO_32), true);
  },
);
/** `f32`: any number (rounded to the nearest `f32`, as `x as f32` does). */
export const f32: Layout<number> = scalar<number>(
  "f32", "float", 4, 4,
  (v, o) => v.getFloat32(o, true),
  (v, o, x, m) => {
    if (typeof x !== "number") badValue("f32", x, m);
    v.setFloat32(o, x, true);
  },
);
/** `f64`: any number. */
export const f64: Layout<number> = scalar<number>(
  "f64", "float", 8, 8,
  (v, o) => v.getFloat64(o, true),
  (v, o, x, m) => {
    if (typeof x !== "number") badValue("f64", x, m);
    v.setFloat64(o, x, true);
  },
);
/** `bool`: one byte, 0 or 1; any other byte is an invalid value. Written only as `true` or `false`. */
export const bool: Layout<boolean> = scalar<boolean>(
  "bool", "bool", 1, 1,
  (v, o) => v.getUint8(o) !== 0,
  (v, o, x, m) => {
    if (typeof x !== "boolean") badValue("bool", x, m);
    v.setUint8(o, x ? 1 : 0);
  },
  (v, o) => {
    const b = v.getUint8(o);
    return b <= 1 ? null : `encountered ${hexOf(b, 1)}, but expected a boolean`;
  },
);
/**
 * `char`: a Unicode scalar value in 4 bytes; reads as a one-code-point string, and is written as
 * one (an empty string, several characters or a lone surrogate is no `char`). A surrogate or a
 * value above 0x10FFFF in memory is an invalid value.
 */
export const char: Layout<string> = scalar<string>(
  "char", "char", 4, 4,
  (v, o) => String.fromCodePoint(v.getUint32(o, true)),
  (v, o, x, m) => {
    const c = typeof x === "string" ? scalarOf(x) : -1;
    if (c < 0) badValue("char", x, m, typeof x === "string" ? " (a `char` is a string of exactly one Unicode scalar value)" : "");
    v.setUint32(o, c, true);
  },
  (v, o) => {
    const c = v.getUint32(o, true);
    return c <= 0x10ffff && (c < 0xd800 || c > 0xdfff)
      ? null
      : `encountered ${hexOf(c, 4)}, but expected a valid unicode scalar value ` +
          "(in `0..=0x10FFFF` but not in `0xD800..=0xDFFF`)";
  },
);
/** `()`: zero-sized; reads as `undefined`, and is written as `undefined`. */
export const unit: Layout<undefined> = scalar<undefined>(
  "()", "unit", 0, 1,
  () => undefined,
  (_v, _o, x, m) => {
    if (x !== undefined) badValue("()", x, m);
  },
);

/**
 * Seeds the type feedback of the encoders whose check compares numbers that may or may not be V8's
 * small integers (31 bits): with only small values seen, the optimised code of every function the
 * check is inlined into would speculate on small integers and deoptimise at the first larger value
 * (a `u32` of 2^31, an address above 2^30) — a recompilation per function, a few percent of a
 * short run. After these calls the check handles any number from the start. Values are valid:
 * nothing is reported.
 */
function seedNumberFeedback(): void {
  const view = new DataView(new ArrayBuffer(8));
  // Enough calls for V8 to allocate the closures' feedback vectors, then both kinds of number.
  for (let i = 0; i < 32; i++) {
    const large = (i & 1) === 1;
    u32.encode(view, 0, large ? 0x80000000 + i : i);
    i32.encode(view, 0, large ? -0x7fffff00 - i : i);
    usize.encode(view, 0, large ? 0x80000000 + i : i);
    isize.encode(view, 0, large ? -0x7fffff00 - i : i);
  }
}
seedNumberFeedback();

/** The integer type of an integer layout (by name), for {@link intArgumentMismatch}. */
const INT_TYPES: ReadonlyMap<string, IntType> = new Map(
  [U8, U16, U32, U64, USIZE, I8, I16, I32, I64, ISIZE].map((t) => [t.name, t]),
);

/**
 * Why `x` is no value of the integer layout `layout` (`[code, message]`, as a write of it reports
 * it), or `null` when it is one. For the shims' integer arguments (`write_bytes`'s byte, a count).
 */
export function intArgumentMismatch(layout: Layout<unknown>, x: unknown): [string, string] | null {
  const t = INT_TYPES.get(layout.name);
  if (t === undefined) throw new Error(`kmiri internal error: ${layout.name} is no integer layout`);
  return intMismatch(t, x);
}

/** True for a layout (`u32`, `array(…)`, `struct(…)`, …): what the memory API takes as a type. */
export function isLayout(x: unknown): x is Layout<unknown> {
  return x instanceof LayoutImpl;
}

/**
 * The message of an argument `param` of `call` that should be a layout and is `x` (rustc's E0308:
 * `mismatched types: expected a layout … for \`layout\` of \`alloc\`, found \`undefined\``).
 */
export function notALayoutMessage(call: string, param: string, x: unknown): string {
  return `mismatched types: expected a layout (\`u8\`, \`array(…)\`, \`struct(…)\`, …) for the argument \`${param}\` of \`${call}\`, found ${describeValue(x)}`;
}

/** `x` unless it is no layout: then a {@link layoutError} naming `call` and `param`. */
function layoutArg<L>(call: string, param: string, x: L): L {
  if (!(x instanceof LayoutImpl)) layoutError("E0308", notALayoutMessage(call, param, x));
  return x;
}

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
  if (!(elem instanceof LayoutImpl)) {
    layoutError("E0308", notALayoutMessage(`array(elem, ${typeof len === "number" ? literal(len) : "len"})`, "elem", elem));
  }
  // `[T; N]` takes a `usize` constant (and JavaScript arrays stop at 2^32 - 1 elements anyway).
  if (typeof len !== "number" || len >>> 0 !== len) {
    layoutError("E0308", `mismatched types: expected \`usize\` for the length of \`array(${elem.name}, len)\`, found ${describeValue(len)}`);
  }
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
      const out = new valueRealm.Array<T>(len);
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
  if (typeof options !== "object" || options === null) options = {};
  const packed = options.repr === "packed";
  if (options.repr !== undefined && options.repr !== "C" && !packed) {
    // rustc: an unknown `#[repr(...)]` is E0552.
    layoutError("E0552", `unrecognized representation hint: the \`repr\` of struct \`${describeName(name)}\` must be "C" or "packed", found ${describeValue(options.repr)}`);
  }
  if (typeof name !== "string") layoutError("E0308", `mismatched types: expected a string for the name of \`struct(name, fields)\`, found ${describeValue(name)}`);
  if (typeof fields !== "object" || fields === null) {
    layoutError("E0308", `mismatched types: expected an object of field layouts for the fields of \`struct("${name}", fields)\`, found ${describeValue(fields)}`);
  }
  const list: Field[] = [];
  let end = 0;
  let align = 1;
  for (const key of Object.keys(fields)) {
    const layout = layoutArg(`struct("${name}", …)`, key, fields[key]! as Layout<unknown>);
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
      const out: Record<string, unknown> = Object.create(valueRealm.objectPrototype);
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
  layoutArg("cell", "inner", inner);
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
  layoutArg("maybe_uninit", "inner", inner);
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
  if (typeof name !== "string") layoutError("E0308", `mismatched types: expected a string for the name of \`enum_(name, repr, variants)\`, found ${describeValue(name)}`);
  layoutArg(`enum_("${name}", repr, …)`, "repr", repr);
  // rustc: `#[repr(f32)]` is E0552, "unrecognized representation hint".
  if (repr.kind !== "int") layoutError("E0552", `unrecognized representation hint: the \`repr\` of enum \`${name}\` must be an integer type, found \`${repr.name}\``);
  const wide = repr.size === 8 && (repr === (u64 as unknown) || repr === (i64 as unknown));
  const byValue = new Map<number, string>();
  if (typeof variants !== "object" || variants === null) {
    layoutError("E0308", `mismatched types: expected an object of discriminants for the variants of \`enum_("${name}", …)\`, found ${describeValue(variants)}`);
  }
  for (const key of Object.keys(variants)) {
    const d = variants[key]!;
    if (typeof d !== "number" || !Number.isInteger(d)) {
      layoutError("E0308", `mismatched types: expected \`${repr.name}\` for the discriminant of \`${name}::${key}\`, found ${describeValue(d)}`);
    }
    // rustc: `#[repr(u8)] enum E { A = 300 }` is `literal out of range for \`u8\``.
    const bad = intArgumentMismatch(repr, wide ? BigInt(d) : d);
    if (bad !== null) layoutError(bad[0], `${bad[1]} (the discriminant of \`${name}::${key}\`)`);
    if (byValue.has(d)) layoutError("E0081", `discriminant value \`${d}\` assigned twice in enum \`${name}\` (to \`${byValue.get(d)}\` and \`${key}\`)`);
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
  const resolved = layoutArg("ptr(() => pointee)", "pointee", p());
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
  if (typeof pointee !== "function") target = layoutArg("ptr", "pointee", pointee);
  else {
    // A thunk to a layout already defined resolves now; one to the struct being defined (still
    // in its temporal dead zone) resolves at the first access.
    try {
      const t = pointee();
      target = t instanceof LayoutImpl ? t : null;
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
  return layoutArg("size_of", "layout", layout).size;
}

/** `mem::align_of::<T>()`. */
export function align_of(layout: Layout<unknown>): number {
  return layoutArg("align_of", "layout", layout).align;
}

/**
 * `layout` without its `maybe_uninit` wrappers: what a pointer to it projects into. A
 * `*mut MaybeUninit<Header>` reaches its fields as Rust's `addr_of_mut!((*p.cast::<Header>()).len)`
 * does (the contract types `maybe_uninit(T)` as a `Layout<T>`); the field is as uninitialised as
 * the bytes it covers: reading it before a write is `uninit`, writing it initialises it.
 */
export function throughUninit(layout: Layout<unknown>): Layout<unknown> {
  let l = layout;
  while (l.kind === "maybe_uninit" && l.inner !== undefined) l = l.inner;
  return l;
}

/**
 * The field `name` of a struct layout (seen through `maybe_uninit`: see {@link throughUninit}), or
 * `undefined` (not a struct, or no such field).
 */
export function fieldOf(layout: Layout<unknown>, name: string): Field | undefined {
  let fields = layout.fields;
  if (fields === undefined) {
    if (layout.kind !== "maybe_uninit") return undefined;
    fields = throughUninit(layout).fields;
    if (fields === undefined) return undefined;
  }
  // An index loop: `for…of` over the frozen array is several times slower in V8, and this runs at
  // every field projection.
  for (let i = 0; i < fields.length; i++) if (fields[i]!.name === name) return fields[i];
  return undefined;
}

/** `mem::offset_of!(T, field)`. Throws a `TypeError` when `layout` has no field `field` (rustc's E0609). */
export function offset_of<T>(layout: Layout<T>, field: keyof T & string): number {
  const f = fieldOf(layoutArg("offset_of", "layout", layout), field);
  if (f === undefined) layoutError("E0609", `no field ${typeof field === "string" ? `\`${field}\`` : describeValue(field)} on type \`${layout.name}\``);
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
