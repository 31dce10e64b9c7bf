/**
 * A seeded, deterministic generator of `kmiri/rt` programs for fuzzing kmiri (see README.md here
 * and fuzz.test.ts): `generateProgram(seed)` gives the same TypeScript text for the same seed, on
 * any machine. The programs use the whole `kmiri/rt` API (layouts, allocation, `Box`, `local`,
 * `static_`, pointer arithmetic and projections, reads and writes of every flavour, bulk copies,
 * `transmute`, references and reborrows, provenance, atomics with every ordering, fences, threads,
 * lock annotations, panics, `ktest`s, console output) with a small typed model of what is live,
 * initialised and borrowed, so that most statements are valid and the program does real work.
 * Each program has an *intent*: `valid` (meant to run clean), `ub` (one bug placed on purpose,
 * from the UB kinds kmiri checks) or `misuse` (an API called with arguments of the wrong type,
 * `undefined`, NaN, negative sizes, forged objects...). The oracle does not depend on the intent:
 * kmiri must never fail internally, hang, or give two reports for one seed.
 *
 * Every choice is tagged with a *feature* name (`alloc`, `atomic.fetch_add`, `bug.uaf`,
 * `misuse.arg.dealloc.0.undefined`: API, argument, kind of wrong value). `GenOptions.disable`
 * turns features (or whole families, by prefix at a dot: `misuse.arg` disables every
 * `misuse.arg.*`) off: the fuzz test uses it to skip the features that trigger known findings
 * until they are fixed. `GenOptions.focus` makes a program whose one deliberate mistake is a given
 * feature (`scripts/fuzz.mjs --matrix` runs one per {@link misuseLeaves}).
 *
 * The end of the file has the oracle's pure helpers (comparable results, internal errors, plain
 * data, time limits), shared by fuzz.test.ts and scripts/fuzz.mjs.
 *
 * Pure: no Node APIs, no imports; safe to load from vitest, tsx or a worker.
 */

// ───────────────────────────── PRNG ─────────────────────────────

/** mulberry32: a small, fast, well-mixed 32-bit PRNG. Same seed, same stream, everywhere. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = (Math.imul(seed | 0, 0x9e3779b1) ^ 0x5bd1e995) >>> 0;
    for (let i = 0; i < 4; i++) this.next();
  }
  /** A float in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** An integer in [a, b]. */
  range(a: number, b: number): number {
    return a + this.int(b - a + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  weighted<T>(xs: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of xs) total += w;
    let r = this.next() * total;
    for (const [x, w] of xs) {
      r -= w;
      if (r < 0) return x;
    }
    return xs[xs.length - 1]![0];
  }
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  }
}

// ───────────────────────────── public types ─────────────────────────────

export type Intent = "valid" | "ub" | "misuse";

/** The RunOptions a program is run with (chosen from its seed; limits are the oracle's). */
export interface FuzzRunOptions {
  seed: number;
  preemptionRate?: number;
  pct?: number;
  borrowModel?: "none" | "stacked";
  strictProvenance?: boolean;
  ignoreLeaks?: boolean;
  dataRaceDetector?: boolean;
  tagGc?: number;
  maxThreads?: number;
  memoryLimit?: number;
}

export interface GeneratedProgram {
  seed: number;
  /** The program's TypeScript text (one module importing `kmiri/rt`). */
  source: string;
  /** `main`: run with `runFile`; `test`: a file of `ktest`s, run with `testPath`. */
  mode: "main" | "test";
  intent: Intent;
  /** The features the program used, sorted. */
  features: string[];
  runOptions: FuzzRunOptions;
}

export interface GenOptions {
  /** Features (or prefixes of feature names, at a `.`) that must not be generated. */
  disable?: Iterable<string>;
  /** Statements per body, about (default 14). */
  size?: number;
  /** Force the intent (default: drawn from the seed). */
  intent?: Intent;
  /** Force the mode (default: drawn from the seed). */
  mode?: "main" | "test";
  /**
   * Generate exactly this misuse or bug feature (a leaf of {@link misuseLeaves}, or a family):
   * the program is a `misuse` (or `ub`) program whose one deliberate mistake is of this feature.
   */
  focus?: string;
  /** Make every program a Mirch program (true) or none (false); default: about one in five (feature `mirch`). */
  mirch?: boolean;
}

// ───────────────────────────── layouts ─────────────────────────────

type Kind =
  | "int" | "big" | "float" | "bool" | "char" | "unit"
  | "struct" | "array" | "enum" | "ptr" | "cell" | "mu" | "atomic";

interface Fld {
  name: string;
  l: L;
  off: number;
}

/** The generator's model of a layout: what kmiri computes, computed again. */
interface L {
  k: Kind;
  /** The TypeScript expression that denotes it (`u32`, `S0`, `array(u16, 3)`). */
  expr: string;
  /** The TypeScript type of its values. */
  ts: string;
  size: number;
  align: number;
  /** Scalars: `u8`, ...; atomics: `AtomicU32`. */
  name: string;
  signed?: boolean;
  bits?: number;
  fields?: Fld[];
  packed?: boolean;
  elem?: L;
  len?: number;
  variants?: [string, number][];
  pointee?: L;
  inner?: L;
}

function scalar(name: string, k: Kind, size: number, ts: string, bits = size * 8, signed = false): L {
  return { k, expr: name, ts, size, align: Math.max(size, 1), name, bits, signed };
}

const U8 = scalar("u8", "int", 1, "number");
const U16 = scalar("u16", "int", 2, "number");
const U32 = scalar("u32", "int", 4, "number");
const U64 = scalar("u64", "big", 8, "bigint");
const USIZE = scalar("usize", "int", 8, "number", 52);
const I8 = scalar("i8", "int", 1, "number", 8, true);
const I16 = scalar("i16", "int", 2, "number", 16, true);
const I32 = scalar("i32", "int", 4, "number", 32, true);
const I64 = scalar("i64", "big", 8, "bigint", 64, true);
const ISIZE = scalar("isize", "int", 8, "number", 52, true);
const F32 = scalar("f32", "float", 4, "number");
const F64 = scalar("f64", "float", 8, "number");
const BOOL = scalar("bool", "bool", 1, "boolean");
const CHAR = scalar("char", "char", 4, "string");
const UNIT: L = { k: "unit", expr: "unit", ts: "undefined", size: 0, align: 1, name: "()" };

const INTS = [U8, U16, U32, USIZE, I8, I16, I32, ISIZE];
const SCALARS = [U8, U16, U32, U64, USIZE, I8, I16, I32, I64, ISIZE, F32, F64, BOOL, CHAR];

function atomicOf(name: string, inner: L): L {
  return { k: "atomic", expr: name, ts: inner.ts, size: inner.size, align: inner.align, name, inner };
}
const ATOMICS = [
  atomicOf("AtomicU8", U8),
  atomicOf("AtomicU16", U16),
  atomicOf("AtomicU32", U32),
  atomicOf("AtomicU64", U64),
  atomicOf("AtomicUsize", USIZE),
  atomicOf("AtomicBool", BOOL),
];

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function mkStruct(expr: string, fields: [string, L][], packed: boolean): L {
  const out: Fld[] = [];
  let end = 0;
  let align = 1;
  for (const [name, l] of fields) {
    const a = packed ? 1 : l.align;
    const off = alignUp(end, a);
    out.push({ name, l, off });
    end = off + l.size;
    align = Math.max(align, a);
  }
  return { k: "struct", expr, ts: `Value<typeof ${expr}>`, size: alignUp(end, align), align, name: expr, fields: out, packed };
}

function mkArray(elem: L, len: number, expr = `array(${elem.expr}, ${len})`): L {
  return { k: "array", expr, ts: `${wrapTs(elem.ts)}[]`, size: elem.size * len, align: elem.align, name: expr, elem, len };
}

function wrapTs(ts: string): string {
  return /^[\w<>.]+$/.test(ts) ? ts : `(${ts})`;
}

function mkPtr(pointee: L): L {
  return { k: "ptr", expr: `ptr(${pointee.expr})`, ts: `Ptr<${pointee.ts}>`, size: 8, align: 8, name: "ptr", pointee };
}

function mkCell(inner: L): L {
  return { k: "cell", expr: `cell(${inner.expr})`, ts: inner.ts, size: inner.size, align: inner.align, name: "cell", inner };
}

function mkMu(inner: L): L {
  return { k: "mu", expr: `maybe_uninit(${inner.expr})`, ts: inner.ts, size: inner.size, align: inner.align, name: "mu", inner };
}

function mkAtomicPtr(pointee: L): L {
  const p = mkPtr(pointee);
  return { k: "atomic", expr: `AtomicPtr(${pointee.expr})`, ts: p.ts, size: 8, align: 8, name: "AtomicPtr", inner: p };
}

function mkEnum(expr: string, repr: L, variants: [string, number][]): L {
  return { k: "enum", expr, ts: `Value<typeof ${expr}>`, size: repr.size, align: repr.align, name: expr, variants, inner: repr };
}

/** Bytes a write of a value of `l` initialises (padding stays uninitialised). */
function dataMask(l: L): boolean[] {
  const m = new Array<boolean>(l.size).fill(false);
  const fill = (x: L, at: number) => {
    switch (x.k) {
      case "struct":
        for (const f of x.fields!) fill(f.l, at + f.off);
        return;
      case "array":
        for (let i = 0; i < x.len!; i++) fill(x.elem!, at + i * x.elem!.size);
        return;
      case "cell":
      case "mu":
      case "atomic":
        if (x.inner!.k !== "ptr") fill(x.inner!, at);
        else for (let i = 0; i < x.size; i++) m[at + i] = true;
        return;
      default:
        for (let i = 0; i < x.size; i++) m[at + i] = true;
    }
  };
  fill(l, 0);
  return m;
}

/** Bytes a read of `l` needs initialised (a `maybe_uninit` field needs none; a top-level one its inner's). */
function needMask(l: L): boolean[] {
  const m = new Array<boolean>(l.size).fill(false);
  const fill = (x: L, at: number, top: boolean) => {
    switch (x.k) {
      case "struct":
        for (const f of x.fields!) fill(f.l, at + f.off, false);
        return;
      case "array":
        for (let i = 0; i < x.len!; i++) fill(x.elem!, at + i * x.elem!.size, false);
        return;
      case "mu":
        if (top) fill(x.inner!, at, false);
        return;
      case "cell":
      case "atomic":
        fill(x.inner!, at, false);
        return;
      default:
        for (let i = 0; i < x.size; i++) m[at + i] = true;
    }
  };
  fill(l, 0, true);
  return m;
}

/** Whether some bit patterns of `l` are invalid (bool, char, enums), outside `maybe_uninit`. */
function hasValidity(l: L): boolean {
  switch (l.k) {
    case "bool":
    case "char":
    case "enum":
      return true;
    case "struct":
      return l.fields!.some((f) => f.l.k !== "mu" && hasValidity(f.l));
    case "array":
      return hasValidity(l.elem!);
    case "cell":
    case "atomic":
      return hasValidity(l.inner!);
    case "mu":
      return hasValidity(l.inner!);
    default:
      return false;
  }
}

/** Whether all-zero bytes are a valid `l`. */
function zeroValid(l: L): boolean {
  switch (l.k) {
    case "enum":
      return l.variants!.some(([, d]) => d === 0);
    case "struct":
      return l.fields!.every((f) => zeroValid(f.l));
    case "array":
      return zeroValid(l.elem!);
    case "cell":
    case "atomic":
    case "mu":
      return zeroValid(l.inner!);
    default:
      return true;
  }
}

/** Whether `l` holds an `UnsafeCell` (a cell or an atomic) somewhere. */
function hasCell(l: L): boolean {
  switch (l.k) {
    case "cell":
    case "atomic":
      return true;
    case "struct":
      return l.fields!.some((f) => hasCell(f.l));
    case "array":
      return hasCell(l.elem!);
    case "mu":
      return hasCell(l.inner!);
    default:
      return false;
  }
}

/** Whether every byte of `l` is inside a cell or an atomic: writable through a shared reference. */
function allCell(l: L): boolean {
  switch (l.k) {
    case "cell":
    case "atomic":
      return true;
    case "struct":
      return l.fields!.every((f) => allCell(f.l));
    case "array":
      return allCell(l.elem!);
    case "mu":
      return allCell(l.inner!);
    default:
      return l.size === 0;
  }
}

function hasPtr(l: L): boolean {
  switch (l.k) {
    case "ptr":
      return true;
    case "struct":
      return l.fields!.some((f) => hasPtr(f.l));
    case "array":
      return hasPtr(l.elem!);
    case "cell":
    case "mu":
    case "atomic":
      return hasPtr(l.inner!);
    default:
      return false;
  }
}

/** Whether values of `l` can be compared with `assert_eq` after a round trip. */
function comparable(l: L): boolean {
  return l.k === "int" || l.k === "big" || l.k === "bool" || l.k === "char" || l.k === "enum" || ((l.k === "cell" || l.k === "mu") && comparable(l.inner!));
}

// ───────────────────────────── the model of memory ─────────────────────────────

type AllocKind = "heap" | "box" | "local" | "static" | "leaked";

/** An allocation the program made, as far as the generator knows. */
interface Alloc {
  id: number;
  kind: AllocKind;
  /** The layout it was allocated with (dealloc needs it). */
  l: L;
  size: number;
  align: number;
  live: boolean;
  writable: boolean;
  /** Per byte: initialised. */
  init: Uint8Array;
  /** Per byte: known zero. */
  zero: Uint8Array;
  /** Offsets where a valid value of a layout (by expr) was written last. */
  typed: Map<number, string>;
  /** Known values: `${off}|${expr}` → literal. */
  vals: Map<string, string>;
  /** Stacked Borrows model: bumped by writes (w) and by reads that pop `&mut`s (r). */
  w: number;
  r: number;
  /** Set while a spawned thread uses the allocation non-atomically (until it is joined). */
  busy: string | null;
  /** Atomic memory threads may use at any time: only atomic operations and shared references. */
  sharedAtomic?: boolean;
  /** The expression freeing it (heap: dealloc; box: drop) — emitted by cleanups. */
  free: string | null;
  /** Scope depth that owns it (cleanups free what their scope made). */
  scope: number;
}

/** A borrow tag: a reference, or a raw pointer made from one. Root pointers have none. */
interface Tag {
  mut: boolean;
  raw: boolean;
  /** A shared reference (or a raw pointer from one) outside any cell: no writes. */
  readOnly: boolean;
  w: number;
  r: number;
  parent: Tag | null;
}

interface PVar {
  name: string;
  l: L;
  a: Alloc | null;
  off: number;
  tag: Tag | null;
  /** From `ptr_from_exposed`. */
  wild?: boolean;
}

interface RVar {
  name: string;
  l: L;
  a: Alloc;
  off: number;
  tag: Tag;
}

interface BVar {
  name: string;
  l: L;
  a: Alloc;
}

interface LVar {
  name: string;
  l: L;
  a: Alloc;
}

interface SVar {
  name: string;
  l: L;
  a: Alloc;
  mut: boolean;
}

interface HVar {
  name: string;
  /** Scope id where it was spawned (its cleanup joins it). */
  scope?: number;
  /** Allocations the thread uses: free again after the join. */
  busy: Alloc[];
  /** Literal the thread returns, if known. */
  ret: string | null;
  joined: boolean;
  panics: boolean;
}

interface NVar {
  name: string;
  ts: string;
}

interface Env {
  ptrs: PVar[];
  refs: RVar[];
  boxes: BVar[];
  locals: LVar[];
  handles: HVar[];
  nums: NVar[];
}

function emptyEnv(): Env {
  return { ptrs: [], refs: [], boxes: [], locals: [], handles: [], nums: [] };
}

const ORDERINGS = ["Relaxed", "Acquire", "Release", "AcqRel", "SeqCst"] as const;
const LOAD_ORDERS = ["Relaxed", "Acquire", "SeqCst"];
const STORE_ORDERS = ["Relaxed", "Release", "SeqCst"];
const FAIL_ORDERS = ["Relaxed", "Acquire", "SeqCst"];
const FENCE_ORDERS = ["Acquire", "Release", "AcqRel", "SeqCst"];

const FIELD_NAMES = ["a", "b", "c", "d", "len", "flags", "tag", "data", "state", "count", "head", "tail"];

/** Values of the wrong type for the misuse features (each a TS expression, cast to `any`). */
const BAD_VALUES: [string, string][] = [
  ["undefined", "undefined"],
  ["null", "null"],
  ["nan", "NaN"],
  ["negative", "-1"],
  ["negzero", "-0"],
  ["fraction", "0.5"],
  ["infinity", "Infinity"],
  ["neginfinity", "-Infinity"],
  ["2^53", "2 ** 53"],
  ["2^64", "2 ** 64"],
  ["huge", "1e300"],
  ["neghuge", "-(2 ** 40)"],
  ["numstring", '"7"'],
  ["emptystring", '""'],
  ["bool", "true"],
  ["bigint", "1n"],
  ["negbigint", "-1n"],
  ["object", "{}"],
  ["array", "[]"],
  ["array2", "[1, 2]"],
  ["layout", "u32"],
  ["symbol", 'Symbol("s")'],
  ["function", "() => 1"],
  ["nullproto", "Object.create(null)"],
  ["boxednumber", "new Number(3)"],
  ["valueof", "{ valueOf() { return 4; } }"],
  ["tostring", '{ toString() { return "x"; } }'],
  ["throwinggetter", '{ get address() { throw new Error("getter"); } }'],
  ["fakeptr", "{ address: 16, provenance: null, layout: u32, tag: 0 }"],
  ["proxy", "new Proxy({}, {})"],
  ["throwingproxy", 'new Proxy({}, { get() { throw new Error("trap"); } })'],
]

// ───────────────────────────── the generator ─────────────────────────────

type Feature = {
  name: string;
  weight: number;
  /** Needs an unsafe context (inside `unsafe:` or an `"unsafe"` function). */
  unsafe?: boolean;
  /** Generates statements; returns false when it does not apply here (nothing emitted). */
  run: (g: Gen) => boolean;
};

class Gen {
  readonly rng: Rng;
  readonly disabled: string[];
  readonly used = new Set<string>();
  readonly imports = new Set<string>();
  readonly typeImports = new Set<string>(["Layout", "Ptr", "Ref", "RefMut", "Value"]);
  /** Top-level declarations (layouts, statics), in order. */
  readonly decls: string[] = [];
  /** Helper functions. */
  readonly helpers: string[] = [];
  /** Lines of the body being generated. */
  private out: string[] = [];
  indent = 1;
  env: Env = emptyEnv();
  /** Inside an unsafe region. */
  unsafeCtx = false;
  /** Inside a thread's closure (no `local`, no joins of outer handles). */
  inThread = 0;
  /** Id of the innermost scope; `scopes` the ids of the enclosing ones (allocations record theirs). */
  scopeDepth = 0;
  scopes: number[] = [0];
  private nextScope = 1;
  allocs: Alloc[] = [];
  statics: SVar[] = [];
  /** The model of each static as initialised (restored for each test: each runs on a fresh Machine). */
  private staticInit = new Map<Alloc, { init: Uint8Array; zero: Uint8Array; typed: Map<number, string>; vals: Map<string, string> }>();

  resetStatics(): void {
    for (const [a, s] of this.staticInit) {
      a.init = s.init.slice();
      a.zero = s.zero.slice();
      a.typed = new Map(s.typed);
      a.vals = new Map(s.vals);
      a.busy = null;
      a.w = 0;
      a.r = 0;
    }
  }

  snapshotStatic(a: Alloc): void {
    this.staticInit.set(a, { init: a.init.slice(), zero: a.zero.slice(), typed: new Map(a.typed), vals: new Map(a.vals) });
  }
  composites: L[] = [];
  enums: L[] = [];
  private names = new Map<string, number>();
  private nextAlloc = 1;
  intent: Intent;
  mode: "main" | "test";
  bugDone = false;
  runOptions: FuzzRunOptions;
  /** Helper function names already declared, by kind. */
  private helperNames = new Map<string, string>();
  /** Names of lock statics made by `lockStatic`. */
  locks: { name: string; cls: string }[] = [];

  constructor(
    readonly seed: number,
    readonly opts: GenOptions,
  ) {
    this.rng = new Rng(seed);
    this.disabled = [...(opts.disable ?? [])];
    this.intent = opts.intent ?? this.rng.weighted<Intent>([["valid", 50], ["ub", 35], ["misuse", 15]]);
    this.mode = opts.mode ?? (this.rng.chance(0.15) ? "test" : "main");
    if (opts.focus !== undefined) {
      this.intent = opts.focus.startsWith("bug.") ? "ub" : "misuse";
      this.mode = opts.mode ?? "main";
    }
    this.runOptions = { seed: this.rng.int(1000) };
  }

  // ── features ──

  enabled(name: string): boolean {
    for (const d of this.disabled) if (name === d || name.startsWith(d + ".")) return false;
    const focus = this.opts.focus;
    if (focus !== undefined && (name.startsWith("misuse.") || name.startsWith("bug."))) {
      // only the focused feature's own family line: its ancestors and its descendants
      return focus === name || focus.startsWith(name + ".") || name.startsWith(focus + ".");
    }
    return true;
  }

  /** Marks `name` as used, if enabled. */
  use(name: string): boolean {
    if (!this.enabled(name)) return false;
    this.used.add(name);
    return true;
  }

  // ── output ──

  line(s: string): void {
    this.out.push("  ".repeat(this.indent) + s);
  }

  /** `header {`, the body, `}` (vars declared inside go out of scope; allocations made inside are freed). */
  block(header: string, body: () => void, footer = "}"): void {
    this.line(`${header} {`);
    this.indent++;
    this.scoped(body);
    this.indent--;
    this.line(footer);
  }

  /** Runs `body` in a nested scope: its variables are dropped after, its allocations freed at its end. */
  scoped(body: () => void): void {
    const saved = this.env;
    this.env = {
      ptrs: [...saved.ptrs],
      refs: [...saved.refs],
      boxes: [...saved.boxes],
      locals: [...saved.locals],
      handles: [...saved.handles],
      nums: [...saved.nums],
    };
    const id = this.enterScope();
    body();
    this.cleanup(id);
    this.leaveScope();
    // Handles made inside and not joined are joined by cleanup; locals die with functions only.
    this.env = saved;
  }

  enterScope(): number {
    const id = this.nextScope++;
    this.scopes.push(id);
    this.scopeDepth = id;
    return id;
  }

  leaveScope(): void {
    this.scopes.pop();
    this.scopeDepth = this.scopes[this.scopes.length - 1]!;
  }

  /** Whether the variables of allocation `a`'s scope are visible here. */
  visible(a: Alloc): boolean {
    return this.scopes.includes(a.scope);
  }

  /** Captures the lines `body` emits (at indentation 0) instead of emitting them. */
  capture(body: () => void, indent = 0): string[] {
    const saved = this.out;
    const savedIndent = this.indent;
    this.out = [];
    this.indent = indent;
    body();
    const got = this.out;
    this.out = saved;
    this.indent = savedIndent;
    return got;
  }

  fresh(prefix: string): string {
    const n = this.names.get(prefix) ?? 0;
    this.names.set(prefix, n + 1);
    return `${prefix}${n}`;
  }

  rt(...names: string[]): void {
    for (const n of names) this.imports.add(n);
  }

  /** Imports the names a layout expression uses. */
  rtLayout(l: L): void {
    switch (l.k) {
      case "struct":
      case "enum":
        return;
      case "array":
        this.rt("array");
        this.rtLayout(l.elem!);
        return;
      case "ptr":
        this.rt("ptr");
        this.rtLayout(l.pointee!);
        return;
      case "cell":
        this.rt("cell");
        this.rtLayout(l.inner!);
        return;
      case "mu":
        this.rt("maybe_uninit");
        this.rtLayout(l.inner!);
        return;
      case "atomic":
        if (l.name === "AtomicPtr") {
          this.rt("AtomicPtr");
          this.rtLayout(l.inner!.pointee!);
        } else this.rt(l.expr);
        return;
      default:
        this.rt(l.expr);
    }
  }

  // ── allocations ──

  newAlloc(kind: AllocKind, l: L, size = l.size, zeroed = false): Alloc {
    const a: Alloc = {
      id: this.nextAlloc++,
      kind,
      l,
      size,
      align: l.align,
      live: true,
      writable: true,
      init: new Uint8Array(size),
      zero: new Uint8Array(size),
      typed: new Map(),
      vals: new Map(),
      w: 0,
      r: 0,
      busy: null,
      free: null,
      scope: this.scopeDepth,
    };
    if (zeroed) {
      a.init.fill(1);
      a.zero.fill(1);
    }
    this.allocs.push(a);
    return a;
  }

  /** Records a write of a valid `l` value at `off` of `a` (known value `val` when given). */
  wrote(a: Alloc, off: number, l: L, val?: string): void {
    const m = dataMask(l);
    for (let i = 0; i < l.size; i++) {
      if (off + i >= a.size) break;
      if (m[i]) a.init[off + i] = 1;
      else a.init[off + i] = 0; // padding is uninitialised again
      a.zero[off + i] = 0;
    }
    this.clobber(a, off, l.size);
    a.typed.set(off, l.expr);
    if (val !== undefined && comparable(l)) a.vals.set(`${off}|${l.expr}`, val);
  }

  /** Forgets typed values and known values overlapping [off, off+size). */
  clobber(a: Alloc, off: number, size: number): void {
    for (const [o, expr] of [...a.typed]) {
      const sz = this.sizeOfExpr(expr);
      if (o < off + size && off < o + sz) a.typed.delete(o);
    }
    for (const k of [...a.vals.keys()]) {
      const [o, expr] = k.split("|");
      const sz = this.sizeOfExpr(expr!);
      if (+o! < off + size && off < +o! + sz) a.vals.delete(k);
    }
  }

  private sizes = new Map<string, number>();
  sizeOfExpr(expr: string): number {
    return this.sizes.get(expr) ?? 8;
  }
  note(l: L): L {
    this.sizes.set(l.expr, l.size);
    return l;
  }

  /** Bytes [off, off+size) filled with `byte` (write_bytes, zeroed). */
  filled(a: Alloc, off: number, size: number, byte: number): void {
    for (let i = off; i < off + size && i < a.size; i++) {
      if (i < 0) continue;
      a.init[i] = 1;
      a.zero[i] = byte === 0 ? 1 : 0;
    }
    this.clobber(a, off, size);
  }

  /** Whether a read of `l` at `off` of `a` sees initialised, valid bytes (as far as the model knows). */
  readable(a: Alloc, off: number, l: L): boolean {
    const need = needMask(l);
    for (let i = 0; i < l.size; i++) if (need[i] && !a.init[off + i]) return false;
    if (!hasValidity(l)) return true;
    if (a.typed.get(off) === l.expr) return true;
    let allZero = true;
    for (let i = 0; i < l.size; i++) if (need[i] && !a.zero[off + i]) allZero = false;
    return allZero && zeroValid(l);
  }

  // ── borrow model (a coarse Stacked Borrows: see the header of this file's env types) ──

  tagValid(a: Alloc, t: Tag | null): boolean {
    if (t === null) return true;
    if (t.w !== a.w) return false;
    if (t.mut && t.r !== a.r) return false;
    return !t.raw || t.parent === null || this.tagValid(a, t.parent);
  }

  /** The model's effect of an access through tag `t` (null: a root pointer). */
  access(a: Alloc, t: Tag | null, write: boolean): void {
    if (write) {
      a.w++;
      for (let x = t; x !== null; x = x.parent) {
        x.w = a.w;
        x.r = a.r;
      }
    } else if (t === null || t.mut || (t.raw && !t.readOnly)) {
      a.r++;
      for (let x = t; x !== null; x = x.parent) x.r = a.r;
    }
  }

  newTag(a: Alloc, parent: Tag | null, mut: boolean, raw: boolean, readOnly: boolean): Tag {
    if (!raw) this.access(a, parent, mut);
    return { mut, raw, readOnly, w: a.w, r: a.r, parent };
  }

  // ── choosing variables ──

  /** Pointers that may be accessed as `l` (default: their own layout) right now, validly. */
  okPtr(p: PVar, write: boolean, l: L = p.l, aligned = true): boolean {
    const a = p.a;
    if (a === null || !a.live || a.busy !== null || a.sharedAtomic) return false;
    if (p.off < 0 || p.off + l.size > a.size || l.size === 0) return false;
    if (aligned && (p.off % l.align !== 0 || a.align < l.align)) return false;
    if (write && (!a.writable || (p.tag?.readOnly && !allCell(l)))) return false;
    if (!this.tagValid(a, p.tag)) return false;
    if (p.wild && this.runOptions.strictProvenance) return false;
    return true;
  }

  okRead(p: PVar, l: L = p.l, aligned = true): boolean {
    return this.okPtr(p, false, l, aligned) && this.readable(p.a!, p.off, l);
  }

  pickPtr(pred: (p: PVar) => boolean): PVar | undefined {
    const xs = this.env.ptrs.filter(pred);
    return xs.length ? this.rng.pick(xs) : undefined;
  }

  pickRef(pred: (r: RVar) => boolean): RVar | undefined {
    const xs = this.env.refs.filter(pred);
    return xs.length ? this.rng.pick(xs) : undefined;
  }

  refOk(r: RVar, write = false): boolean {
    const a = r.a;
    if (!a.live || a.busy !== null) return false;
    if (write && (!r.tag.mut || !a.writable)) return false;
    return this.tagValid(a, r.tag);
  }

  // ── values ──

  intLit(l: L): string {
    const bits = l.bits!;
    if (l.signed) {
      const max = bits >= 52 ? 2 ** 40 : 2 ** (bits - 1) - 1;
      const min = -max - (bits >= 52 ? 0 : 1);
      return String(this.rng.weighted<number>([[0, 2], [1, 2], [max, 1], [min, 1], [this.rng.range(-100, 100), 4]]));
    }
    const max = bits >= 52 ? 2 ** 40 : 2 ** bits - 1;
    return String(this.rng.weighted<number>([[0, 2], [1, 2], [max, 1], [this.rng.range(0, Math.min(max, 1000)), 5]]));
  }

  val(l: L, depth = 0): string {
    const r = this.rng;
    switch (l.k) {
      case "int":
        return this.intLit(l);
      case "big": {
        const v = l.signed
          ? r.pick(["0n", "1n", "-1n", "-9223372036854775808n", "9223372036854775807n", `${r.range(-1000, 1000)}n`])
          : r.pick(["0n", "1n", "18446744073709551615n", "4294967296n", `${r.range(0, 100000)}n`]);
        return v;
      }
      case "float":
        return r.pick(["0", "1.5", "-2.25", "1e10", "NaN", "Infinity", "-0", "0.1", "3"]);
      case "bool":
        return r.chance(0.5) ? "true" : "false";
      case "char":
        return r.pick(['"a"', '"Z"', '"é"', '"\\u{1F600}"', '"\\u{10FFFF}"', '"0"', '"\\n"']);
      case "unit":
        return "undefined";
      case "struct":
        return `{ ${l.fields!.map((f) => `${f.name}: ${this.val(f.l, depth + 1)}`).join(", ")} }`;
      case "array":
        return `[${Array.from({ length: l.len! }, () => this.val(l.elem!, depth + 1)).join(", ")}]`;
      case "enum":
        return `"${r.pick(l.variants!)[0]}"`;
      case "ptr":
        return this.ptrVal(l.pointee!);
      case "cell":
      case "mu":
      case "atomic":
        return this.val(l.inner!, depth + 1);
    }
  }

  /** A pointer value to store (a live pointer of the right pointee, or null). */
  ptrVal(pointee: L): string {
    const same = this.env.ptrs.filter((p) => p.l.expr === pointee.expr && p.a?.live);
    if (same.length && this.rng.chance(0.7)) return this.rng.pick(same).name;
    const any = this.env.ptrs.filter((p) => p.a?.live);
    if (any.length && this.rng.chance(0.3)) {
      this.rtLayout(pointee);
      return `${this.rng.pick(any).name}.cast(${pointee.expr})`;
    }
    this.rt("null_mut");
    this.rtLayout(pointee);
    return `null_mut(${pointee.expr})`;
  }

  /** A value of the wrong type (cast to any). */
  /**
   * A value of the wrong type, cast to `any`, for the misuse feature `family`: the feature used is
   * `family.<kind>` (`misuse.arg.alloc.undefined`); undefined when every kind is disabled.
   */
  bad(family: string): string | undefined {
    const ok = BAD_VALUES.filter(([k]) => this.enabled(`${family}.${k}`));
    if (!ok.length) return undefined;
    const [k, v] = this.rng.pick(ok);
    this.use(`${family}.${k}`);
    if (v.includes("u32")) this.rt("u32");
    return `((${v}) as any)`;
  }

  /** One of `options` (keys) whose feature `family.<key>` is enabled, marked used; undefined if none. */
  pickEnabled<T extends string>(family: string, options: readonly T[]): T | undefined {
    const ok = options.filter((o) => this.enabled(`${family}.${o}`));
    if (!ok.length) return undefined;
    const o = this.rng.pick(ok);
    this.use(`${family}.${o}`);
    return o;
  }

  // ── layouts ──

  /** A layout for a fresh allocation. */
  pickLayout(opts: { noZst?: boolean; scalarOnly?: boolean } = {}): L {
    for (let i = 0; i < 8; i++) {
      const l = this.pickLayout1(opts);
      if (!opts.noZst || l.size > 0) return l;
    }
    return this.note(U32);
  }

  private pickLayout1(opts: { scalarOnly?: boolean }): L {
    const r = this.rng;
    const choice = r.weighted<string>([
      ["scalar", 5],
      ["array", 3],
      ["composite", opts.scalarOnly ? 0 : this.composites.length ? 3 : 0],
      ["atomic", 1],
      ["cell", 1],
      ["mu", 1],
    ]);
    let l: L;
    switch (choice) {
      case "array":
        l = mkArray(r.pick([U8, U16, U32, U64, I32, F64, BOOL, ...(this.composites.length && !opts.scalarOnly ? [r.pick(this.composites)] : [])]), r.range(2, 6));
        break;
      case "composite":
        l = r.pick(this.composites);
        break;
      case "atomic":
        l = r.chance(0.15) ? mkAtomicPtr(r.pick([U32, U64])) : r.pick(ATOMICS);
        break;
      case "cell":
        l = mkCell(r.pick(INTS));
        break;
      case "mu":
        l = mkMu(r.pick([U32, U64, ...(this.composites.length ? [r.pick(this.composites)] : [])]));
        break;
      default:
        l = r.pick(SCALARS);
    }
    this.rtLayout(l);
    return this.note(l);
  }

  declareLayouts(): void {
    const r = this.rng;
    const nEnums = r.int(3);
    for (let i = 0; i < nEnums; i++) {
      if (!this.use("layout.enum")) break;
      const name = this.fresh("E");
      const repr = r.pick([U8, U8, U16, U32, I8, U64, I32]);
      const n = r.range(1, 4);
      const used = new Set<number>();
      const vs: [string, number][] = [];
      const maxD = repr.signed ? 100 : repr.bits === 8 ? 255 : 1000;
      for (let j = 0; j < n; j++) {
        let d = r.chance(0.5) ? j : r.range(repr.signed ? -100 : 0, maxD);
        while (used.has(d)) d = d >= maxD ? (repr.signed ? -100 : 0) : d + 1;
        used.add(d);
        vs.push([["Free", "Used", "Reserved", "Dirty", "Locked"][j]!, d]);
      }
      const l = this.note(mkEnum(name, repr, vs));
      this.rt("enum_", repr.expr);
      // a 64-bit repr is a `Layout<bigint>`, which the contract's `enum_` does not take: cast
      const reprExpr = repr.k === "big" ? `${repr.expr} as unknown as Layout<number>` : repr.expr;
      this.decls.push(`const ${name} = enum_("${name}", ${reprExpr}, { ${vs.map(([k, d]) => `${k}: ${d}`).join(", ")} });`);
      this.enums.push(l);
    }
    const nStructs = r.int(4);
    for (let i = 0; i < nStructs; i++) {
      if (!this.use("layout.struct")) break;
      const name = this.fresh("S");
      const packed = r.chance(0.2) && this.use("layout.packed");
      const n = r.range(1, 4);
      const names = r.shuffle([...FIELD_NAMES]).slice(0, n);
      const fields: [string, L][] = names.map((fname) => {
        const kind = r.weighted<string>([
          ["scalar", 8],
          ["array", 2],
          ["enum", this.enums.length ? 2 : 0],
          ["ptr", 2],
          ["cell", 1],
          ["mu", 1],
          ["atomic", 1],
          ["nested", this.composites.length ? 2 : 0],
          ["unit", 0.3],
        ]);
        let fl: L;
        switch (kind) {
          case "array":
            fl = mkArray(r.pick([U8, U16, U32]), r.range(1, 4));
            break;
          case "enum":
            fl = r.pick(this.enums);
            break;
          case "ptr":
            fl = mkPtr(r.pick([U32, U8, U64, ...this.composites]));
            break;
          case "cell":
            fl = mkCell(r.pick([U32, U8, U64]));
            break;
          case "mu":
            fl = mkMu(r.pick([U32, U16, U64]));
            break;
          case "atomic":
            fl = r.pick(ATOMICS);
            break;
          case "nested":
            fl = r.pick(this.composites);
            break;
          case "unit":
            fl = UNIT;
            break;
          default:
            fl = r.pick(SCALARS);
        }
        this.rtLayout(fl);
        this.note(fl);
        return [fname, fl];
      });
      const l = this.note(mkStruct(name, fields, packed));
      this.rt("struct");
      const body = fields.map(([f, fl]) => `${f}: ${fl.expr}`).join(", ");
      this.decls.push(`const ${name} = struct("${name}", { ${body} }${packed ? ', { repr: "packed" }' : r.chance(0.2) ? ', { repr: "C" }' : ""});`);
      this.composites.push(l);
    }
    if (r.chance(0.4) && this.use("layout.array-decl")) {
      const name = this.fresh("A");
      const elem = r.pick([U32, U8, ...this.composites, ...this.enums]);
      const l = this.note(mkArray(elem, r.range(2, 5), name));
      l.ts = `Value<typeof ${name}>`;
      this.rt("array");
      this.rtLayout(elem);
      this.decls.push(`const ${name} = array(${elem.expr}, ${l.len});`);
      this.composites.push(l);
    }
  }

  declareStatics(): void {
    const r = this.rng;
    const n = r.int(3);
    for (let i = 0; i < n; i++) {
      if (!this.use("static")) break;
      const name = this.fresh("ST");
      const kind = r.weighted<string>([["atomic", 3], ["mut", 3], ["plain", 2], ["cell", 1]]);
      let l: L;
      let mut = false;
      if (kind === "atomic") l = r.pick(ATOMICS);
      else if (kind === "cell") l = mkCell(r.pick([U32, U64]));
      else {
        l = this.pickLayout({ scalarOnly: r.chance(0.5) });
        mut = kind === "mut";
      }
      if (l.size === 0) continue;
      this.note(l);
      this.rtLayout(l);
      this.rt("static_");
      const a = this.newAlloc("static", l);
      a.scope = -1;
      a.writable = mut || hasCell(l);
      a.sharedAtomic = l.k === "atomic";
      const v = this.val(l);
      this.wrote(a, 0, l, v);
      const opts: string[] = [];
      if (mut) opts.push("mut: true");
      if (r.chance(0.6)) opts.push(`name: "${name}"`);
      this.decls.push(`const ${name} = static_(${l.expr}, ${v}${opts.length ? `, { ${opts.join(", ")} }` : ""});`);
      this.snapshotStatic(a);
      this.statics.push({ name, l, a, mut });
    }
  }

  /** A lock: a static `SpinLock { locked: AtomicBool, count: UnsafeCell<u64> }` and the lock/unlock helpers. */
  lockStatic(): { name: string; cls: string } {
    if (!this.helperNames.has("lock")) {
      this.helperNames.set("lock", "lock");
      this.rt("struct", "AtomicBool", "cell", "u64", "spin_loop", "lock_acquired", "lock_released", "static_");
      this.decls.push(`const SpinLock = struct("SpinLock", { locked: AtomicBool, count: cell(u64) });`);
      this.helpers.push(
        [
          `function lock(l: Ref<Value<typeof SpinLock>>, class_name?: string): void {`,
          `  while (!l.field("locked").compare_exchange_weak(false, true, "Acquire", "Relaxed").ok) spin_loop();`,
          `  lock_acquired(l, class_name);`,
          `}`,
          ``,
          `function unlock(l: Ref<Value<typeof SpinLock>>): void {`,
          `  lock_released(l);`,
          `  l.field("locked").store(false, "Release");`,
          `}`,
          ``,
          `function bump(l: Ref<Value<typeof SpinLock>>, by: bigint): bigint {`,
          `  unsafe: {`,
          `    const c = l.field("count").get();`,
          `    const v = c.read() + by;`,
          `    c.write(v);`,
          `    return v;`,
          `  }`,
          `}`,
        ].join("\n"),
      );
    }
    const name = this.fresh("LOCK");
    const cls = this.rng.chance(0.5) ? `"${name.toLowerCase()}"` : "";
    this.decls.push(`const ${name} = static_(SpinLock, { locked: false, count: 0n }${this.rng.chance(0.5) ? `, { name: "${name}" }` : ""});`);
    const lk = { name, cls };
    this.locks.push(lk);
    return lk;
  }

  helper(key: string, text: () => string): string {
    const existing = this.helperNames.get(key);
    if (existing) return existing;
    const name = this.fresh("h");
    this.helperNames.set(key, name);
    this.helpers.push(text().replace(/\$NAME/g, name));
    return name;
  }

  // ── statement generation ──

  /** Generates about `n` statements into the current block. */
  statements(n: number, pool: Feature[] = CORE): void {
    for (let i = 0; i < n; i++) this.statement(pool);
  }

  statement(pool: Feature[]): boolean {
    const candidates = pool.filter((f) => this.enabled(f.name) && (!f.unsafe || this.unsafeCtx));
    for (let attempt = 0; attempt < 12 && candidates.length; attempt++) {
      const f = this.rng.weighted(candidates.map((c) => [c, c.weight] as const));
      const before = this.out.length;
      const usedBefore = [...this.used];
      if (f.run(this)) {
        this.used.add(f.name);
        return true;
      }
      // nothing emitted: nothing used (sub-features it picked before giving up included)
      this.out.length = before;
      this.used.clear();
      for (const u of usedBefore) this.used.add(u);
    }
    return false;
  }

  /** Frees what the scope `depth` made and left live; joins its unjoined threads. */
  cleanup(depth: number): void {
    for (const h of this.env.handles) {
      if ((h.scope ?? depth) !== depth) continue;
      if (!h.joined && !(this.intent !== "valid" && this.rng.chance(0.1))) this.join(h);
    }
    for (const a of this.allocs) {
      if (a.scope !== depth || !a.live || a.free === null) continue;
      if (a.busy !== null) continue;
      if (this.intent === "ub" && !this.bugDone && this.rng.chance(0.05) && this.use("bug.leak")) {
        this.bugDone = true;
        this.line(`// leak: ${a.free} is never called`);
        continue;
      }
      this.line(`${a.free};`);
      a.live = false;
    }
  }

  join(h: HVar): void {
    h.joined = true;
    const r = this.fresh("j");
    if (h.panics) {
      this.line(`${h.name}.join(); // panics: the thread panicked`);
    } else if (h.ret !== null && this.rng.chance(0.6)) {
      this.rt("assert_eq");
      this.line(`const ${r} = ${h.name}.join();`);
      this.line(`assert_eq(${r}, ${h.ret});`);
    } else this.line(`${h.name}.join();`);
    for (const a of h.busy) {
      if (!this.env.handles.some((o) => !o.joined && o.busy.includes(a))) a.busy = null;
    }
  }

  // ── the program ──

  program(): GeneratedProgram {
    const r = this.rng;
    // about one program in five is a Mirch program (always when the focus is a Mirch feature)
    const focus = this.opts.focus;
    const mirchDraw = r.chance(0.2);
    const want = this.opts.mirch ?? mirchDraw;
    this.mirch = focus !== undefined ? /^(misuse|bug)\.mirch(\.|$)/.test(focus) : want && this.use("mirch");
    this.chooseRunOptions();
    if (this.mirch) {
      this.used.add("mirch");
      mirchHelpers(this);
    } else {
      this.declareLayouts();
      this.declareStatics();
    }
    const size = this.opts.size ?? 14;
    const body = (n: number, should: boolean) => (this.mirch ? mirchBody(this, n, should) : this.body(n, should));
    let bodyLines: string[];
    if (this.mode === "test") {
      this.rt("ktest");
      this.used.add("ktest");
      const tests: string[] = [];
      const n = r.range(1, 3);
      for (let i = 0; i < n; i++) {
        const should = r.chance(0.3) && this.use("ktest.should_panic");
        const name = `t${i}`;
        const lines = this.capture(() => body(size, should), 1);
        if (should) {
          const expected = r.weighted<string | null>([[null, 1], ['"boom"', 2], ['"nope"', 1]]);
          tests.push([`ktest.should_panic("${name}", () => {`, ...lines, `}${expected ? `, ${expected}` : ""});`].join("\n"));
        } else tests.push([`ktest("${name}", () => {`, ...lines, `});`].join("\n"));
      }
      bodyLines = tests;
    } else {
      const lines = this.capture(() => body(size, false), 1);
      bodyLines = [[`export function main(): void {`, ...lines, `}`].join("\n")];
    }
    const imports = [...this.imports].sort();
    const head = [
      `// kmiri fuzz program, seed ${this.seed} (intent: ${this.intent}, mode: ${this.mode})`,
      `// regenerate: generateProgram(${this.seed}) in test/fuzz/generator.ts`,
      imports.length ? `import { ${imports.join(", ")} } from "kmiri/rt";` : "",
      `import type { ${[...this.typeImports].sort().join(", ")} } from "kmiri/rt";`,
      this.usesNamespace ? `import * as rtns from "kmiri/rt";` : "",
      this.mirchImports.size ? `import { ${[...this.mirchImports].sort().join(", ")} } from "kmiri/mirch";` : "",
      this.mirchTypes.size ? `import type { ${[...this.mirchTypes].sort().join(", ")} } from "kmiri/mirch";` : "",
    ].filter((x) => x !== "");
    const source = [...head, "", ...this.decls, "", ...this.helpers.flatMap((h) => [h, ""]), ...bodyLines, ""].join("\n");
    return {
      seed: this.seed,
      source,
      mode: this.mode,
      intent: this.intent,
      features: [...this.used].sort(),
      runOptions: this.runOptions,
    };
  }

  usesNamespace = false;
  /** A Mirch program (feature `mirch`): its `kmiri/mirch` imports and type imports. */
  mirch = false;
  readonly mirchImports = new Set<string>();
  readonly mirchTypes = new Set<string>();

  /** Where the output is now, to go back to with {@link rewind}. */
  mark(): number {
    return this.out.length;
  }
  rewind(mark: number): void {
    this.out.length = mark;
  }

  /**
   * Whether a construct that never ends on plain Node may be generated: a test's body also runs
   * natively (`kmiri test`'s timing column), where `spawn` runs the thread to completion at once
   * and `spin_loop`/`yield_now` do nothing, so a thread waiting for a later store (`spin`: with
   * `spin_loop`, `yield`: with `yield_now`) or an endless loop kmiri stops with --max-steps
   * (`stopped`) never ends there. Always allowed in `main` programs. Feature
   * `test.native-unbounded.<kind>`.
   */
  nativeUnboundedOk(kind: "spin" | "yield" | "stopped"): boolean {
    return this.mode !== "test" || this.use(`test.native-unbounded.${kind}`);
  }

  chooseRunOptions(): void {
    const r = this.rng;
    const o = this.runOptions;
    if (r.chance(0.3) && this.use("opt.preemption")) o.preemptionRate = r.pick([0, 0.5, 1]);
    if (r.chance(0.15) && this.use("opt.pct")) o.pct = r.range(1, 3);
    if (r.chance(0.1) && this.use("opt.borrow-none")) o.borrowModel = "none";
    // (not for Mirch programs: `phys_ptr` is `ptr_from_exposed`, unsupported with strict provenance)
    if (r.chance(0.08) && !this.mirch && this.use("opt.strict-provenance")) o.strictProvenance = true;
    if (r.chance(0.1) && this.use("opt.ignore-leaks")) o.ignoreLeaks = true;
    if (r.chance(0.05) && this.use("opt.no-race-detector")) o.dataRaceDetector = false;
    if (r.chance(0.1) && this.use("opt.tag-gc")) o.tagGc = r.pick([1, 2, 5]);
  }

  /** A body (of `main` or a test): a safe prelude, an `unsafe:` block, a safe epilogue. */
  body(size: number, shouldPanic: boolean): void {
    const r = this.rng;
    const depth = this.enterScope();
    this.env = emptyEnv();
    this.resetStatics();
    this.bugDone = false;
    const prelude = r.int(4);
    this.unsafeCtx = false;
    this.statements(prelude, SAFE);
    const total = r.range(Math.max(2, size - 6), size + 6);
    const bugAt = this.intent === "valid" ? -1 : r.range(Math.floor(total / 3), total);
    const unsafeBlock = () => {
      for (let i = 0; i < total; i++) {
        if (i === bugAt) this.placeBug();
        else this.statement(CORE);
      }
      if (bugAt >= total) this.placeBug();
    };
    if (r.chance(0.9)) {
      this.line("unsafe: {");
      this.indent++;
      this.unsafeCtx = true;
      unsafeBlock();
      this.cleanup(depth);
      this.indent--;
      this.line("}");
      this.unsafeCtx = false;
    } else {
      // everything safe, through helpers
      this.use("safe-body");
      unsafeBlock();
      this.cleanup(depth);
    }
    if (shouldPanic) {
      this.rt("panic");
      this.line(`if (${ALWAYS}) panic("boom");`);
    }
    this.leaveScope();
  }

  placeBug(): void {
    if (this.bugDone) {
      this.statement(CORE);
      return;
    }
    const pool = this.intent === "ub" ? BUGS : MISUSE;
    const savedUnsafe = this.unsafeCtx;
    if (this.statement(pool)) this.bugDone = true;
    this.unsafeCtx = savedUnsafe;
  }
}

// ───────────────────────────── features: helpers ─────────────────────────────

/**
 * A condition that is always true but typed `boolean`: a statement that never returns (`panic`,
 * `throw`) behind it leaves the code after it reachable for TypeScript (else its variables would
 * be typed `never` and the program would not type-check).
 */
const ALWAYS = `String(1) === "1"`;

/** `const name = expr;` */
function decl(g: Gen, prefix: string, expr: string): string {
  const name = g.fresh(prefix);
  g.line(`const ${name} = ${expr};`);
  return name;
}

/** A fresh heap allocation of `l` (its pointer var). */
function allocPtr(g: Gen, l: L, zeroed: boolean): PVar {
  g.rt(zeroed ? "alloc_zeroed" : "alloc", "dealloc");
  g.rtLayout(l);
  const name = decl(g, "p", `${zeroed ? "alloc_zeroed" : "alloc"}(${l.expr})`);
  const a = g.newAlloc("heap", l, l.size, zeroed);
  a.free = `dealloc(${name}, ${l.expr})`;
  const p: PVar = { name, l, a, off: 0, tag: null };
  g.env.ptrs.push(p);
  return p;
}

/** Uses a value just read: print it, assert it, or keep it. */
function useValue(g: Gen, expr: string, l: L, known: string | undefined): void {
  const r = g.rng;
  if (known !== undefined && r.chance(0.6)) {
    g.rt("assert_eq");
    g.line(`assert_eq(${expr}, ${known});`);
    return;
  }
  if (r.chance(0.5)) {
    g.line(`console.log(${r.chance(0.3) ? `"${l.name}:", ` : ""}${expr});`);
    return;
  }
  const name = decl(g, "v", expr);
  if (l.ts === "number" || l.ts === "bigint" || l.ts === "boolean" || l.ts === "string") g.env.nums.push({ name, ts: l.ts });
}

/** A pointer to a sub-place of `p` (element, field, offset) as a new var, or undefined. */
function derive(g: Gen, p: PVar): PVar | undefined {
  const r = g.rng;
  const a = p.a;
  const l = p.l;
  const opts: (() => PVar | undefined)[] = [];
  // elements and fields that lie inside the allocation (a pointer may outlive a `realloc` shrink)
  const fits = (off: number, size: number) => a === null || (off >= 0 && off + size <= a.size);
  const elems = l.k === "array" ? Array.from({ length: l.len! }, (_, i) => i).filter((i) => fits(p.off + i * l.elem!.size, l.elem!.size)) : [];
  if (l.k === "array" && elems.length) {
    opts.push(() => {
      const i = r.pick(elems);
      if (!g.use("ptr.index")) return undefined;
      return { ...p, name: decl(g, "p", `${p.name}.index(${i})`), l: l.elem!, off: p.off + i * l.elem!.size };
    });
    opts.push(() => {
      const i = r.pick(elems);
      if (!g.use("ptr.add")) return undefined;
      g.rtLayout(l.elem!);
      return { ...p, name: decl(g, "p", `${p.name}.cast(${l.elem!.expr}).add(${i})`), l: l.elem!, off: p.off + i * l.elem!.size };
    });
  }
  const fields = l.k === "struct" ? l.fields!.filter((f) => fits(p.off + f.off, f.l.size)) : [];
  if (fields.length) {
    opts.push(() => {
      const f = r.pick(fields);
      if (!g.use("ptr.field")) return undefined;
      return { ...p, name: decl(g, "p", `${p.name}.field("${f.name}")`), l: f.l, off: p.off + f.off };
    });
  }
  if (l.k === "mu" && (l.inner!.k === "struct" || l.inner!.k === "array")) {
    opts.push(() => {
      if (!g.use("ptr.cast")) return undefined;
      g.rtLayout(l.inner!);
      return { ...p, name: decl(g, "p", `${p.name}.cast(${l.inner!.expr})`), l: l.inner! };
    });
  }
  if (a !== null && l.size > 0) {
    const room = Math.floor((a.size - p.off - l.size) / l.size);
    if (room >= 1) {
      opts.push(() => {
        const k = r.range(1, room);
        const how = r.weighted<string>([["add", 3], ["offset", 1], ["byte_add", 1], ["wrapping_add", 1]]);
        if (!g.use(`ptr.${how}`)) return undefined;
        const arg = how === "byte_add" ? k * l.size : k;
        return { ...p, name: decl(g, "p", `${p.name}.${how}(${arg})`), off: p.off + k * l.size };
      });
    }
    const back = Math.floor(p.off / l.size);
    if (back >= 1) {
      opts.push(() => {
        const k = r.range(1, back);
        const how = r.weighted<string>([["sub", 3], ["offset", 1], ["byte_sub", 1], ["wrapping_sub", 1]]);
        if (!g.use(`ptr.${how}`)) return undefined;
        const arg = how === "byte_sub" ? k * l.size : how === "offset" ? -k : k;
        return { ...p, name: decl(g, "p", `${p.name}.${how}(${arg})`), off: p.off - k * l.size };
      });
    }
    opts.push(() => {
      const k = r.range(1, 1000);
      if (!g.use("ptr.wrapping")) return undefined;
      return { ...p, name: decl(g, "p", `${p.name}.wrapping_add(${k}).wrapping_sub(${k})`) };
    });
    opts.push(() => {
      if (!g.use("ptr.with_addr")) return undefined;
      return { ...p, name: decl(g, "p", `${p.name}.with_addr(${p.name}.addr())`) };
    });
    if (a.size - p.off >= 1) {
      opts.push(() => {
        const to = r.pick([U8, U8, U16, U32, I8, BOOL].filter((x) => x.size <= a.size - p.off && (p.off % x.align === 0 && a.align >= x.align)));
        if (!to) return undefined;
        if (!g.use("ptr.cast")) return undefined;
        g.rtLayout(to);
        return { ...p, name: decl(g, "p", `${p.name}.cast(${to.expr})`), l: to };
      });
    }
  }
  if (!opts.length) return undefined;
  const q = r.pick(opts)();
  if (q) g.env.ptrs.push(q);
  return q;
}

// ───────────────────────────── features: core statements ─────────────────────────────

const f = (name: string, weight: number, run: (g: Gen) => boolean, unsafe = false): Feature => ({ name, weight, run, unsafe });

const CORE_LIST: Feature[] = [
  f("alloc", 6, (g) => {
    const l = g.pickLayout({ noZst: true });
    if (l.size === 0) return false;
    const zeroed = g.rng.chance(0.35);
    if (zeroed && !g.use("alloc_zeroed")) return false;
    const p = allocPtr(g, l, zeroed);
    if (!zeroed && g.rng.chance(0.7)) {
      const v = g.val(l);
      g.line(`${p.name}.write(${v});`);
      g.wrote(p.a!, 0, l, v);
    }
    return true;
  }, true),

  f("box", 4, (g) => {
    const l = g.pickLayout();
    if (l.size === 0 && !g.use("box.zst")) return false;
    g.rt("Box");
    g.rtLayout(l);
    const v = g.val(l);
    const name = decl(g, "b", `Box.new(${l.expr}, ${v})`);
    const a = g.newAlloc("box", l);
    a.free = `${name}.drop()`;
    g.wrote(a, 0, l, v);
    g.env.boxes.push({ name, l, a });
    return true;
  }),

  f("box.ops", 4, (g) => {
    const b = g.rng.pick(g.env.boxes.filter((x) => x.a.live && x.a.busy === null && g.tagValid(x.a, null)));
    if (!b) return false;
    const r = g.rng;
    const op = r.weighted<string>([["read", 3], ["write", 3], ["as_ref", 2], ["as_mut", 2], ["into_raw", 1], ["leak", g.unsafeCtx ? 0.5 : 0], ["drop", 1]]);
    if (!g.use(`box.${op}`)) return false;
    switch (op) {
      case "read":
        if (!g.readable(b.a, 0, b.l) || b.l.size === 0) return false;
        g.access(b.a, null, false);
        useValue(g, `${b.name}.read()`, b.l, b.a.vals.get(`0|${b.l.expr}`));
        return true;
      case "write": {
        const v = g.val(b.l);
        g.line(`${b.name}.write(${v});`);
        g.access(b.a, null, true);
        g.wrote(b.a, 0, b.l, v);
        return true;
      }
      case "as_ref":
      case "as_mut": {
        const mut = op === "as_mut";
        const name = decl(g, "r", `${b.name}.${op}()`);
        g.env.refs.push({ name, l: b.l, a: b.a, off: 0, tag: g.newTag(b.a, null, mut, false, !mut && !allCell(b.l)) });
        return true;
      }
      case "into_raw": {
        if (!g.unsafeCtx) return false;
        const name = decl(g, "p", `Box.into_raw(${b.name})`);
        g.env.boxes = g.env.boxes.filter((x) => x !== b);
        b.a.scope = g.scopeDepth;
        const p: PVar = { name, l: b.l, a: b.a, off: 0, tag: null };
        if (b.l.size > 0 && g.rng.chance(0.5) && g.use("box.from_raw")) {
          // ownership moves back into a box: the raw pointer is not used again
          // (feature box.from_raw)
          const nb = decl(g, "b", `Box.from_raw(${name})`);
          b.a.free = `${nb}.drop()`;
          b.a.w++;
          g.env.boxes.push({ name: nb, l: b.l, a: b.a });
        } else {
          g.env.ptrs.push(p);
          b.a.free = `dealloc(${name}, ${b.l.expr})`;
          g.rt("dealloc");
          g.rtLayout(b.l);
        }
        return true;
      }
      case "leak": {
        const name = decl(g, "r", `Box.leak(${b.name})`);
        g.env.boxes = g.env.boxes.filter((x) => x !== b);
        b.a.kind = "leaked";
        b.a.free = null;
        const tag = g.newTag(b.a, null, true, false, false);
        g.env.refs.push({ name, l: b.l, a: b.a, off: 0, tag });
        if ((g.intent === "valid" || g.rng.chance(0.5)) && g.use("box.leak.kept")) {
          // reachable from a static: no leak
          // (feature box.leak.kept)
          const keep = g.fresh("KEEP");
          g.rt("static_", "ptr", "null_mut");
          g.rtLayout(b.l);
          g.decls.push(`const ${keep} = static_(ptr(${b.l.expr}), null_mut(${b.l.expr}), { mut: true });`);
          g.line(`${keep}.as_ptr().write(${name}.as_mut_ptr().cast(${b.l.expr}));`);
          tag.w = b.a.w;
        }
        return true;
      }
      case "drop":
        g.line(`${b.name}.drop();`);
        b.a.live = false;
        g.env.boxes = g.env.boxes.filter((x) => x !== b);
        return true;
    }
    return false;
  }),

  f("local", 3, (g) => {
    if (g.inThread > 0 && g.rng.chance(0.5)) return false;
    const l = g.pickLayout();
    g.rt("local");
    g.rtLayout(l);
    const init = g.rng.chance(0.7);
    const v = init ? g.val(l) : "";
    const name = decl(g, "l", `local(${l.expr}${init ? `, ${v}` : ""})`);
    const a = g.newAlloc("local", l);
    a.scope = -2; // dies with its function, never freed by hand
    if (init) g.wrote(a, 0, l, v);
    g.env.locals.push({ name, l, a });
    return true;
  }),

  f("local.ops", 3, (g) => {
    const lv = g.rng.pick(g.env.locals.filter((x) => x.a.live && x.a.busy === null));
    if (!lv) return false;
    const op = g.rng.weighted<string>([["read", 2], ["write", 2], ["as_ref", 1], ["as_mut", 1], ["as_ptr", 2]]);
    if (!g.use(`local.${op}`)) return false;
    switch (op) {
      case "read":
        if (!g.readable(lv.a, 0, lv.l) || lv.l.size === 0) return false;
        g.access(lv.a, null, false);
        useValue(g, `${lv.name}.read()`, lv.l, lv.a.vals.get(`0|${lv.l.expr}`));
        return true;
      case "write": {
        const v = g.val(lv.l);
        g.line(`${lv.name}.write(${v});`);
        g.access(lv.a, null, true);
        g.wrote(lv.a, 0, lv.l, v);
        return true;
      }
      case "as_ref":
      case "as_mut": {
        const mut = op === "as_mut";
        const name = decl(g, "r", `${lv.name}.${op}()`);
        g.env.refs.push({ name, l: lv.l, a: lv.a, off: 0, tag: g.newTag(lv.a, null, mut, false, !mut && !allCell(lv.l)) });
        return true;
      }
      case "as_ptr": {
        // `&raw mut x`: a raw retag above the local's own tag; a direct write to `x` pops it
        const name = decl(g, "p", `${lv.name}.as_ptr()`);
        g.env.ptrs.push({ name, l: lv.l, a: lv.a, off: 0, tag: { mut: false, raw: true, readOnly: false, w: lv.a.w, r: lv.a.r, parent: null } });
        return true;
      }
    }
    return false;
  }),

  f("static.ops", 3, (g) => {
    const s = g.rng.pick(g.statics.filter((x) => x.a.busy === null && (g.inThread === 0 || x.l.k === "atomic")));
    if (!s) return false;
    const atomicStatic = s.l.k === "atomic";
    const op = g.rng.weighted<string>([["as_ref", 3], ["as_mut", s.mut && g.unsafeCtx && !atomicStatic ? 2 : 0], ["as_ptr", g.unsafeCtx && !atomicStatic ? 2 : 0]]);
    if (s.mut && !g.unsafeCtx) return false;
    if (!g.use(`static.${op}`)) return false;
    if (op === "as_ptr") {
      const name = decl(g, "p", `${s.name}.as_ptr()`);
      g.env.ptrs.push({ name, l: s.l, a: s.a, off: 0, tag: { mut: false, raw: true, readOnly: !s.mut && !allCell(s.l), w: s.a.w, r: s.a.r, parent: null } });
      return true;
    }
    const mut = op === "as_mut";
    const name = decl(g, "r", `${s.name}.${op}()`);
    g.env.refs.push({ name, l: s.l, a: s.a, off: 0, tag: g.newTag(s.a, null, mut, false, !mut && !allCell(s.l)) });
    return true;
  }),

  f("write", 6, (g) => {
    const p = g.pickPtr((x) => g.okPtr(x, true));
    if (!p) return false;
    const v = g.val(p.l);
    const how = g.rng.weighted<string>([["write", 6], ["write_unaligned", 1], ["write_volatile", 1], ["replace", g.readable(p.a!, p.off, p.l) ? 1 : 0]]);
    if (!g.use(`ptr.${how}`)) return false;
    if (how === "replace") useValue(g, `${p.name}.replace(${v})`, p.l, p.a!.vals.get(`${p.off}|${p.l.expr}`));
    else g.line(`${p.name}.${how}(${v});`);
    g.access(p.a!, p.tag, true);
    g.wrote(p.a!, p.off, p.l, v);
    return true;
  }, true),

  f("read", 6, (g) => {
    const p = g.pickPtr((x) => g.okRead(x));
    if (!p) return false;
    const how = g.rng.weighted<string>([["read", 6], ["read_unaligned", 1], ["read_volatile", 1]]);
    if (!g.use(`ptr.${how}`)) return false;
    g.access(p.a!, p.tag, false);
    useValue(g, `${p.name}.${how}()`, p.l, p.a!.vals.get(`${p.off}|${p.l.expr}`));
    return true;
  }, true),

  f("read.modify", 2, (g) => {
    const p = g.pickPtr((x) => (x.l.k === "int" || x.l.k === "big") && g.okRead(x) && g.okPtr(x, true));
    if (!p) return false;
    const l = p.l;
    const expr = l.k === "big"
      ? (l.signed ? `BigInt.asIntN(64, ${p.name}.read() + 1n)` : `BigInt.asUintN(64, ${p.name}.read() + 1n)`)
      : l.bits! >= 52
        ? `${p.name}.read() % 1000`
        : l.signed
          ? `((${p.name}.read() + 1) << ${32 - l.bits!}) >> ${32 - l.bits!}`
          : l.bits === 32
            ? `(${p.name}.read() + 1) >>> 0`
            : `(${p.name}.read() + 1) & ${2 ** l.bits! - 1}`;
    g.line(`${p.name}.write(${expr});`);
    g.access(p.a!, p.tag, true);
    g.wrote(p.a!, p.off, l);
    return true;
  }, true),

  f("derive", 7, (g) => {
    const p = g.pickPtr((x) => x.a !== null && x.a.live && x.a.busy === null && g.tagValid(x.a, x.tag));
    if (!p) return false;
    return derive(g, p) !== undefined;
  }, true),

  f("ptr.query", 2, (g) => {
    const p = g.pickPtr(() => true);
    if (!p) return false;
    const what = g.rng.pick(["is_null()", "is_aligned()", "addr() % 8", "addr() > 0"]);
    g.line(`console.log("${p.name}.${what.split("(")[0]}", ${p.name}.${what});`);
    return true;
  }),

  f("ptr.offset_from", 2, (g) => {
    const p = g.pickPtr((x) => x.a !== null && x.a.live && x.l.size > 0);
    if (!p) return false;
    const q = g.pickPtr((x) => x.a === p.a && x.l.expr === p.l.expr && x !== p && (x.off - p.off) % p.l.size === 0);
    if (!q) return false;
    g.rt("assert_eq");
    g.line(`assert_eq(${q.name}.offset_from(${p.name}), ${(q.off - p.off) / p.l.size});`);
    return true;
  }, true),

  f("expose", 2, (g) => {
    const p = g.pickPtr((x) => g.okPtr(x, false) && x.tag === null);
    if (!p) return false;
    if (g.runOptions.strictProvenance && (g.intent === "valid" || !g.use("expose.strict"))) return false;
    const addr = decl(g, "x", `${p.name}.expose_provenance()`);
    g.env.nums.push({ name: addr, ts: "number" });
    g.rt("ptr_from_exposed");
    g.rtLayout(p.l);
    const name = decl(g, "p", `ptr_from_exposed(${addr}, ${p.l.expr})`);
    g.env.ptrs.push({ ...p, name, wild: true });
    return true;
  }, true),

  f("null", 1, (g) => {
    const l = g.rng.pick(SCALARS);
    g.rt("null_mut", l.expr);
    const name = decl(g, "p", `null_mut(${l.expr})`);
    g.line(`console.log(${name}.is_null(), ${name}.addr());`);
    g.env.ptrs.push({ name, l, a: null, off: 0, tag: null });
    return true;
  }),

  f("without_provenance", 1, (g) => {
    const l = g.rng.pick(SCALARS);
    g.rt("without_provenance", l.expr);
    const name = decl(g, "p", `without_provenance(${g.rng.pick([0, 8, 4096, 0x10000])}, ${l.expr})`);
    g.line(`console.log(${name}.addr(), ${name}.is_aligned());`);
    g.env.ptrs.push({ name, l, a: null, off: 0, tag: null });
    return true;
  }),

  f("copy", 3, (g) => {
    const src = g.pickPtr((x) => g.okRead(x) && x.l.size > 0);
    if (!src) return false;
    const dst = g.pickPtr((x) => g.okPtr(x, true) && x.l.expr === src.l.expr && (x.a !== src.a || x.off === src.off || Math.abs(x.off - src.off) >= src.l.size || true));
    if (!dst) return false;
    const overlap = dst.a === src.a && Math.abs(dst.off - src.off) < src.l.size;
    const nonover = !overlap && g.rng.chance(0.6);
    const fn = nonover ? "copy_nonoverlapping" : "copy";
    g.use(fn);
    g.rt(fn);
    g.line(`${fn}(${src.name}, ${dst.name}, 1);`);
    g.access(src.a!, src.tag, false);
    g.access(dst.a!, dst.tag, true);
    for (let i = 0; i < src.l.size; i++) {
      dst.a!.init[dst.off + i] = src.a!.init[src.off + i]!;
      dst.a!.zero[dst.off + i] = src.a!.zero[src.off + i]!;
    }
    const t = src.a!.typed.get(src.off);
    const v = src.a!.vals.get(`${src.off}|${src.l.expr}`);
    g.clobber(dst.a!, dst.off, src.l.size);
    if (t !== undefined) dst.a!.typed.set(dst.off, t);
    if (v !== undefined) dst.a!.vals.set(`${dst.off}|${src.l.expr}`, v);
    return true;
  }, true),

  f("copy.array", 2, (g) => {
    const src = g.pickPtr((x) => x.l.k === "array" && g.okRead(x));
    if (!src) return false;
    const el = src.l.elem!;
    const n = g.rng.range(1, src.l.len!);
    const dst = g.pickPtr((x) => x.l.k === "array" && x.l.elem!.expr === el.expr && x.l.len! >= n && g.okPtr(x, true));
    if (!dst) return false;
    const same = dst.a === src.a;
    const fn = same ? "copy" : g.rng.pick(["copy", "copy_nonoverlapping"]);
    if (!g.use(`${fn}.array`)) return false;
    g.rt(fn);
    g.rtLayout(el);
    g.line(`${fn}(${src.name}.cast(${el.expr}), ${dst.name}.cast(${el.expr}), ${n});`);
    g.access(src.a!, src.tag, false);
    g.access(dst.a!, dst.tag, true);
    const bytes = n * el.size;
    const init = src.a!.init.slice(src.off, src.off + bytes);
    const zero = src.a!.zero.slice(src.off, src.off + bytes);
    g.clobber(dst.a!, dst.off, bytes);
    dst.a!.init.set(init, dst.off);
    dst.a!.zero.set(zero, dst.off);
    return true;
  }, true),

  f("write_bytes", 2, (g) => {
    const p = g.pickPtr((x) => g.okPtr(x, true) && x.l.size > 0);
    if (!p) return false;
    const byte = hasValidity(p.l) ? 0 : g.rng.pick([0, 0, 0xff, 0x41, 1]);
    g.rt("write_bytes");
    const room = Math.floor((p.a!.size - p.off) / p.l.size);
    const n = g.rng.range(0, Math.max(0, Math.min(room, 3)));
    g.line(`write_bytes(${p.name}, ${byte}, ${n});`);
    g.access(p.a!, p.tag, true);
    g.filled(p.a!, p.off, n * p.l.size, byte);
    return true;
  }, true),

  f("transmute", 2, (g) => {
    const pairs: [L, L, string][] = [
      [U32, F32, "1065353216"],
      [U32, I32, "4294967295"],
      [F64, U64, "1.5"],
      [U64, I64, "18446744073709551615n"],
      [mkArray(U8, 4), U32, "[1, 2, 3, 4]"],
      [U32, mkArray(U16, 2), "0x12345678"],
      [BOOL, U8, "true"],
      [U8, BOOL, "1"],
      [U32, CHAR, "0x41"],
      [CHAR, U32, '"Z"'],
      [I8, U8, "-1"],
      [U16, mkArray(BOOL, 2), "0x0101"],
    ];
    const [from, to, v] = g.rng.pick(pairs);
    g.rt("transmute");
    g.rtLayout(from);
    g.rtLayout(to);
    useValue(g, `transmute(${v}, ${from.expr}, ${to.expr})`, to, undefined);
    return true;
  }, true),

  f("transmute.struct", 1, (g) => {
    const s = g.rng.pick(g.composites.filter((c) => c.k === "struct" && !hasPtr(c) && c.size > 0 && c.size % 4 === 0 && dataMask(c).every((x) => x)));
    if (!s) return false;
    g.rt("transmute", "u32", "array");
    const v = g.val(s);
    // padding read as data is `uninit`: only structs without padding make a valid program
    g.line(`console.log(transmute(${v}, ${s.expr}, array(u32, ${s.size / 4})));`);
    return true;
  }, true),

  f("layout.query", 2, (g) => {
    const l = g.rng.chance(0.5) && g.composites.length ? g.rng.pick(g.composites) : g.pickLayout();
    g.rt("size_of", "align_of", "assert_eq");
    g.rtLayout(l);
    const what = g.rng.pick(["size", "align", "offset"]);
    if (what === "offset" && l.k === "struct") {
      g.rt("offset_of");
      const fl = g.rng.pick(l.fields!);
      g.line(`assert_eq(offset_of(${l.expr}, "${fl.name}"), ${fl.off});`);
    } else if (what === "align") g.line(`assert_eq(align_of(${l.expr}), ${l.align});`);
    else g.line(`assert_eq(size_of(${l.expr}), ${l.size});`);
    return true;
  }),

  f("dealloc", 3, (g) => {
    const a = g.rng.pick(g.allocs.filter((x) => x.live && x.kind === "heap" && x.free !== null && x.busy === null && x.scope === g.scopeDepth && g.visible(x)));
    if (!a) return false;
    g.line(`${a.free};`);
    a.live = false;
    return true;
  }, true),

  f("realloc", 2, (g) => {
    const p = g.pickPtr((x) => x.tag === null && x.off === 0 && x.a !== null && x.a.kind === "heap" && x.a.live && x.a.busy === null && x.a.scope === g.scopeDepth && x.a.free?.startsWith("dealloc(") === true && x.l.expr === x.a.l.expr && x.a.size === x.l.size);
    if (!p) return false;
    const a = p.a!;
    const el = p.l.k === "array" ? p.l.elem! : p.l;
    if (el.size === 0) return false;
    const n = g.rng.range(1, 6);
    const arr = g.note(mkArray(el, n));
    g.rt("realloc", "array", "dealloc");
    g.rtLayout(el);
    const name = decl(g, "p", `realloc(${p.name}, ${p.l.expr}, ${arr.size})`);
    a.live = false;
    const b = g.newAlloc("heap", arr);
    b.align = a.align;
    const keep = Math.min(a.size, arr.size);
    b.init.set(a.init.slice(0, keep));
    b.zero.set(a.zero.slice(0, keep));
    for (const [o, t] of a.typed) if (o + g.sizeOfExpr(t) <= keep) b.typed.set(o, t);
    for (const [k, v] of a.vals) {
      const [o, t] = k.split("|");
      if (+o! + g.sizeOfExpr(t!) <= keep) b.vals.set(k, v);
    }
    const q = decl(g, "p", `${name}.cast(${arr.expr})`);
    b.free = `dealloc(${q}, ${arr.expr})`;
    g.env.ptrs.push({ name: q, l: arr, a: b, off: 0, tag: null });
    g.env.ptrs.push({ name, l: p.l, a: b, off: 0, tag: null });
    return true;
  }, true),

  // references
  f("ref.make", 5, (g) => {
    const p = g.pickPtr((x) => g.okPtr(x, false) && x.l.size > 0);
    if (!p) return false;
    const mut = g.rng.chance(0.5) && g.okPtr(p, true);
    g.use(mut ? "ref.as_mut" : "ref.as_ref");
    const name = decl(g, "r", `${p.name}.${mut ? "as_mut" : "as_ref"}()`);
    g.env.refs.push({ name, l: p.l, a: p.a!, off: p.off, tag: g.newTag(p.a!, p.tag, mut, false, !mut && !allCell(p.l)) });
    return true;
  }, true),

  f("ref.use", 7, (g) => {
    const r = g.pickRef((x) => g.refOk(x));
    if (!r) return false;
    const rng = g.rng;
    const l = r.l;
    const ops: [string, number][] = [
      ["read", g.readable(r.a, r.off, l) && l.k !== "atomic" ? 4 : 0],
      ["write", r.tag.mut && l.k !== "atomic" ? 4 : 0],
      ["reborrow", 2],
      ["reborrow_mut", r.tag.mut ? 2 : 0],
      ["field", l.k === "struct" || (l.k === "mu" && l.inner!.k === "struct") ? 3 : 0],
      ["index", l.k === "array" ? 3 : 0],
      ["as_ptr", 2],
      ["get", l.k === "cell" ? 3 : 0],
    ];
    const op = rng.weighted(ops);
    if (!g.use(`ref.${op}`)) return false;
    switch (op) {
      case "read":
        g.access(r.a, r.tag, false);
        useValue(g, `${r.name}.read()`, l, r.a.vals.get(`${r.off}|${l.expr}`));
        return true;
      case "write": {
        const v = g.val(l);
        g.line(`${r.name}.write(${v});`);
        g.access(r.a, r.tag, true);
        g.wrote(r.a, r.off, l, v);
        return true;
      }
      case "reborrow":
      case "reborrow_mut": {
        const mut = op === "reborrow_mut";
        const name = decl(g, "r", `${r.name}.${op}()`);
        g.env.refs.push({ ...r, name, tag: g.newTag(r.a, r.tag, mut, false, !mut && !allCell(l)) });
        return true;
      }
      case "field": {
        // a reference to a field must be aligned (a packed struct's may not be: rustc's E0793)
        const st = l.k === "mu" ? l.inner! : l;
        const aligned = st.fields!.filter((x) => (r.off + x.off) % x.l.align === 0 && r.a.align >= x.l.align);
        if (!aligned.length) return false;
        const fl = rng.pick(aligned);
        const mut = r.tag.mut && rng.chance(0.5);
        const name = decl(g, "r", `${r.name}.${mut ? "field_mut" : "field"}("${fl.name}")`);
        g.env.refs.push({ name, l: fl.l, a: r.a, off: r.off + fl.off, tag: g.newTag(r.a, r.tag, mut, false, !mut && !allCell(fl.l)) });
        return true;
      }
      case "index": {
        const i = rng.int(l.len!);
        const mut = r.tag.mut && rng.chance(0.5);
        const name = decl(g, "r", `${r.name}.${mut ? "index_mut" : "index"}(${i})`);
        g.env.refs.push({ name, l: l.elem!, a: r.a, off: r.off + i * l.elem!.size, tag: g.newTag(r.a, r.tag, mut, false, !mut && !allCell(l.elem!)) });
        return true;
      }
      case "as_ptr": {
        const mut = r.tag.mut && rng.chance(0.6);
        if (!g.unsafeCtx && rng.chance(0.5)) return false;
        const name = decl(g, "p", `${r.name}.${mut ? "as_mut_ptr" : "as_ptr"}()`);
        g.env.ptrs.push({ name, l, a: r.a, off: r.off, tag: { mut: false, raw: true, readOnly: !mut && !allCell(l), w: r.a.w, r: r.a.r, parent: r.tag } });
        return true;
      }
      case "get": {
        const name = decl(g, "p", `${r.name}.get()`);
        g.env.ptrs.push({ name, l: l.inner!, a: r.a, off: r.off, tag: { mut: false, raw: true, readOnly: false, w: r.a.w, r: r.a.r, parent: r.tag } });
        return true;
      }
    }
    return false;
  }),

  f("ref.fn-args", 2, (g) => {
    // a helper taking references: function-entry retags and protectors
    const r1 = g.pickRef((x) => g.refOk(x, true) && x.l.k === "int" && g.readable(x.a, x.off, x.l));
    if (!r1) return false;
    const l = r1.l;
    const other = g.pickRef((x) => x !== r1 && x.a !== r1.a && g.refOk(x) && x.l.expr === l.expr && g.readable(x.a, x.off, x.l));
    const name = g.helper(`fnargs-${l.expr}`, () =>
      [
        `function $NAME(dst: RefMut<number>, src: Ref<number>): number {`,
        `  const v = src.read();`,
        `  dst.write(v);`,
        `  return dst.read();`,
        `}`,
      ].join("\n"),
    );
    const src = other ? `${other.name}.reborrow()` : `${r1.name}.reborrow()`;
    if (!other) return false;
    useValue(g, `${name}(${r1.name}.reborrow_mut(), ${src})`, l, undefined);
    g.access(r1.a, r1.tag, true);
    g.wrote(r1.a, r1.off, l);
    r1.a.vals.delete(`${r1.off}|${l.expr}`);
    return true;
  }),

  f("fn.unsafe-helper", 2, (g) => {
    const p = g.pickPtr((x) => g.okRead(x) && (x.l.k === "int" || x.l.k === "float"));
    if (!p) return false;
    const name = g.helper("unsafe-read", () =>
      [`function $NAME(p: Ptr<number>): number {`, `  "unsafe";`, `  return p.read();`, `}`].join("\n"),
    );
    g.access(p.a!, p.tag, false);
    useValue(g, `${name}(${p.name})`, p.l, p.a!.vals.get(`${p.off}|${p.l.expr}`));
    return true;
  }, true),

  f("fn.local-helper", 1, (g) => {
    // a function owning a local, used through a pointer while it lives
    const name = g.helper("local-helper", () => {
      g.rt("local", "u32");
      return [
        `function $NAME(n: number): number {`,
        `  const slot = local(u32, 0);`,
        `  const p = slot.as_ptr();`,
        `  unsafe: {`,
        `    for (let i = 0; i < n; i++) p.write(p.read() + i);`,
        `    return p.read();`,
        `  }`,
        `}`,
      ].join("\n");
    });
    const n = g.rng.range(0, 5);
    g.rt("assert_eq");
    g.line(`assert_eq(${name}(${n}), ${(n * (n - 1)) / 2});`);
    return true;
  }),

  f("recursion", 1, (g) => {
    const name = g.helper("recursion", () => [`function $NAME(n: number): number {`, `  return n <= 0 ? 0 : 1 + $NAME(n - 1);`, `}`].join("\n"));
    g.rt("assert_eq");
    const n = g.rng.range(0, 50);
    g.line(`assert_eq(${name}(${n}), ${n});`);
    return true;
  }),

  // atomics
  f("atomic.op", 6, (g) => {
    const target = atomicTarget(g);
    if (!target) return false;
    const { ref, l } = target;
    const inner = l.inner!;
    const rng = g.rng;
    const isPtr = inner.k === "ptr";
    const isBool = inner.k === "bool";
    const op = rng.weighted<string>([
      ["load", 4],
      ["store", 3],
      ["swap", 2],
      ["compare_exchange", 2],
      ["compare_exchange_weak", 2],
      ["fetch_add", isPtr || isBool ? 0 : 2],
      ["fetch_sub", isPtr || isBool ? 0 : 1],
      ["fetch_and", isPtr ? 0 : 1],
      ["fetch_or", isPtr ? 0 : 1],
      ["fetch_xor", isPtr ? 0 : 1],
    ]);
    if (!g.use(`atomic.${op}`)) return false;
    const v = () => (inner.k === "int" ? String(rng.range(0, Math.min(2 ** inner.bits! - 1, 300))) : g.val(inner));
    const ord = (xs: readonly string[]) => `"${g.intent === "valid" || rng.chance(0.97) ? rng.pick(xs) : rng.pick(ORDERINGS)}"`;
    let expr: string;
    switch (op) {
      case "load":
        expr = `${ref}.load(${ord(LOAD_ORDERS)})`;
        break;
      case "store":
        g.line(`${ref}.store(${v()}, ${ord(STORE_ORDERS)});`);
        return true;
      case "compare_exchange":
      case "compare_exchange_weak":
        expr = `${ref}.${op}(${v()}, ${v()}, ${ord(ORDERINGS)}, ${ord(FAIL_ORDERS)})`;
        if (rng.chance(0.5)) {
          const c = decl(g, "c", expr);
          g.line(`console.log(${c}.ok, ${isPtr ? `${c}.value.addr()` : `${c}.value`});`);
          return true;
        }
        break;
      default:
        expr = `${ref}.${op}(${v()}, ${ord(ORDERINGS)})`;
    }
    const cas = op.startsWith("compare");
    if (cas) expr = `${expr}.ok`;
    else if (isPtr) expr = `${expr}.is_null()`;
    useValue(g, expr, isPtr || cas ? BOOL : inner, undefined);
    return true;
  }),

  f("atomic.cas-loop", 2, (g) => {
    const target = atomicTarget(g, (l) => l.inner!.k === "int");
    if (!target) return false;
    const { ref, l } = target;
    const max = 2 ** l.inner!.bits! - 1;
    if (!g.use("atomic.compare_exchange_weak")) return false;
    const cur = g.fresh("cur");
    g.block(`for (let ${cur} = ${ref}.load("Relaxed"); ; )`, () => {
      g.line(`const res = ${ref}.compare_exchange_weak(${cur}, (${cur} + 1) % ${Math.min(max, 2 ** 31)}, "AcqRel", "Relaxed");`);
      g.line(`if (res.ok) break;`);
      g.line(`${cur} = res.value;`);
    });
    return true;
  }),

  f("fence", 2, (g) => {
    g.rt("fence", "compiler_fence");
    const fn = g.rng.chance(0.6) ? "fence" : "compiler_fence";
    g.use(fn);
    g.line(`${fn}("${g.intent === "valid" || g.rng.chance(0.95) ? g.rng.pick(FENCE_ORDERS) : "Relaxed"}");`);
    return true;
  }),

  // threads
  f("thread.spawn", 4, (g) => spawnGeneric(g)),
  f("thread.atomic-counter", 2, (g) => atomicCounter(g)),
  f("thread.disjoint", 2, (g) => disjointWriters(g), true),
  f("thread.message", 2, (g) => messagePassing(g, false), true),
  f("thread.lock", 2, (g) => lockedCounter(g)),
  f("thread.atomic-ptr", 1, (g) => atomicPtrPublish(g), true),
  f("thread.join", 3, (g) => {
    const h = g.rng.pick(g.env.handles.filter((x) => !x.joined));
    if (!h) return false;
    g.join(h);
    return true;
  }),
  f("thread.yield", 1, (g) => {
    g.rt("yield_now");
    g.line("yield_now();");
    return true;
  }),
  f("thread.nested", 1, (g) => {
    g.rt("spawn", "assert_eq");
    const h = g.fresh("h");
    g.line(`const ${h} = spawn(() => spawn(() => ${g.rng.range(0, 9)}).join() + 1${g.rng.chance(0.5) ? `, { name: "outer" }` : ""});`);
    g.line(`assert_eq(${h}.join() > 0, true);`);
    return true;
  }),

  // locks on one thread
  f("lock.single", 2, (g) => {
    const lk = g.locks.length && g.rng.chance(0.5) ? g.rng.pick(g.locks) : g.lockStatic();
    const cls = lk.cls ? `, ${lk.cls}` : "";
    g.line(`lock(${lk.name}.as_ref()${cls});`);
    g.line(`bump(${lk.name}.as_ref(), ${g.rng.range(1, 3)}n);`);
    g.line(`unlock(${lk.name}.as_ref());`);
    return true;
  }),

  f("lock.raw-annotations", 1, (g) => {
    // annotations through a raw pointer; two classes taken in a consistent order
    const a = g.rng.pick(g.env.ptrs.filter((p) => p.a?.live && p.a.kind === "heap" && p.a.busy === null));
    if (!a) return false;
    g.rt("lock_acquired", "lock_released");
    const shared = g.rng.chance(0.3) && g.use("lock.shared");
    g.line(`lock_acquired(${a.name}${g.rng.chance(0.5) ? `, "raw_${a.a!.id}"` : shared ? ", undefined" : ""}${shared ? ", { shared: true }" : ""});`);
    g.line(`lock_released(${a.name});`);
    return true;
  }),

  f("lock.rank", 1, (g) => {
    g.usesNamespace = true;
    const lk1 = g.lockStatic();
    const lk2 = g.lockStatic();
    const c1 = `rank_a_${g.seed}`;
    const c2 = `rank_b_${g.seed}`;
    g.line(`(rtns as any).lock_class_rank("${c1}", 1);`);
    g.line(`(rtns as any).lock_class_rank("${c2}", 2);`);
    g.line(`lock(${lk1.name}.as_ref(), "${c1}");`);
    g.line(`lock(${lk2.name}.as_ref(), "${c2}");`);
    g.line(`unlock(${lk2.name}.as_ref());`);
    g.line(`unlock(${lk1.name}.as_ref());`);
    return true;
  }),

  // control flow and JavaScript around the API
  f("js.loop", 3, (g) => {
    const p = g.pickPtr((x) => x.l.k === "array" && x.l.elem!.k === "int" && g.okPtr(x, true) && x.l.elem!.bits! >= 8);
    if (!p) return false;
    const el = p.l.elem!;
    const i = g.fresh("i");
    const how = g.rng.pick(["index", "add"]);
    g.rtLayout(el);
    const at = how === "index" ? `${p.name}.index(${i})` : `${p.name}.cast(${el.expr}).add(${i})`;
    g.block(`for (let ${i} = 0; ${i} < ${p.l.len}; ${i}++)`, () => g.line(`${at}.write(${i});`));
    g.access(p.a!, p.tag, true);
    for (let k = 0; k < p.l.len!; k++) g.wrote(p.a!, p.off + k * el.size, el, String(k));
    if (g.rng.chance(0.6)) {
      const s = g.fresh("sum");
      g.line(`let ${s} = 0;`);
      g.block(`for (let ${i} = 0; ${i} < ${p.l.len}; ${i}++)`, () => g.line(`${s} += ${at}.read();`));
      g.rt("assert_eq");
      g.line(`assert_eq(${s}, ${(p.l.len! * (p.l.len! - 1)) / 2});`);
      g.access(p.a!, p.tag, false);
    }
    return true;
  }, true),

  f("js.builtin-callback", 2, (g) => {
    const p = g.unsafeCtx ? g.pickPtr((x) => x.l.k === "array" && x.l.elem!.k === "int" && g.okRead(x)) : undefined;
    const rng = g.rng;
    if (p) {
      const m = rng.pick(["map", "forEach", "filter", "reduce", "some"]);
      if (!g.use(`js.builtin.${m}`)) return false;
      const idx = `[${Array.from({ length: p.l.len! }, (_, k) => k).join(", ")}]`;
      const elt = `${p.name}.index(i).read()`;
      if (m === "reduce") g.line(`console.log(${idx}.reduce((acc, i) => acc + Number(${elt}), 0));`);
      else if (m === "forEach") g.line(`${idx}.forEach((i) => console.log(${elt}));`);
      else g.line(`console.log(${idx}.${m}((i) => ${m === "map" ? elt : `Number(${elt}) > 0`}));`);
      g.access(p.a!, p.tag, false);
      return true;
    }
    const at = atomicTarget(g, (l) => l.inner!.k === "int");
    if (!at) return false;
    if (!g.use("js.builtin.atomic")) return false;
    g.line(`[1, 2, 3].forEach((k) => ${at.ref}.fetch_add(k, "Relaxed"));`);
    return true;
  }),

  f("js.sort-callback", 1, (g) => {
    // a scheduling point inside a callback of a built-in that kmiri cannot suspend
    const at = atomicTarget(g);
    if (!at) return false;
    g.line(`console.log([3, 1, 2].sort((x, y) => { ${at.ref}.load("SeqCst"); return x - y; }));`);
    return true;
  }),

  f("js.try", 2, (g) => {
    g.line("try {");
    g.indent++;
    g.scoped(() => g.statements(g.rng.range(1, 3)));
    g.indent--;
    g.line(g.rng.chance(0.5) ? "} catch (e) {" : "} finally {");
    g.line(`  console.log("after try");`);
    g.line("}");
    return true;
  }),

  f("js.closure", 2, (g) => {
    const body = g.capture(() => g.scoped(() => g.statements(g.rng.range(1, 3))), 1);
    const name = g.fresh("fn");
    g.line(`const ${name} = () => {`);
    for (const l of body) g.line(l);
    g.line(`};`);
    g.line(`${name}();`);
    return true;
  }),

  f("js.class", 1, (g) => {
    const name = g.helper("class", () => {
      g.rt("alloc_zeroed", "dealloc", "u64");
      return [
        `class $NAME {`,
        `  private readonly p: Ptr<bigint>;`,
        `  constructor() {`,
        `    unsafe: {`,
        `      this.p = alloc_zeroed(u64);`,
        `    }`,
        `  }`,
        `  inc(): bigint {`,
        `    unsafe: {`,
        `      this.p.write(this.p.read() + 1n);`,
        `      return this.p.read();`,
        `    }`,
        `  }`,
        `  free(): void {`,
        `    unsafe: {`,
        `      dealloc(this.p, u64);`,
        `    }`,
        `  }`,
        `}`,
      ].join("\n");
    });
    const c = decl(g, "obj", `new ${name}()`);
    const n = g.rng.range(1, 3);
    for (let i = 0; i < n; i++) g.line(`${c}.inc();`);
    g.rt("assert_eq");
    g.line(`assert_eq(${c}.inc(), ${n + 1}n);`);
    g.line(`${c}.free();`);
    return true;
  }),

  f("js.math-random", 1, (g) => {
    g.line(`console.log(Math.random().toFixed(6));`);
    return true;
  }),

  f("console", 3, (g) => {
    const rng = g.rng;
    const what: string[] = [];
    const pool = [
      ...g.env.nums.map((n) => n.name),
      ...g.env.ptrs.slice(-3).map((p) => p.name),
      ...g.composites.slice(0, 2).map((l) => `size_of(${l.expr})`),
      `"text"`,
      "42",
      "12345678901234567890n",
      "{ nested: { deep: [1, 2, { x: 3 }] } }",
    ];
    if (g.composites.length) g.rt("size_of");
    for (let i = 0; i < rng.range(1, 3); i++) what.push(rng.pick(pool));
    const fn = rng.weighted<string>([["log", 6], ["error", 1], ["warn", 1], ["info", 1]]);
    if (!g.use(`console.${fn}`)) return false;
    g.line(`console.${fn}(${what.join(", ")});`);
    return true;
  }),

  f("console.objects", 1, (g) => {
    // printing the runtime's own objects: references, boxes, statics, handles, layouts
    const pool = [
      ...g.env.refs.slice(-2).map((r) => r.name),
      ...g.env.boxes.slice(-2).map((b) => b.name),
      ...g.statics.slice(0, 2).map((s) => s.name),
      ...g.env.handles.slice(-1).map((h) => h.name),
      ...g.composites.slice(0, 1).map((l) => l.expr),
      ...g.env.locals.slice(-1).map((l) => l.name),
    ];
    if (!pool.length) return false;
    g.line(`console.log(${g.rng.pick(pool)});`);
    return true;
  }),

  f("assert", 2, (g) => {
    const n = g.env.nums.find((x) => x.ts === "number");
    g.rt("assert", "assert_ne");
    if (n && g.rng.chance(0.5)) g.line(`assert_ne(typeof ${n.name}, "undefined", "never equal");`);
    else g.line(`assert(${g.rng.range(1, 9)} > 0${g.rng.chance(0.5) ? `, "positive"` : ""});`);
    return true;
  }),

  f("list", 1, (g) => linkedList(g), true),

  f("ptr-in-memory", 2, (g) => {
    const p = g.pickPtr((x) => g.okRead(x) && x.l.k === "int" && x.tag === null);
    if (!p) return false;
    g.rt("alloc", "dealloc", "ptr");
    g.rtLayout(p.l);
    const cellL = g.note(mkPtr(p.l));
    const slot = allocPtr(g, cellL, false);
    g.line(`${slot.name}.write(${p.name});`);
    g.wrote(slot.a!, 0, cellL);
    const back = decl(g, "p", `${slot.name}.read()`);
    if (g.rng.chance(0.5) && g.use("ptr-in-memory.bytes")) {
      // the pointer's bytes copied one by one keep their provenance fragments (Miri: they do)
      const tmp = allocPtr(g, cellL, false);
      g.rt("copy_nonoverlapping", "u8");
      g.line(`copy_nonoverlapping(${slot.name}.cast(u8), ${tmp.name}.cast(u8), 8);`);
      g.line(`console.log(${tmp.name}.read().addr() === ${p.name}.addr());`);
      tmp.a!.init.fill(1);
    }
    g.access(p.a!, null, false);
    useValue(g, `${back}.read()`, p.l, p.a!.vals.get(`${p.off}|${p.l.expr}`));
    g.env.ptrs.push({ ...p, name: back });
    return true;
  }, true),
];

/** Statements that need no unsafe context (the prelude, and programs without `unsafe:`). */
const SAFE_NAMES = new Set([
  "box", "box.ops", "local", "local.ops", "static.ops", "ref.use", "ref.fn-args", "fn.local-helper", "recursion",
  "atomic.op", "atomic.cas-loop", "fence", "thread.spawn", "thread.atomic-counter", "thread.lock", "thread.join",
  "thread.yield", "thread.nested", "lock.single", "lock.rank", "js.builtin-callback", "js.sort-callback", "js.closure",
  "js.class", "js.math-random", "console", "console.objects", "assert", "layout.query",
]);

const CORE: Feature[] = CORE_LIST;
const SAFE: Feature[] = CORE_LIST.filter((x) => SAFE_NAMES.has(x.name));

/** A reference expression to an atomic place (a static, a box, a heap allocation, a local). */
function atomicTarget(g: Gen, pred: (l: L) => boolean = () => true): { ref: string; l: L } | undefined {
  const rng = g.rng;
  const statics = g.statics.filter((s) => s.l.k === "atomic" && pred(s.l) && (!s.mut || g.unsafeCtx));
  const refs = g.env.refs.filter((r) => r.l.k === "atomic" && pred(r.l) && g.refOk(r) && g.readable(r.a, r.off, r.l));
  const boxes = g.env.boxes.filter((b) => b.l.k === "atomic" && pred(b.l) && b.a.live && g.readable(b.a, 0, b.l) && b.a.busy === null);
  const opts: (() => { ref: string; l: L })[] = [];
  // an atomic operation writes (a compare-exchange may): through a reference, through a box's
  // fresh shared reference (a retag from the box's tag, which pops its `&mut`s)
  for (const s of statics) opts.push(() => ({ ref: `${s.name}.as_ref()`, l: s.l }));
  for (const r of refs) {
    opts.push(() => {
      g.access(r.a, r.tag, true);
      return { ref: r.name, l: r.l };
    });
  }
  for (const b of boxes) {
    opts.push(() => {
      g.access(b.a, null, true);
      return { ref: `${b.name}.as_ref()`, l: b.l };
    });
  }
  if (!opts.length) {
    if (!g.enabled("static")) return undefined;
    // make one
    const l = rng.pick(ATOMICS.filter(pred));
    if (!l) return undefined;
    const name = g.fresh("AT");
    g.rt("static_", l.expr);
    const v = g.val(l.inner!);
    g.decls.push(`const ${name} = static_(${l.expr}, ${v});`);
    const a = g.newAlloc("static", l);
    a.scope = -1;
    a.sharedAtomic = true;
    g.wrote(a, 0, l, v);
    g.snapshotStatic(a);
    g.statics.push({ name, l, a, mut: false });
    return { ref: `${name}.as_ref()`, l };
  }
  return rng.pick(opts)();
}

// ───────────────────────────── features: threads ─────────────────────────────

/** A thread running generic statements on its own memory (and shared atomics), joined later. */
function spawnGeneric(g: Gen): boolean {
  if (g.inThread > 1) return false;
  g.rt("spawn");
  const h = g.fresh("h");
  const ret = g.rng.range(0, 99);
  const savedEnv = g.env;
  // the thread sees no pointers of its parent (they would race), only statics and its own memory
  g.env = emptyEnv();
  g.inThread++;
  const lines = g.capture(() => g.scoped(() => g.statements(g.rng.range(1, 5))), 1);
  g.inThread--;
  g.env = savedEnv;
  const named = g.rng.chance(0.3) && g.use("thread.name");
  g.line(`const ${h} = spawn(() => {`);
  for (const l of lines) g.line(l);
  g.line(`  return ${ret};`);
  g.line(`}${named ? `, { name: "worker${h}" }` : ""});`);
  g.env.handles.push({ name: h, busy: [], ret: String(ret), joined: false, panics: false, scope: g.scopeDepth });
  if (g.rng.chance(0.5)) g.join(g.env.handles[g.env.handles.length - 1]!);
  return true;
}

function atomicCounter(g: Gen): boolean {
  const rng = g.rng;
  const l = rng.pick(ATOMICS.filter((x) => x.inner!.k !== "bool"));
  g.rt("spawn", "static_", l.expr, "assert_eq");
  const name = g.fresh("CNT");
  const big = l.inner!.k === "big";
  g.decls.push(`const ${name} = static_(${l.expr}, ${big ? "0n" : "0"});`);
  const n = rng.range(2, 3);
  const k = rng.range(1, 3);
  const hs: string[] = [];
  for (let i = 0; i < n; i++) {
    const h = g.fresh("h");
    hs.push(h);
    const order = `"${rng.pick(ORDERINGS)}"`;
    g.line(`const ${h} = spawn(() => {`);
    g.line(`  for (let i = 0; i < ${k}; i++) ${name}.as_ref().fetch_add(${big ? "1n" : "1"}, ${order});`);
    g.line(`});`);
  }
  for (const h of hs) g.line(`${h}.join();`);
  g.line(`assert_eq(${name}.as_ref().load("SeqCst"), ${n * k}${big ? "n" : ""});`);
  return true;
}

/** Threads writing disjoint elements of one array; the parent waits for all, then reads. */
function disjointWriters(g: Gen): boolean {
  const p = g.pickPtr((x) => x.l.k === "array" && x.l.elem!.k === "int" && x.l.elem!.bits! >= 8 && g.okPtr(x, true) && x.tag === null && x.l.len! >= 2);
  if (!p) return false;
  g.rt("spawn");
  const el = p.l.elem!;
  const n = Math.min(p.l.len!, g.rng.range(2, 3));
  const hs: HVar[] = [];
  for (let i = 0; i < n; i++) {
    const h = g.fresh("h");
    const q = g.rng.chance(0.5) ? `${p.name}.index(${i})` : `${p.name}.cast(${el.expr}).add(${i})`;
    g.rtLayout(el);
    g.line(`const ${h} = spawn(() => ${q}.write(${i + 1}));`);
    const hv: HVar = { name: h, busy: [p.a!], ret: null, joined: false, panics: false, scope: g.scopeDepth };
    hs.push(hv);
    g.env.handles.push(hv);
  }
  p.a!.busy = hs[0]!.name;
  g.access(p.a!, p.tag, true);
  for (let i = 0; i < n; i++) g.wrote(p.a!, p.off + i * el.size, el, String(i + 1));
  if (g.rng.chance(0.7)) for (const h of hs) g.join(h);
  return true;
}

/** Release/acquire message passing through a flag (or fences). */
function messagePassing(g: Gen, buggy: boolean): boolean {
  const rng = g.rng;
  g.rt("spawn", "alloc", "dealloc", "u64", "AtomicBool", "spin_loop", "static_", "assert_eq");
  const flag = g.fresh("FLAG");
  g.decls.push(`const ${flag} = static_(AtomicBool, false);`);
  const data = decl(g, "p", `alloc(u64)`);
  const viaFence = rng.chance(0.3) && g.use("thread.message.fence");
  if (viaFence) g.rt("fence");
  const rel = buggy ? "Relaxed" : "Release";
  const acq = buggy ? "Relaxed" : "Acquire";
  // the consumer waits with spin_loop (or, as some kernels do, by yielding: under PCT a yield
  // does not let a lower-priority thread run, feature `opt.pct.yield-wait`)
  let wait = rng.chance(0.3) && g.use("thread.message.yield") ? "yield_now" : "spin_loop";
  if (wait === "yield_now" && g.runOptions.pct !== undefined && !g.use("opt.pct.yield-wait")) wait = "spin_loop";
  if (wait === "yield_now") g.rt("yield_now");
  const consumerFirst = rng.chance(0.5) && g.nativeUnboundedOk(wait === "spin_loop" ? "spin" : "yield");
  const producer = [
    `const prod${data} = spawn(() => {`,
    `  ${data}.write(42n);`,
    viaFence ? `  fence("${buggy ? "SeqCst" : "Release"}");` : "",
    `  ${flag}.as_ref().store(true, "${viaFence ? "Relaxed" : rel}");`,
    `});`,
  ].filter((x) => x);
  const consumer = [
    `const cons${data} = spawn(() => {`,
    `  while (!${flag}.as_ref().load("${viaFence ? "Relaxed" : acq}")) ${wait}();`,
    viaFence ? `  fence("${buggy ? "Release" : "Acquire"}");` : "",
    `  return ${data}.read();`,
    `});`,
  ].filter((x) => x);
  for (const l of consumerFirst ? [...consumer, ...producer] : [...producer, ...consumer]) g.line(l);
  g.line(`prod${data}.join();`);
  g.line(`assert_eq(cons${data}.join(), 42n);`);
  g.line(`dealloc(${data}, u64);`);
  return true;
}

function lockedCounter(g: Gen): boolean {
  const rng = g.rng;
  const lk = g.lockStatic();
  g.rt("spawn", "assert_eq");
  const n = rng.range(2, 3);
  const hs: string[] = [];
  const cls = lk.cls ? `, ${lk.cls}` : "";
  for (let i = 0; i < n; i++) {
    const h = g.fresh("h");
    hs.push(h);
    g.line(`const ${h} = spawn(() => {`);
    g.line(`  lock(${lk.name}.as_ref()${cls});`);
    g.line(`  bump(${lk.name}.as_ref(), 1n);`);
    if (rng.chance(0.3)) g.line(`  yield_now();`), g.rt("yield_now");
    g.line(`  unlock(${lk.name}.as_ref());`);
    g.line(`});`);
  }
  for (const h of hs) g.line(`${h}.join();`);
  g.line(`lock(${lk.name}.as_ref()${cls});`);
  g.line(`const n${lk.name} = bump(${lk.name}.as_ref(), 0n);`);
  g.line(`unlock(${lk.name}.as_ref());`);
  g.line(`assert_eq(n${lk.name} >= ${n}n, true);`);
  return true;
}

function atomicPtrPublish(g: Gen): boolean {
  g.rt("spawn", "Box", "AtomicPtr", "u32", "null_mut", "static_", "spin_loop", "dealloc", "assert_eq");
  const slot = g.fresh("SLOT");
  g.decls.push(`const ${slot} = static_(AtomicPtr(u32), null_mut(u32));`);
  const h = g.fresh("h");
  const v = g.rng.range(0, 1000);
  g.line(`const ${h} = spawn(() => {`);
  g.line(`  const b = Box.into_raw(Box.new(u32, ${v}));`);
  g.line(`  ${slot}.as_ref().store(b, "Release");`);
  g.line(`});`);
  g.line(`let got${h} = ${slot}.as_ref().load("Acquire");`);
  g.line(`while (got${h}.is_null()) {`);
  g.line(`  spin_loop();`);
  g.line(`  got${h} = ${slot}.as_ref().load("Acquire");`);
  g.line(`}`);
  g.line(`assert_eq(got${h}.read(), ${v});`);
  g.line(`${h}.join();`);
  g.line(`dealloc(got${h}, u32);`);
  return true;
}

function linkedList(g: Gen): boolean {
  if (!g.helpers.some((h) => h.includes("interface NodeV"))) {
    g.rt("struct", "ptr", "u32", "Box", "null_mut");
    g.decls.push(
      [
        `interface NodeV {`,
        `  next: Ptr<NodeV>;`,
        `  v: number;`,
        `}`,
        `const Node: Layout<NodeV> = struct("Node", { next: ptr((): Layout<NodeV> => Node), v: u32 });`,
      ].join("\n"),
    );
    g.helpers.push(
      [
        `// interface NodeV: push, sum and free a singly linked list of boxes`,
        `function push(head: Ptr<NodeV>, v: number): Ptr<NodeV> {`,
        `  return Box.into_raw(Box.new(Node, { next: head, v }));`,
        `}`,
        ``,
        `function sum(head: Ptr<NodeV>): number {`,
        `  let s = 0;`,
        `  unsafe: {`,
        `    for (let n = head; !n.is_null(); n = n.field("next").read()) s += n.field("v").read();`,
        `  }`,
        `  return s;`,
        `}`,
        ``,
        `function freeList(head: Ptr<NodeV>): void {`,
        `  unsafe: {`,
        `    while (!head.is_null()) {`,
        `      const next = head.field("next").read();`,
        `      Box.from_raw(head).drop();`,
        `      head = next;`,
        `    }`,
        `  }`,
        `}`,
      ].join("\n"),
    );
  }
  const n = g.rng.range(0, 5);
  const head = g.fresh("list");
  g.line(`let ${head} = null_mut(Node);`);
  let s = 0;
  for (let i = 0; i < n; i++) {
    g.line(`${head} = push(${head}, ${i * 3});`);
    s += i * 3;
  }
  g.rt("assert_eq");
  g.line(`assert_eq(sum(${head}), ${s});`);
  g.line(`freeList(${head});`);
  return true;
}

// ───────────────────────────── bugs (intent `ub`) ─────────────────────────────

const BUG_LIST: Feature[] = [
  f("bug.uaf", 3, (g) => {
    const p = g.pickPtr((x) => g.okRead(x) && x.a!.kind === "heap" && x.a!.free !== null && g.visible(x.a!));
    if (p) {
      g.line(`${p.a!.free};`);
      p.a!.live = false;
      g.line(`console.log(${p.name}.read());`);
      return true;
    }
    const b = g.env.boxes.find((x) => x.a.live && x.l.size > 0);
    if (!b) return false;
    g.line(`${b.name}.drop();`);
    b.a.live = false;
    g.line(`console.log(${b.name}.read());`);
    return true;
  }, true),
  f("bug.double-free", 2, (g) => {
    const a = g.allocs.find((x) => x.live && x.free !== null && x.busy === null && g.visible(x));
    if (!a) return false;
    g.line(`${a.free};`);
    g.line(`${a.free};`);
    a.live = false;
    return true;
  }, true),
  f("bug.oob", 3, (g) => {
    const p = g.pickPtr((x) => x.a !== null && x.a.live && x.l.size > 0 && x.tag === null);
    if (!p) return false;
    const k = Math.ceil((p.a!.size - p.off) / p.l.size) + g.rng.range(0, 2);
    const how = g.rng.pick(["read", "write", "add", "offset-neg", "wrapping", "field-cast"]);
    if (!g.use(`bug.oob.${how}`)) return false;
    if (how === "read") g.line(`console.log(${p.name}.wrapping_add(${k}).read());`);
    else if (how === "write") g.line(`${p.name}.wrapping_add(${k}).write(${g.val(p.l)});`);
    else if (how === "add") g.line(`const oob${p.name} = ${p.name}.add(${k + 1});`);
    else if (how === "offset-neg") g.line(`const oob${p.name} = ${p.name}.offset(${-(p.off / p.l.size + 1)});`);
    else if (how === "wrapping") g.line(`console.log(${p.name}.wrapping_sub(${p.off / p.l.size + 1}).read());`);
    else {
      const big = g.rng.pick(g.composites.filter((c) => c.size > p.a!.size - p.off && c.k === "struct"));
      if (!big) return false;
      g.line(`console.log(${p.name}.cast(${big.expr}).field("${big.fields![big.fields!.length - 1]!.name}").read());`);
    }
    return true;
  }, true),
  f("bug.null", 1, (g) => {
    const l = g.rng.pick(SCALARS);
    g.rt("null_mut", l.expr);
    const how = g.rng.pick(["read", "write", "as_ref"]);
    if (how === "read") g.line(`console.log(null_mut(${l.expr}).read());`);
    else if (how === "write") g.line(`null_mut(${l.expr}).write(${g.val(l)});`);
    else g.line(`console.log(null_mut(${l.expr}).as_ref().read());`);
    return true;
  }, true),
  f("bug.no-provenance", 2, (g) => {
    const p = g.pickPtr((x) => g.okPtr(x, false));
    if (!p) return false;
    const how = g.rng.pick(["without", "int-copy", "with_addr", "unexposed"]);
    if (!g.use(`bug.no-provenance.${how}`)) return false;
    g.rtLayout(p.l);
    if (how === "without") {
      g.rt("without_provenance");
      g.line(`console.log(without_provenance(${p.name}.addr(), ${p.l.expr}).read());`);
    } else if (how === "unexposed") {
      g.rt("ptr_from_exposed");
      g.line(`console.log(ptr_from_exposed(${p.name}.addr(), ${p.l.expr}).read());`);
    } else if (how === "with_addr") {
      g.rt("null_mut");
      g.line(`console.log(null_mut(${p.l.expr}).with_addr(${p.name}.addr()).read());`);
    } else {
      g.rt("alloc", "dealloc", "ptr", "usize");
      g.line(`const pp${p.name} = alloc(ptr(${p.l.expr}));`);
      g.line(`pp${p.name}.write(${p.name});`);
      g.line(`pp${p.name}.cast(usize).write(pp${p.name}.cast(usize).read());`);
      g.line(`console.log(pp${p.name}.read().read());`);
    }
    return true;
  }, true),
  f("bug.misaligned", 2, (g) => {
    const p = g.pickPtr((x) => g.okPtr(x, true) && x.a!.size - x.off >= 5);
    if (!p) return false;
    g.rt("u32");
    const how = g.rng.pick(["read", "write", "ref", "atomic"]);
    if (!g.use(`bug.misaligned.${how}`)) return false;
    const q = `${p.name}.cast(u8).byte_add(1).cast(u32)`;
    g.rt("u8");
    if (how === "read") g.line(`console.log(${q}.read());`);
    else if (how === "write") g.line(`${q}.write(7);`);
    else if (how === "ref") g.line(`console.log(${q}.as_ref().read());`);
    else {
      g.rt("AtomicU32");
      g.line(`console.log(${p.name}.cast(u8).byte_add(1).cast(AtomicU32).as_ref().load("SeqCst"));`);
    }
    return true;
  }, true),
  f("bug.uninit", 2, (g) => {
    const l = g.pickLayout();
    if (l.size === 0) return false;
    g.rt("alloc", "dealloc");
    const p = allocPtr(g, l, false);
    g.line(`console.log(${p.name}.read());`);
    return true;
  }, true),
  f("bug.uninit-padding", 1, (g) => {
    const s = g.rng.pick(g.composites.filter((c) => c.k === "struct" && dataMask(c).some((x) => !x)));
    if (!s) return false;
    g.rt("alloc", "u8", "array");
    const p = allocPtr(g, s, false);
    g.line(`${p.name}.write(${g.val(s)});`);
    g.line(`console.log(${p.name}.cast(array(u8, ${s.size})).read());`);
    return true;
  }, true),
  f("bug.invalid-value", 2, (g) => {
    const l = g.rng.pick([BOOL, CHAR, ...g.enums]);
    g.rt("alloc_zeroed", "u32", "dealloc");
    g.rtLayout(l);
    const p = decl(g, "p", `alloc_zeroed(u32)`);
    g.line(`${p}.write(${g.rng.pick([2, 0xd800, 0x110000, 255, 7])});`);
    g.line(`console.log(${p}.cast(${l.expr}).read());`);
    return true;
  }, true),
  f("bug.invalid-transmute", 1, (g) => {
    g.rt("transmute", "u8", "bool", "u32", "char");
    g.line(g.rng.chance(0.5) ? `console.log(transmute(3, u8, bool));` : `console.log(transmute(0xdfff, u32, char));`);
    return true;
  }, true),
  f("bug.bad-dealloc", 2, (g) => {
    const how = g.rng.pick(["layout", "interior", "local", "static", "zero", "box-dealloc"]);
    if (!g.use(`bug.bad-dealloc.${how}`)) return false;
    g.rt("dealloc");
    switch (how) {
      case "layout": {
        const a = g.allocs.find((x) => x.live && x.kind === "heap" && x.busy === null);
        if (!a) return false;
        const p = g.env.ptrs.find((x) => x.a === a && x.off === 0);
        if (!p) return false;
        g.rt("u8", "array");
        g.line(`dealloc(${p.name}.cast(array(u8, ${a.size + 1})), array(u8, ${a.size + 1}));`);
        return true;
      }
      case "interior": {
        const p = g.pickPtr((x) => x.off > 0 && x.a?.live === true && x.a.kind === "heap");
        if (!p) return false;
        g.rtLayout(p.l);
        g.line(`dealloc(${p.name}, ${p.l.expr});`);
        return true;
      }
      case "local": {
        g.rt("local", "u32");
        g.line(`const dl = local(u32, 1);`);
        g.line(`dealloc(dl.as_ptr(), u32);`);
        return true;
      }
      case "static": {
        const s = g.statics[0];
        if (!s) return false;
        if (s.mut || true) {
          g.rtLayout(s.l);
          g.line(`dealloc(${s.name}.as_ptr(), ${s.l.expr});`);
        }
        return true;
      }
      case "zero": {
        g.rt("alloc", "unit", "array", "u32");
        g.line(g.rng.chance(0.5) ? `alloc(unit);` : `alloc(array(u32, 0));`);
        return true;
      }
      default: {
        const b = g.env.boxes.find((x) => x.a.live && x.l.size > 0);
        if (!b) return false;
        g.rtLayout(b.l);
        g.line(`dealloc(Box.into_raw(${b.name}), ${b.l.expr});`);
        g.line(`${b.name}.drop();`);
        return true;
      }
    }
  }, true),
  f("bug.read-only", 1, (g) => {
    const s = g.statics.find((x) => !x.mut && !hasCell(x.l) && x.l.size > 0);
    if (!s) {
      g.rt("static_", "u32");
      g.line(`const ro = static_(u32, 5);`);
      g.line(g.rng.chance(0.5) ? `ro.as_ptr().write(6);` : `write_bytes(ro.as_ptr(), 0, 1);`);
      g.rt("write_bytes");
      return true;
    }
    g.rt("write_bytes");
    g.line(g.rng.chance(0.5) ? `${s.name}.as_ptr().write(${g.val(s.l)});` : g.rng.chance(0.5) ? `write_bytes(${s.name}.as_ptr(), 0, 1);` : `(${s.name} as any).as_mut();`);
    return true;
  }, true),
  f("bug.overlap", 1, (g) => {
    const p = g.pickPtr((x) => x.l.k === "array" && x.l.len! >= 3 && g.okRead(x));
    if (!p) return false;
    g.rt("copy_nonoverlapping");
    g.rtLayout(p.l.elem!);
    g.line(`copy_nonoverlapping(${p.name}.cast(${p.l.elem!.expr}), ${p.name}.cast(${p.l.elem!.expr}).add(1), 2);`);
    return true;
  }, true),
  f("bug.stacked-borrows", 3, (g) => {
    const p = g.pickPtr((x) => g.okRead(x) && g.okPtr(x, true) && x.l.k !== "atomic" && x.tag === null && !hasCell(x.l));
    if (!p) return false;
    const how = g.rng.pick(["stale-mut", "stale-shared", "write-shared", "fn-alias", "raw-of-ref"]);
    if (!g.use(`bug.stacked-borrows.${how}`)) return false;
    const v = g.val(p.l);
    if (how === "stale-mut") {
      g.line(`const sb${p.name} = ${p.name}.as_mut();`);
      g.line(`${p.name}.write(${v});`);
      g.line(`sb${p.name}.write(${v});`);
    } else if (how === "stale-shared") {
      g.line(`const sb${p.name} = ${p.name}.as_ref();`);
      g.line(`${p.name}.write(${v});`);
      g.line(`console.log(sb${p.name}.read());`);
    } else if (how === "write-shared") {
      g.line(`${p.name}.as_ref().as_ptr().write(${v});`);
    } else if (how === "raw-of-ref") {
      g.line(`const m${p.name} = ${p.name}.as_mut();`);
      g.line(`const raw${p.name} = m${p.name}.as_mut_ptr();`);
      g.line(`m${p.name}.write(${v});`);
      g.line(`raw${p.name}.write(${v});`);
    } else {
      if (p.l.k !== "int") return false;
      const name = g.helper("sb-alias", () =>
        [`function $NAME(a: RefMut<number>, b: RefMut<number>): void {`, `  a.write(1);`, `  b.write(2);`, `  a.write(3);`, `}`].join("\n"),
      );
      g.line(`const ra${p.name} = ${p.name}.as_mut();`);
      g.line(`${name}(ra${p.name}, ${p.name}.as_mut());`);
    }
    return true;
  }, true),
  f("bug.leak", 2, (g) => {
    const how = g.rng.pick(["box", "alloc", "forget-list", "thread"]);
    if (!g.use(`bug.leak.${how}`)) return false;
    if (how === "box") {
      g.rt("Box", "u32");
      g.line(`const leaked = Box.new(u32, 1);`);
    } else if (how === "alloc") {
      g.rt("alloc", "u64");
      g.line(`alloc(u64).write(3n);`);
    } else if (how === "thread") {
      g.rt("spawn", "yield_now");
      g.line(`spawn(() => { for (let i = 0; i < 3; i++) yield_now(); });`);
    } else {
      g.rt("Box", "u32");
      g.line(`Box.leak(Box.new(u32, 9)).write(10);`);
    }
    return true;
  }),
  f("bug.unsafe-outside", 2, (g) => {
    const how = g.rng.pick(["helper-read", "helper-alloc", "unsafe-fn", "static-mut"]);
    if (!g.use(`bug.unsafe-outside.${how}`)) return false;
    if (how === "helper-read") {
      const p = g.pickPtr((x) => g.okRead(x));
      if (!p) return false;
      const name = g.helper("safe-deref", () => `function $NAME<T>(p: Ptr<T>): T {\n  return p.read();\n}`);
      g.line(`console.log(${name}(${p.name}));`);
    } else if (how === "helper-alloc") {
      g.rt("alloc", "u32");
      const name = g.helper("safe-alloc", () => `function $NAME(): Ptr<number> {\n  return alloc(u32);\n}`);
      g.line(`console.log(${name}());`);
    } else if (how === "unsafe-fn") {
      const inner = g.helper("unsafe-fn", () => `function $NAME(): number {\n  "unsafe";\n  return 1;\n}`);
      const outer = g.helper("calls-unsafe-fn", () => `function $NAME(): number {\n  return ${inner}();\n}`);
      g.line(`console.log(${outer}());`);
    } else {
      const s = g.statics.find((x) => x.mut);
      if (!s) return false;
      const name = g.helper(`touch-${s.name}`, () => `function $NAME(): void {\n  console.log(${s.name}.as_ref().read());\n}`);
      g.line(`${name}();`);
    }
    return true;
  }),
  f("bug.dead-local", 1, (g) => {
    g.rt("local", "u32");
    const name = g.helper("escape-local", () =>
      [`function $NAME(): Ptr<number> {`, `  const x = local(u32, 7);`, `  return x.as_ptr();`, `}`].join("\n"),
    );
    g.line(`console.log(${name}().read());`);
    return true;
  }, true),
  f("bug.deadlock", 2, (g) => {
    const how = g.rng.pick(["join-self", "spin", "relock", "abba", "lost-wakeup"]);
    if ((how === "spin" || how === "lost-wakeup") && !g.nativeUnboundedOk("stopped")) return false;
    if (!g.use(`bug.deadlock.${how}`)) return false;
    g.rt("spawn", "spin_loop", "static_", "AtomicBool");
    if (how === "join-self") {
      g.line(`let me: { join(): unknown } | undefined;`);
      g.line(`me = spawn(() => { me!.join(); });`);
      g.line(`me.join();`);
    } else if (how === "spin") {
      const flag = g.fresh("NEVER");
      g.decls.push(`const ${flag} = static_(AtomicBool, false);`);
      g.line(`while (!${flag}.as_ref().load("Acquire")) spin_loop();`);
    } else if (how === "relock") {
      const lk = g.lockStatic();
      g.line(`lock(${lk.name}.as_ref());`);
      g.line(`lock_acquired(${lk.name}.as_ref());`);
      // never taken again (natively, where a test also runs, a second `lock` would spin forever)
      g.locks = g.locks.filter((x) => x !== lk);
    } else if (how === "abba") {
      const a = g.lockStatic();
      const b = g.lockStatic();
      g.line(`const t1 = spawn(() => { lock(${a.name}.as_ref()); yield_now(); lock(${b.name}.as_ref()); unlock(${b.name}.as_ref()); unlock(${a.name}.as_ref()); });`);
      g.line(`const t2 = spawn(() => { lock(${b.name}.as_ref()); yield_now(); lock(${a.name}.as_ref()); unlock(${a.name}.as_ref()); unlock(${b.name}.as_ref()); });`);
      g.line(`t1.join();`);
      g.line(`t2.join();`);
      g.rt("yield_now");
    } else {
      const flag = g.fresh("READY");
      g.decls.push(`const ${flag} = static_(AtomicBool, false);`);
      g.line(`const waiter = spawn(() => { while (!${flag}.as_ref().load("Acquire")) spin_loop(); });`);
      g.line(`waiter.join();`);
      g.line(`${flag}.as_ref().store(true, "Release");`);
    }
    return true;
  }),
  f("bug.race", 3, (g) => {
    const how = g.rng.pick(["plain", "relaxed-message", "static-mut", "dealloc", "mixed-atomic"]);
    if (!g.use(`bug.race.${how}`)) return false;
    g.rt("spawn", "alloc_zeroed", "dealloc", "u32");
    if (how === "relaxed-message") return messagePassing(g, true);
    if (how === "static-mut") {
      const name = g.fresh("CNTR");
      g.rt("static_");
      g.decls.push(`const ${name} = static_(u32, 0, { mut: true });`);
      g.line(`const ra = spawn(() => { ${name}.as_ptr().write(${name}.as_ptr().read() + 1); });`);
      g.line(`${name}.as_ptr().write(${name}.as_ptr().read() + 1);`);
      g.line(`ra.join();`);
      return true;
    }
    g.line(`const rp = alloc_zeroed(u32);`);
    if (how === "plain") g.line(`const ra = spawn(() => rp.write(1));`), g.line(`rp.write(2);`);
    else if (how === "dealloc") g.line(`const ra = spawn(() => rp.read());`), g.line(`dealloc(rp, u32);`);
    else {
      g.rt("AtomicU32", "AtomicU16");
      g.line(`const ra = spawn(() => rp.cast(AtomicU32).as_ref().store(1, "SeqCst"));`);
      g.line(`console.log(rp.cast(AtomicU16).as_ref().load("SeqCst"));`);
    }
    g.line(`ra.join();`);
    if (how !== "dealloc") g.line(`dealloc(rp, u32);`);
    return true;
  }, true),
  f("bug.lock-order", 2, (g) => {
    const a = g.lockStatic();
    const b = g.lockStatic();
    const how = g.rng.pick(["inversion", "same-class", "unbalanced"]);
    if (!g.use(`bug.lock-order.${how}`)) return false;
    if (how === "inversion") {
      g.line(`lock(${a.name}.as_ref()); lock(${b.name}.as_ref()); unlock(${b.name}.as_ref()); unlock(${a.name}.as_ref());`);
      g.line(`lock(${b.name}.as_ref()); lock(${a.name}.as_ref()); unlock(${a.name}.as_ref()); unlock(${b.name}.as_ref());`);
    } else if (how === "same-class") {
      g.line(`lock(${a.name}.as_ref(), "same"); lock(${b.name}.as_ref(), "same"); unlock(${b.name}.as_ref()); unlock(${a.name}.as_ref());`);
    } else {
      g.line(`unlock(${a.name}.as_ref());`);
    }
    return true;
  }),
  f("bug.panic", 3, (g) => {
    const how = g.rng.pick(["panic", "assert", "assert_eq", "assert_ne", "unreachable", "throw", "throw-value", "thread", "index", "join-panicked"]);
    if (!g.use(`bug.panic.${how}`)) return false;
    switch (how) {
      case "panic":
        g.rt("panic");
        g.line(`if (${ALWAYS}) ${g.rng.chance(0.5) ? `panic("boom");` : `panic();`}`);
        return true;
      case "assert":
        g.rt("assert");
        g.line(`assert(1 > 2${g.rng.chance(0.5) ? `, "boom"` : ""});`);
        return true;
      case "assert_eq":
        g.rt("assert_eq");
        g.line(`assert_eq({ a: 1, b: [1n, 2n] }, { a: 1, b: [1n, 3n] }${g.rng.chance(0.5) ? `, "boom"` : ""});`);
        return true;
      case "assert_ne":
        g.rt("assert_ne");
        g.line(`assert_ne("x", "x");`);
        return true;
      case "unreachable":
        g.rt("unreachable");
        g.line(`if (${ALWAYS}) unreachable(${g.rng.chance(0.5) ? `"boom"` : ""});`);
        return true;
      case "throw":
        g.line(`if (${ALWAYS}) throw new ${g.rng.pick(["Error", "TypeError", "RangeError"])}("boom");`);
        return true;
      case "throw-value":
        g.line(`if (${ALWAYS}) throw ${g.rng.pick(['"boom"', "42", "{ boom: true }", "null", "undefined", "Symbol(\"boom\")", "new Proxy({}, {})"])};`);
        return true;
      case "thread": {
        g.rt("spawn", "panic");
        const h = g.fresh("h");
        g.line(`const ${h} = spawn(() => { panic("boom"); });`);
        g.env.handles.push({ name: h, busy: [], ret: null, joined: g.rng.chance(0.5), panics: true, scope: g.scopeDepth });
        return true;
      }
      case "join-panicked": {
        g.rt("spawn", "panic");
        g.line(`const jp = spawn(() => { panic("boom"); });`);
        g.line(`try {`);
        g.line(`  jp.join();`);
        g.line(`} catch (e) {`);
        g.line(`  console.log("caught", String(e));`);
        g.line(`}`);
        return true;
      }
      default: {
        const p = g.pickPtr((x) => x.l.k === "array" && g.okPtr(x, false));
        if (!p) return false;
        g.line(`console.log(${p.name}.index(${p.l.len! + g.rng.range(0, 3)}));`);
        return true;
      }
    }
  }),
  f("bug.resource", 1, (g) => {
    const how = g.rng.pick(["loop", "recursion", "memory", "threads", "spin-yield"]);
    if ((how === "loop" || how === "spin-yield" || how === "memory") && !g.nativeUnboundedOk("stopped")) return false;
    if (!g.use(`bug.resource.${how}`)) return false;
    if (how === "loop") g.line(`for (let i = 0; ; i++) if (i < 0) break;`);
    else if (how === "recursion") {
      const name = g.helper("deep", () => `function $NAME(n: number): number {\n  return $NAME(n + 1) + 1;\n}`);
      g.line(`console.log(${name}(0));`);
    } else if (how === "memory") {
      g.rt("alloc", "array", "u8", "dealloc");
      g.line(`const huge = alloc(array(u8, ${g.rng.pick([1 << 25, 2 ** 31, 2 ** 31 - 1, 1 << 30])}));`);
      g.line(`dealloc(huge, array(u8, 1));`);
    } else if (how === "threads") {
      g.rt("spawn");
      g.line(`const many = [];`);
      g.line(`for (let i = 0; i < 40; i++) many.push(spawn(() => i));`);
      g.line(`for (const t of many) t.join();`);
    } else {
      g.rt("yield_now");
      g.line(`while (${ALWAYS}) yield_now();`);
    }
    return true;
  }, true),
];

const BUGS: Feature[] = BUG_LIST;

// ───────────────────────────── misuse (intent `misuse`) ─────────────────────────────

/** The kinds of wrong values (`misuse.arg.<api>.<argument>.<kind>`). */
export const BAD_VALUE_KINDS: readonly string[] = BAD_VALUES.map(([k]) => k);

/** API calls with one argument replaced by a value of the wrong type. `$P` a live pointer, `$L` its layout. */
const MISUSE_CALLS: [string, string, string[]][] = [
  // name, template, the argument slots that may be replaced
  ["alloc", "alloc($A0)", ["$L"]],
  ["alloc_zeroed", "alloc_zeroed($A0)", ["$L"]],
  ["dealloc", "dealloc($A0, $A1)", ["$P", "$L"]],
  ["realloc", "realloc($A0, $A1, $A2)", ["$P", "$L", "16"]],
  ["Box.new", "Box.new($A0, $A1)", ["$L", "$V"]],
  ["Box.into_raw", "Box.into_raw($A0)", ["$B"]],
  ["Box.from_raw", "Box.from_raw($A0)", ["$P"]],
  ["Box.leak", "Box.leak($A0)", ["$B"]],
  ["local", "local($A0, $A1)", ["$L", "$V"]],
  ["static_", "static_($A0, $A1, $A2)", ["$L", "$V", "{ mut: true }"]],
  ["null_mut", "null_mut($A0)", ["$L"]],
  ["ptr_from_exposed", "ptr_from_exposed($A0, $A1)", ["$P.expose_provenance()", "$L"]],
  ["without_provenance", "without_provenance($A0, $A1)", ["8", "$L"]],
  ["copy", "copy($A0, $A1, $A2)", ["$P", "$P", "1"]],
  ["copy_nonoverlapping", "copy_nonoverlapping($A0, $A1, $A2)", ["$P", "$Q", "1"]],
  ["write_bytes", "write_bytes($A0, $A1, $A2)", ["$P", "0", "1"]],
  ["transmute", "transmute($A0, $A1, $A2)", ["1", "u32", "f32"]],
  ["size_of", "size_of($A0)", ["$L"]],
  ["align_of", "align_of($A0)", ["$L"]],
  ["offset_of", "offset_of($A0, $A1)", ["$S", '"$F"']],
  ["array", "array($A0, $A1)", ["u32", "3"]],
  ["struct", "struct($A0, $A1, $A2)", ['"Bad"', "{ a: u32 }", '{ repr: "C" }']],
  ["enum_", "enum_($A0, $A1, $A2)", ['"BadE"', "u8", "{ A: 0, B: 1 }"]],
  ["cell", "cell($A0)", ["u32"]],
  ["maybe_uninit", "maybe_uninit($A0)", ["u32"]],
  ["ptr", "ptr($A0)", ["u32"]],
  ["AtomicPtr", "AtomicPtr($A0)", ["u32"]],
  ["Ptr.add", "$A0.add($A1)", ["$P", "0"]],
  ["Ptr.sub", "$A0.sub($A1)", ["$P", "0"]],
  ["Ptr.offset", "$A0.offset($A1)", ["$P", "0"]],
  ["Ptr.byte_add", "$A0.byte_add($A1)", ["$P", "0"]],
  ["Ptr.byte_sub", "$A0.byte_sub($A1)", ["$P", "0"]],
  ["Ptr.wrapping_add", "$A0.wrapping_add($A1)", ["$P", "1"]],
  ["Ptr.wrapping_sub", "$A0.wrapping_sub($A1)", ["$P", "1"]],
  ["Ptr.offset_from", "$A0.offset_from($A1)", ["$P", "$P"]],
  ["Ptr.cast", "$A0.cast($A1)", ["$P", "u8"]],
  ["Ptr.field", "$A0.field($A1)", ["$SP", '"$F"']],
  ["Ptr.index", "$A0.index($A1)", ["$AP", "0"]],
  ["Ptr.with_addr", "$A0.with_addr($A1)", ["$P", "$P.addr()"]],
  ["Ptr.write", "$A0.write($A1)", ["$P", "$V"]],
  ["Ptr.write_unaligned", "$A0.write_unaligned($A1)", ["$P", "$V"]],
  ["Ptr.write_volatile", "$A0.write_volatile($A1)", ["$P", "$V"]],
  ["Ptr.replace", "$A0.replace($A1)", ["$P", "$V"]],
  ["Ref.field", "$A0.as_ref().field($A1)", ["$SP", '"$F"']],
  ["Ref.index", "$A0.as_ref().index($A1)", ["$AP", "0"]],
  ["RefMut.write", "$A0.as_mut().write($A1)", ["$P", "$V"]],
  ["RefMut.field_mut", "$A0.as_mut().field_mut($A1)", ["$SP", '"$F"']],
  ["RefMut.index_mut", "$A0.as_mut().index_mut($A1)", ["$AP", "0"]],
  ["Atomic.load", "$A0.load($A1)", ["$AR", '"SeqCst"']],
  ["Atomic.store", "$A0.store($A1, $A2)", ["$AR", "$AV", '"SeqCst"']],
  ["Atomic.swap", "$A0.swap($A1, $A2)", ["$AR", "$AV", '"SeqCst"']],
  ["Atomic.compare_exchange", "$A0.compare_exchange($A1, $A2, $A3, $A4)", ["$AR", "$AV", "$AV", '"SeqCst"', '"Relaxed"']],
  ["Atomic.compare_exchange_weak", "$A0.compare_exchange_weak($A1, $A2, $A3, $A4)", ["$AR", "$AV", "$AV", '"AcqRel"', '"Acquire"']],
  ["Atomic.fetch_add", "$A0.fetch_add($A1, $A2)", ["$AR", "$AV", '"SeqCst"']],
  ["Atomic.fetch_xor", "$A0.fetch_xor($A1, $A2)", ["$AR", "$AV", '"Relaxed"']],
  ["spawn", "spawn($A0, $A1).join()", ["() => 1", '{ name: "w" }']],
  ["fence", "fence($A0)", ['"SeqCst"']],
  ["compiler_fence", "compiler_fence($A0)", ['"SeqCst"']],
  ["lock_acquired", "lock_acquired($A0, $A1, $A2)", ["$P", '"cls"', "{ shared: false }"]],
  ["lock_released", "lock_released($A0)", ["$P"]],
  ["panic", "panic($A0)", ['"boom"']],
  ["assert", "assert($A0, $A1)", ["true", '"msg"']],
  ["assert_eq", "assert_eq($A0, $A1, $A2)", ["1", "1", '"msg"']],
  ["unreachable", "unreachable($A0)", ['"msg"']],
  ["ktest", "ktest($A0, $A1)", ['"late"', "() => {}"]],
  ["Static.as_ref", "$A0.as_ref()", ["$ST"]],
  ["Local.write", "$A0.write($A1)", ["$LV", "$V"]],
  ["JoinHandle.join", "spawn(() => 1).join.call($A0)", ["{}"]],
];

/** Layout constructors called wrong (`misuse.layout.<key>`). */
const MISUSE_LAYOUT_CASES: [string, string][] = [
  ["array-negative", "array(u32, -1)"],
  ["array-fraction", "array(u32, 1.5)"],
  ["array-nan", "array(u32, NaN)"],
  ["array-huge", "array(u32, 2 ** 40)"],
  ["array-nested-huge", "array(array(u64, 1 << 20), 1 << 20)"],
  ["struct-undefined-field", 'struct("Bad", { a: undefined as any })'],
  ["struct-repr-rust", 'struct("Bad", { a: u32 }, { repr: "Rust" as any })'],
  ["struct-null-fields", 'struct("Bad", null as any)'],
  ["struct-number-name", "struct(42 as any, { a: u8 })"],
  ["struct-integer-keys", 'struct("Bad", { 1: u8, a: u32, 0: u16 } as any)'],
  ["enum-out-of-range", 'enum_("Bad", u8, { A: 300 })'],
  ["enum-duplicate", 'enum_("Bad", u8, { A: 1, B: 1 })'],
  ["enum-float-repr", 'enum_("Bad", f32 as any, { A: 1 })'],
  ["enum-fraction", 'enum_("Bad", u8, { A: 1.5 })'],
  ["enum-wide", 'enum_("Bad", u64 as any, { A: 2 ** 60 })'],
  ["enum-empty", 'enum_("Bad", u8, {})'],
  ["cell-undefined", "cell(undefined as any)"],
  ["maybe_uninit-number", "maybe_uninit(3 as any)"],
  ["ptr-undefined", "ptr(undefined as any)"],
  ["ptr-thunk-undefined", "ptr((() => undefined) as any)"],
  ["ptr-thunk-throws", 'ptr((() => { throw new Error("thunk"); }) as any)'],
  ["AtomicPtr-null", "AtomicPtr(null as any)"],
  ["size_of-fake", 'size_of({ size: 4, align: 4, name: "fake" } as any)'],
  ["offset_of-scalar", 'offset_of(u32 as any, "a")'],
  ["struct-huge", 'struct("Huge", { a: array(u8, 2 ** 31), b: array(u8, 2 ** 31) })'],
];
const MISUSE_LAYOUT_KEYS = MISUSE_LAYOUT_CASES.map(([k]) => k);

const MISUSE_LIST: Feature[] = [
  f("misuse.arg", 10, (g) => {
    const rng = g.rng;
    const calls = MISUSE_CALLS.filter(([name]) => g.enabled(`misuse.arg.${name}`));
    if (!calls.length) return false;
    const [name, template, slots] = rng.pick(calls);
    const bad = rng.int(slots.length);
    const badValue = g.bad(`misuse.arg.${name}.${bad}`);
    if (badValue === undefined) return false;
    const p = g.pickPtr((x) => g.okPtr(x, true) && x.l.size > 0) ?? allocPtr(g, U32, true);
    const l = p.l;
    g.rtLayout(l);
    const sp = g.pickPtr((x) => x.l.k === "struct" && g.okPtr(x, false));
    const ap = g.pickPtr((x) => x.l.k === "array" && g.okPtr(x, false));
    const atom = atomicTarget(g);
    const st = g.statics[0];
    const lv = g.env.locals.find((x) => x.a.live);
    const box = g.env.boxes.find((x) => x.a.live);
    const s = g.composites.find((c) => c.k === "struct");
    const args = slots.map((slot, i) => {
      if (i === bad) return badValue;
      return slot
        .replace("$SP", sp ? sp.name : "(null as any)")
        .replace("$AP", ap ? ap.name : "(null as any)")
        .replace("$AR", atom ? atom.ref : "(null as any)")
        .replace("$AV", atom ? g.val(atom.l.inner!) : "0")
        .replace("$ST", st ? st.name : "(null as any)")
        .replace("$LV", lv ? lv.name : "(null as any)")
        .replace("$B", box ? box.name : "(null as any)")
        .replace('"$F"', sp ? `"${sp.l.fields![0]!.name}"` : s ? `"${s.fields![0]!.name}"` : '"a"')
        .replace("$S", s ? s.expr : "u32")
        .replace("$Q", p.name)
        .replace("$P", p.name)
        .replace("$L", l.expr)
        .replace("$V", g.val(l));
    });
    let call = template;
    args.forEach((a, i) => (call = call.replace(`$A${i}`, a)));
    g.rt(...["alloc", "alloc_zeroed", "dealloc", "realloc", "Box", "local", "static_", "null_mut", "ptr_from_exposed", "without_provenance", "copy", "copy_nonoverlapping", "write_bytes", "transmute", "size_of", "align_of", "offset_of", "array", "struct", "enum_", "cell", "maybe_uninit", "ptr", "AtomicPtr", "spawn", "fence", "compiler_fence", "lock_acquired", "lock_released", "panic", "assert", "assert_eq", "unreachable", "ktest", "u32", "u8", "f32"].filter((x) => new RegExp(`\\b${x.replace(".", "\\.")}\\b`).test(call)));
    // keep the result alive (printing it exercises more)
    g.line(rng.chance(0.5) ? `console.log(${call});` : `${call};`);
    return true;
  }, true),

  f("misuse.layout", 3, (g) => {
    const rng = g.rng;
    const cases = MISUSE_LAYOUT_CASES;
    const key = g.pickEnabled("misuse.layout", cases.map(([k]) => k));
    if (key === undefined) return false;
    const c = cases.find(([k]) => k === key)![1];
    g.rt(...["array", "struct", "enum_", "cell", "maybe_uninit", "ptr", "AtomicPtr", "size_of", "offset_of", "u32", "u8", "u16", "u64", "f32"].filter((x) => new RegExp(`\\b${x}\\b`).test(c)));
    const topLevel = rng.chance(0.3) && g.use("misuse.layout.top-level");
    if (topLevel) g.decls.push(`const BAD${g.fresh("L")} = ${c};`);
    else {
      const name = decl(g, "bl", c);
      if (rng.chance(0.6)) {
        g.rt("alloc", "dealloc");
        g.line(`const bp${name} = alloc(${name} as any);`);
        g.line(`dealloc(bp${name}, ${name} as any);`);
      }
    }
    return true;
  }, true),

  f("misuse.ordering", 2, (g) => {
    const at = atomicTarget(g);
    if (!at) return false;
    const rng = g.rng;
    const bad = rng.pick(['"Release"', '"AcqRel"', '"seqcst"', "undefined as any", "0 as any", '"Relaxed "']);
    const op = g.pickEnabled("misuse.ordering", ["load", "store", "fence", "compiler_fence", "cas-failure"] as const);
    if (op === undefined) return false;
    if (op === "load") g.line(`${at.ref}.load(${bad} as any);`);
    else if (op === "store") g.line(`${at.ref}.store(${g.val(at.l.inner!)}, ${rng.pick(['"Acquire"', '"AcqRel"', bad])} as any);`);
    else if (op === "fence" || op === "compiler_fence") {
      g.rt(op);
      g.line(`${op}(${rng.pick(['"Relaxed"', bad])} as any);`);
    } else g.line(`${at.ref}.compare_exchange(${g.val(at.l.inner!)}, ${g.val(at.l.inner!)}, "SeqCst", ${rng.pick(['"Release"', '"AcqRel"', bad])} as any);`);
    return true;
  }),

  f("misuse.method", 2, (g) => {
    const p = g.pickPtr((x) => g.okPtr(x, false) && x.l.k !== "atomic");
    const cases: [string, string][] = [];
    if (p) {
      cases.push(["ref-fetch_add", `(${p.name}.as_ref() as any).fetch_add(1, "SeqCst")`]);
      cases.push(["ref-load", `(${p.name}.as_ref() as any).load("SeqCst")`]);
      cases.push(["ref-get", `(${p.name}.as_ref() as any).get()`]);
      cases.push(["ref-field", `(${p.name}.as_ref() as any).field("nope")`]);
      cases.push(["ptr-field", `(${p.name} as any).field("nope")`]);
      cases.push(["ptr-index", `(${p.name} as any).index(0)`]);
      cases.push(["ref-index", `(${p.name}.as_ref() as any).index(0)`]);
    }
    const at = atomicTarget(g);
    if (at) {
      cases.push(["fetch_max", `(${at.ref} as any).fetch_max(1, "SeqCst")`]);
      cases.push(["fetch_nand", `(${at.ref} as any).fetch_nand(1, "SeqCst")`]);
      cases.push(["fetch_update", `(${at.ref} as any).fetch_update("SeqCst", "SeqCst", (x: number) => x + 1)`]);
      if (at.l.inner!.k === "bool" || at.l.inner!.k === "ptr") cases.push(["atomic-fetch_add", `(${at.ref} as any).fetch_add(1, "SeqCst")`]);
    }
    const key = g.pickEnabled("misuse.method", cases.map(([k]) => k));
    if (key === undefined) return false;
    g.line(`console.log(${cases.find(([k]) => k === key)![1]});`);
    return true;
  }, true),

  f("misuse.this", 2, (g) => {
    // methods called on something that is not their object
    const p = g.pickPtr((x) => g.okRead(x));
    if (!p) return false;
    const how = g.pickEnabled("misuse.this", ["detached", "call-plain", "call-other", "forged", "forged-fields", "ref-detached", "box-detached"] as const);
    if (how === undefined) return false;
    switch (how) {
      case "detached":
        g.line(`const rd${p.name} = ${p.name}.read;`);
        g.line(`console.log((rd${p.name} as any)());`);
        break;
      case "call-plain":
        g.line(`console.log(${p.name}.read.call({} as any));`);
        break;
      case "call-other": {
        const other = g.env.refs[0];
        g.line(`console.log(${p.name}.read.call(${other ? other.name : `{ address: ${p.name}.addr() }`} as any));`);
        break;
      }
      case "forged":
        g.line(`const fake${p.name} = Object.create(Object.getPrototypeOf(${p.name}));`);
        g.line(`console.log(fake${p.name}.read());`);
        break;
      case "forged-fields":
        g.line(`const fake${p.name} = Object.assign(Object.create(Object.getPrototypeOf(${p.name})), { address: ${p.name}.addr(), layout: ${p.name}.layout });`);
        g.line(`console.log(fake${p.name}.read());`);
        break;
      case "ref-detached":
        g.line(`const rr${p.name} = ${p.name}.as_ref();`);
        g.line(`console.log((rr${p.name}.read as any).call(undefined));`);
        break;
      default:
        g.rt("Box", "u32");
        g.line(`const bx${p.name} = Box.new(u32, 1);`);
        g.line(`(bx${p.name}.drop as any).call(${p.name});`);
        break;
    }
    return true;
  }, true),

  f("misuse.tamper", 1, (g) => {
    // the program writes the fields of the runtime's own objects
    const p = g.pickPtr((x) => g.okRead(x));
    if (!p) return false;
    const rng = g.rng;
    const field = g.pickEnabled("misuse.tamper", ["address", "provenance", "layout", "tag"] as const);
    if (field === undefined) return false;
    const v = rng.pick(["undefined", "null", "-8", "1.5", "{}", `${p.name}`]);
    g.line(`(${p.name} as any).${field} = ${v};`);
    g.line(`console.log(${p.name}.read());`);
    return true;
  }, true),

  f("misuse.reentrant", 2, (g) => {
    // a count whose valueOf runs program code in the middle of an operation
    const p = g.pickPtr((x) => g.okPtr(x, true) && x.a!.kind === "heap" && x.a!.free !== null && x.l.size > 0 && g.visible(x.a!));
    if (!p) return false;
    const what = g.pickEnabled("misuse.reentrant", ["free", "write", "alloc", "spawn", "panic"] as const);
    if (what === undefined) return false;
    g.rt("dealloc", "alloc", "spawn", "panic", "u32");
    const side =
      what === "free" ? `${p.a!.free};` :
      what === "write" ? `${p.name}.write(${g.val(p.l)});` :
      what === "alloc" ? `alloc(u32);` :
      what === "spawn" ? `spawn(() => 1).join();` :
      `panic("inside valueOf");`;
    if (what === "free") p.a!.live = false;
    const evil = `({ valueOf() { ${side} return 1; } } as any)`;
    const calls: [string, string][] = [
      ["add", `${p.name}.add(${evil})`],
      ["wrapping_add", `${p.name}.wrapping_add(${evil})`],
      ["write_bytes", `write_bytes(${p.name}, 0, ${evil})`],
      ["copy", `copy(${p.name}, ${p.name}, ${evil})`],
      ["with_addr", `${p.name}.with_addr(${evil})`],
      ["byte_add", `${p.name}.byte_add(${evil})`],
    ];
    const via = g.pickEnabled(`misuse.reentrant.${what}`, calls.map(([k]) => k));
    if (via === undefined) return false;
    const call = calls.find(([k]) => k === via)![1];
    if (call.startsWith("write_bytes")) g.rt("write_bytes");
    if (call.startsWith("copy")) g.rt("copy");
    g.line(`console.log(${call});`);
    return true;
  }, true),

  f("misuse.value", 3, (g) => {
    // values of the wrong type written to memory
    const p = g.pickPtr((x) => g.okPtr(x, true) && x.l.size > 0);
    if (!p) return false;
    const rng = g.rng;
    const how = g.pickEnabled("misuse.value", ["bad", "struct-missing", "getter", "proxy", "wrong-ptr", "number-for-big"] as const);
    if (how === undefined) return false;
    let v: string;
    switch (how) {
      case "struct-missing":
        v = `({} as any)`;
        break;
      case "getter":
        v = `({ get a() { throw new Error("getter"); }, get b() { return 1; } } as any)`;
        break;
      case "proxy":
        v = `(new Proxy([1, 2, 3], { get(t, k) { return k === "length" ? 3 : 1; } }) as any)`;
        break;
      case "wrong-ptr":
        v = `({ address: 8, provenance: null } as any)`;
        break;
      case "number-for-big":
        v = `(${rng.pick(["1", "1n", "2 ** 64", "-1"])} as any)`;
        break;
      default: {
        const b = g.bad("misuse.value.bad");
        if (b === undefined) return false;
        v = b;
      }
    }
    const m = rng.pick(["write", "write_unaligned", "replace"]);
    g.line(`${p.name}.${m}(${v});`);
    return true;
  }, true),

  f("misuse.spawn", 1, (g) => {
    g.rt("spawn", "yield_now", "spin_loop");
    const cases: [string, string][] = [
      ["undefined", `spawn(undefined as any)`],
      ["throws", `spawn((() => { throw new Error("in thread"); }) as any).join()`],
      ["returns-function", `spawn(() => spawn as any)`],
      ["number-name", `spawn(() => 1, { name: 42 as any }).join()`],
      ["empty-name", `spawn(() => 1, { name: "" }).join()`],
      ["join-detached", `spawn(() => 1).join.call(undefined as any)`],
      ["join-in-map", `[spawn(() => 1), spawn(() => 2)].map((h) => h.join())`],
      ["yield-extra-args", `(yield_now as any).call(undefined, 1)`],
    ];
    const key = g.pickEnabled("misuse.spawn", cases.map(([k]) => k));
    if (key === undefined) return false;
    g.line(`console.log(${cases.find(([k]) => k === key)![1]});`);
    return true;
  }),

  f("misuse.ktest", 1, (g) => {
    g.rt("ktest");
    g.line(`ktest("nested", () => console.log("never"));`);
    g.line(`ktest.should_panic("nested2", () => {}, undefined);`);
    return true;
  }),
];

const MISUSE: Feature[] = MISUSE_LIST;

// ───────────────────────────── the Mirch family (`kmiri/mirch`) ─────────────────────────────
//
// A Mirch program (feature `mirch`, about one program in five) runs on the pseudo-architecture:
// physical pages (alloc, volatile and atomic accesses, retype, typed accesses, free), a page table
// of its own (vmalloc mappings, CR3 writes, TLB flushes, walks), interrupt lines and inter-processor
// calls whose handlers take a lock, CPU-local data, a DMA device model (streaming and coherent
// buffers through the IOMMU) with MMIO registers (through the linear map and a vmalloc mapping),
// the console's I/O ports, fallible user copies and a thread on a second CPU. A small model of the
// pages keeps the valid statements valid; bugs (`bug.mirch.*`) and misuse (`misuse.mirch.*`: wrong
// arguments, misbehaving device models and handlers) are placed as for `kmiri/rt` programs.
// Data pages are `RAM + i * PAGE_SIZE` (i < 512), page-table pages are allocated from
// `RAM + 1024 * PAGE_SIZE` up by the program itself.

interface MPage {
  /** Index of its first page from `RAM`. */
  i: number;
  count: number;
  typed: boolean;
  /** `retype_pages`'s slot size, when typed by slots. */
  slot: number;
  /** Its bytes were written (volatile fill, DMA). */
  init: boolean;
  /** vmalloc slots mapping it. */
  maps: number[];
  /** The device address it is mapped at in the IOMMU. */
  iova: number | null;
}

interface MMap {
  slot: number;
  page: MPage | null;
  /** An MMIO mapping (of the DMA device's window). */
  mmio: boolean;
  writable: boolean;
  global: boolean;
  /** Accessed since it was mapped (the TLB may hold it). */
  filled: boolean;
}

interface MState {
  pages: MPage[];
  next: number;
  maps: MMap[];
  slots: number;
  iovas: number;
  root: boolean;
  /** The active table is the program's root (else the boot table). */
  onRoot: boolean;
  dev: boolean;
  devClaimed: boolean;
  con: boolean;
  line: string | null;
  lineUsed: boolean;
  lock: { name: string; cls: string } | null;
  cl: boolean;
  faultHandler: boolean;
  counter: boolean;
  /** Threads spawned (each is a CPU of its own, joined or not: at most `num_cpus() - 1`). */
  spawned: number;
}

function mirchState(): MState {
  return {
    pages: [], next: 0, maps: [], slots: 0, iovas: 0, root: false, onRoot: false, dev: false, devClaimed: false,
    con: false, line: null, lineUsed: false, lock: null, cl: false, faultHandler: false, counter: false, spawned: 0,
  };
}

const pa = (p: MPage, off = 0) => `RAM + ${p.i} * PAGE_SIZE${off ? ` + ${off}` : ""}`;
const vaOf = (slot: number, off = 0) => `VMALLOC_BASE + ${slot} * PAGE_SIZE${off ? ` + ${off}` : ""}`;
const IOVA_BASE = 0x10_0000;
const M_INTS: [string, number, number][] = [["u8", 1, 0xff], ["u16", 2, 0xffff], ["u32", 4, 0xffff_ffff], ["usize", 8, 2 ** 40]];

/** The Mirch statements' helpers, on the generator. */
class MirchGen {
  st = mirchState();
  constructor(readonly g: Gen) {}

  mi(...names: string[]): void {
    for (const n of names) this.g.mirchImports.add(n);
  }

  untyped(pred: (p: MPage) => boolean = () => true): MPage | undefined {
    const xs = this.st.pages.filter((p) => !p.typed && pred(p));
    return xs.length ? this.g.rng.pick(xs) : undefined;
  }

  /** Allocates `count` fresh pages (filled unless `fill` is false). */
  alloc(count = 1, fill = this.g.rng.chance(0.75)): MPage {
    const g = this.g;
    this.mi("alloc_pages", "memset_volatile", "paddr_to_vaddr");
    const p: MPage = { i: this.st.next, count, typed: false, slot: 0, init: false, maps: [], iova: null };
    this.st.next += count + (g.rng.chance(0.3) ? 1 : 0);
    g.line(`alloc_pages(${pa(p)}, ${count});`);
    if (fill) {
      g.line(`memset_volatile(paddr_to_vaddr(${pa(p)}), ${g.rng.pick([0, 0, 0x5a, 0xff])}, ${count} * PAGE_SIZE);`);
      p.init = true;
    }
    this.st.pages.push(p);
    return p;
  }

  page(pred: (p: MPage) => boolean = () => true, fill?: boolean): MPage {
    return this.untyped((p) => pred(p) && (fill !== true || p.init)) ?? this.alloc(1, fill ?? this.g.rng.chance(0.75));
  }

  free(p: MPage): void {
    this.mi("dealloc_pages");
    this.g.line(`dealloc_pages(${pa(p)}, ${p.count});`);
    this.st.pages = this.st.pages.filter((x) => x !== p);
  }

  /** The program's own page table, made and activated. */
  root(): void {
    if (this.st.root) {
      if (!this.st.onRoot) {
        this.mi("activate_page_table");
        this.g.line(`activate_page_table(root);`);
        this.st.onRoot = true;
        for (const m of this.st.maps) if (!m.global) m.filled = false;
      }
      return;
    }
    this.mi("activate_page_table");
    this.g.line(`const root = mz_frame(pt);`);
    this.g.line(`activate_page_table(root);`);
    this.st.root = true;
    this.st.onRoot = true;
  }

  map(page: MPage | null, opts: { writable?: boolean; global?: boolean } = {}): MMap {
    const g = this.g;
    this.root();
    this.mi("pte_new", "PteFlags");
    const writable = opts.writable ?? !g.rng.chance(0.15);
    const global = opts.global ?? g.rng.chance(0.15);
    const flags = ["PteFlags.VALID", "PteFlags.READABLE"];
    if (writable) flags.push("PteFlags.WRITABLE");
    if (global) flags.push("PteFlags.GLOBAL");
    if (page === null) flags.push(g.rng.pick(["PteFlags.UNCACHEABLE", "PteFlags.UNCACHEABLE | PteFlags.WRITE_THROUGH"]));
    else if (g.rng.chance(0.2)) flags.push(g.rng.pick(["PteFlags.WRITE_THROUGH", "PteFlags.EXECUTABLE", "PteFlags.AVAIL1"]));
    const m: MMap = { slot: this.st.slots++, page, mmio: page === null, writable, global, filled: false };
    const target = page === null ? "dev.mmio!.paddr" : pa(page);
    g.line(`mz_leaf(pt, root, ${vaOf(m.slot)}).store(pte_new(${target}, ${flags.join(" | ")}), "Release");`);
    if (page) page.maps.push(m.slot);
    this.st.maps.push(m);
    return m;
  }

  /** Unmaps `m` and flushes the current CPU's TLB entry for it (unless `flush` is false). */
  unmap(m: MMap, flush = true): void {
    const g = this.g;
    this.mi("pte_paddr");
    const old = g.fresh("old");
    g.line(`const ${old} = mz_leaf(pt, root, ${vaOf(m.slot)}).swap(0, "AcqRel");`);
    if (flush) {
      const how = g.rng.weighted<string>([["addr", 4], ["range", 2], ["excl", m.global ? 0 : 1], ["all", 1]]);
      g.use(`mirch.tlb.${how}`);
      if (how === "addr") { this.mi("tlb_flush_addr"); g.line(`tlb_flush_addr(${vaOf(m.slot)});`); }
      else if (how === "range") { this.mi("tlb_flush_addr_range"); g.line(`tlb_flush_addr_range(${vaOf(m.slot)}, ${vaOf(m.slot + 1)});`); }
      else if (how === "excl") { this.mi("tlb_flush_all_excluding_global"); g.line(`tlb_flush_all_excluding_global();`); }
      else { this.mi("tlb_flush_all_including_global"); g.line(`tlb_flush_all_including_global();`); }
    }
    if (g.rng.chance(0.3)) { g.rt("assert_eq"); g.line(`assert_eq(pte_paddr(${old}), ${m.mmio ? "dev.mmio!.paddr" : pa(m.page!)});`); }
    if (m.page) m.page.maps = m.page.maps.filter((s) => s !== m.slot);
    this.st.maps = this.st.maps.filter((x) => x !== m);
  }

  /** The DMA device, attached and (unless `claim` is false) its window claimed. */
  device(claim = true): void {
    const g = this.g;
    if (!this.st.dev) {
      this.mi("attach_device");
      g.mirchTypes.add("DeviceModel");
      const irq = g.rng.chance(0.3) && g.use("mirch.device.irq");
      const hostile = g.rng.chance(0.2) && g.use("mirch.device.hostile");
      const opts = [irq ? "irq: true" : "", hostile ? "hostile: true" : "", g.rng.chance(0.3) ? `mmio_len: ${g.rng.pick([4096, 8192])}` : ""].filter((x) => x);
      g.line(`const dev = attach_device(mz_dma_device()${opts.length ? `, { ${opts.join(", ")} }` : ""});`);
      if (irq) g.line(`dev.irq!.on_active(() => { mz_irqs.n++; });`);
      this.st.dev = true;
    }
    if (claim && !this.st.devClaimed) {
      this.mi("io_mem_claim");
      g.line(`io_mem_claim(dev.mmio!.paddr, dev.mmio!.len);`);
      this.st.devClaimed = true;
    }
  }

  console(): void {
    if (this.st.con) return;
    this.mi("attach_device", "console_device", "io_port_claim");
    this.g.line(`const con = attach_device(console_device(), { ports: 8 });`);
    this.g.line(`io_port_claim(con.ports!.base, 8);`);
    this.st.con = true;
  }

  lock(): { name: string; cls: string } {
    if (!this.st.lock) this.st.lock = this.g.lockStatic();
    return this.st.lock;
  }

  /** An interrupt line whose handler takes the lock. */
  line(): string {
    const g = this.g;
    if (this.st.line) return this.st.line;
    const lk = this.lock();
    this.counter();
    this.mi("alloc_irq_line");
    const name = g.fresh("line");
    const num = g.rng.chance(0.3) ? String(g.rng.range(32, 255)) : "";
    g.line(`const ${name} = alloc_irq_line(${num});`);
    if (g.rng.chance(0.7)) g.line(`${name}.set_affinity(${g.rng.int(4)});`);
    g.line(`${name}.on_active((l) => {`);
    g.line(`  lock(${lk.name}.as_ref()${lk.cls ? `, ${lk.cls}` : ""});`);
    g.line(`  bump(${lk.name}.as_ref(), 1n);`);
    g.line(`  unlock(${lk.name}.as_ref());`);
    g.line(`  MZ_EVENTS.as_ref().fetch_add(l.num > 0 ? 1 : 0, "Relaxed");`);
    g.line(`});`);
    this.st.line = name;
    return name;
  }

  counter(): void {
    if (this.st.counter) return;
    this.st.counter = true;
    this.g.rt("static_", "AtomicUsize");
    if (!this.g.decls.some((d) => d.startsWith("const MZ_EVENTS"))) this.g.decls.push(`const MZ_EVENTS = static_(AtomicUsize, 0, { name: "MZ_EVENTS" });`);
  }

  /** Takes the interrupt line's lock from thread context, interrupts off (`irqOff`) or not (a bug). */
  lockedUpdate(irqOff = true): void {
    const g = this.g;
    const lk = this.lock();
    this.mi("irq_disable", "irq_restore");
    const was = g.fresh("was");
    g.line(`{`);
    if (irqOff) g.line(`  const ${was} = irq_disable();`);
    g.line(`  lock(${lk.name}.as_ref()${lk.cls ? `, ${lk.cls}` : ""});`);
    g.line(`  bump(${lk.name}.as_ref(), ${g.rng.range(1, 5)}n);`);
    g.line(`  unlock(${lk.name}.as_ref());`);
    if (irqOff) g.line(`  irq_restore(${was});`);
    g.line(`}`);
  }

  /** A DMA transfer on `p` (`bug` leaves out one step). */
  dma(p: MPage, kind: "from" | "to" | "coherent", bug: "" | "no-sync-cpu" | "no-sync-device" | "unmapped" = ""): void {
    const g = this.g;
    this.device();
    this.mi("iommu", "phys_ptr", "dma_stream_begin", "dma_stream_end", "dma_sync_for_device", "dma_sync_for_cpu");
    g.rt("u32", "u8");
    const iova = IOVA_BASE + this.st.iovas++ * 0x1000;
    const len = g.rng.pick([1, 8, 60, 512, 4096]);
    const readOnly = kind === "to" && g.rng.chance(0.5);
    if (bug !== "unmapped") g.line(`iommu.map(${iova}, ${pa(p)}${readOnly ? ", false" : g.rng.chance(0.3) ? ", true" : ""});`);
    p.iova = iova;
    const stream = kind !== "coherent";
    if (stream) g.line(`dma_stream_begin(${pa(p)}, PAGE_SIZE, "${kind === "from" ? g.rng.pick(["from-device", "bidirectional"]) : g.rng.pick(["to-device", "bidirectional"])}");`);
    if (kind === "to") {
      g.line(`memset_volatile(paddr_to_vaddr(${pa(p)}), ${g.rng.int(256)}, ${len});`);
      if (stream && bug !== "no-sync-device") g.line(`dma_sync_for_device(${pa(p)}, ${g.rng.chance(0.5) ? len : "PAGE_SIZE"});`);
      g.line(`mz_reg(dev, 0).write_volatile(${iova});`);
      g.line(`mz_reg(dev, 4).write_volatile(${len});`);
      g.line(`mz_reg(dev, 8).write_volatile(2);`);
      g.line(`console.log("device sum", mz_reg(dev, 12).read_volatile());`);
    } else {
      if (stream && bug !== "no-sync-device") g.line(`dma_sync_for_device(${pa(p)}, PAGE_SIZE);`);
      g.line(`mz_reg(dev, 0).write_volatile(${iova});`);
      g.line(`mz_reg(dev, 4).write_volatile(${len});`);
      g.line(`mz_reg(dev, 8).write_volatile(1);`);
      const got = g.fresh("got");
      g.line(`const ${got} = mz_reg(dev, 12).read_volatile();`);
      if (stream && bug !== "no-sync-cpu") g.line(`dma_sync_for_cpu(${pa(p)}, ${g.rng.chance(0.5) ? got : "PAGE_SIZE"});`);
      g.line(`console.log(${got}, phys_ptr(${pa(p, g.rng.int(len))}, u8).read_volatile());`);
      if (len === 4096) p.init = true; // else only the first `len` bytes are
    }
    if (stream) g.line(`dma_stream_end(${pa(p)}, PAGE_SIZE);`);
    if (bug !== "unmapped" && g.rng.chance(0.8)) {
      g.line(`iommu.unmap(${iova});`);
      p.iova = null;
    }
  }
}

/** Declares the Mirch helpers a program uses (once). */
function mirchHelpers(g: Gen): void {
  g.rt("AtomicUsize", "u32");
  g.typeImports.add("Ref");
  for (const n of ["PAGE_SIZE", "PteFlags", "VMALLOC_BASE", "alloc_pages", "memory_regions", "memset_volatile", "paddr_to_vaddr", "phys_ptr", "pte_index", "pte_new", "pte_paddr", "retype_pages"]) g.mirchImports.add(n);
  g.mirchTypes.add("AttachedDevice");
  g.mirchTypes.add("DeviceModel");
  g.helpers.push(
    [
      `/** The first page of RAM the boot memory map hands over. */`,
      `function mz_ram(): number {`,
      `  return Math.ceil(memory_regions().find((r) => r.kind === "ram")!.start / PAGE_SIZE) * PAGE_SIZE;`,
      `}`,
      ``,
      `/** A zeroed page-table page from the program's own frame allocator. */`,
      `function mz_frame(pt: { next: number }): number {`,
      `  const pa = pt.next;`,
      `  pt.next += PAGE_SIZE;`,
      `  unsafe: {`,
      `    alloc_pages(pa, 1);`,
      `    memset_volatile(paddr_to_vaddr(pa), 0, PAGE_SIZE);`,
      `    retype_pages(pa, 1, "page-table");`,
      `  }`,
      `  return pa;`,
      `}`,
      ``,
      `function mz_entry(table: number, va: number, level: number): Ref<number> {`,
      `  unsafe: {`,
      `    return phys_ptr(table + 8 * pte_index(va, level), AtomicUsize).as_ref();`,
      `  }`,
      `}`,
      ``,
      `/** The level-1 entry of \`va\` under \`root\`, tables made on the way. */`,
      `function mz_leaf(pt: { next: number }, root: number, va: number): Ref<number> {`,
      `  let table = root;`,
      `  for (let level = 4; level > 1; level--) {`,
      `    const e = mz_entry(table, va, level);`,
      `    if (e.load("Acquire") === 0) e.store(pte_new(mz_frame(pt), PteFlags.VALID | PteFlags.WRITABLE), "Release");`,
      `    table = pte_paddr(e.load("Acquire"));`,
      `  }`,
      `  return mz_entry(table, va, 1);`,
      `}`,
      ``,
      `const mz_irqs = { n: 0 };`,
      ``,
      `/** A DMA engine: registers 0 (device address), 4 (length), 8 (1: write to memory, 2: read it), 12 (result); scratch registers from 0x40. */`,
      `function mz_dma_device(): DeviceModel {`,
      `  let addr = 0, len = 0, op = 0, result = 0;`,
      `  const scratch = new Map<number, number | bigint>();`,
      `  return {`,
      `    name: "fuzz-dma",`,
      `    mmio_write(off, _size, value) {`,
      `      if (off === 0) addr = Number(value);`,
      `      else if (off === 4) len = Number(value);`,
      `      else if (off === 8) op = Number(value);`,
      `      else scratch.set(off, value);`,
      `    },`,
      `    mmio_read: (off, size) => (off === 12 ? result : off === 4 ? len : (scratch.get(off) ?? (size === 8 ? 0n : 0))),`,
      `    run(dev) {`,
      `      if (op === 0) return;`,
      `      const o = op;`,
      `      op = 0;`,
      `      if (o === 1) {`,
      `        dev.dma_write(addr, new Uint8Array(len).map((_, i) => (i * 7 + 1) & 0xff));`,
      `        result = len;`,
      `      } else {`,
      `        result = dev.dma_read(addr, len).reduce((a, b) => (a + b) >>> 0, 0);`,
      `      }`,
      `      dev.raise_irq();`,
      `    },`,
      `  };`,
      `}`,
      ``,
      `function mz_reg(d: AttachedDevice, off: number) {`,
      `  return phys_ptr(d.mmio!.paddr + off, u32);`,
      `}`,
    ].join("\n"),
  );
}

const mf = (name: string, weight: number, run: (m: MirchGen) => boolean): MFeature => ({ name, weight, run });
interface MFeature {
  name: string;
  weight: number;
  run: (m: MirchGen) => boolean;
}

const MIRCH_LIST: MFeature[] = [
  mf("mirch.page.alloc", 4, (m) => {
    m.alloc(m.g.rng.pick([1, 1, 2, 3]));
    return true;
  }),
  mf("mirch.page.volatile", 5, (m) => {
    const g = m.g;
    const p = m.page();
    const [l, size, max] = g.rng.pick(M_INTS);
    g.rt(l);
    const off = size * g.rng.int((p.count * 4096) / size);
    const v = l === "usize" ? String(g.rng.pick([0, 1, max])) : String(g.rng.pick([0, 1, max, g.rng.int(max)]));
    const how = g.rng.weighted<string>([["write", 3], ["read", p.init ? 3 : 0], ["atomic", p.init ? 2 : 0], ["copy", 1]]);
    g.use(`mirch.page.volatile.${how}`);
    m.mi("phys_ptr");
    if (how === "write") {
      if (!p.init && size < 4096) {
        g.line(`memset_volatile(paddr_to_vaddr(${pa(p)}), 0, ${p.count} * PAGE_SIZE);`);
        p.init = true;
      }
      g.line(`phys_ptr(${pa(p, off)}, ${l}).write_volatile(${v});`);
      if (g.rng.chance(0.5)) { g.rt("assert_eq"); g.line(`assert_eq(phys_ptr(${pa(p, off)}, ${l}).read_volatile(), ${v});`); }
    } else if (how === "read") {
      g.line(`console.log("${l}", phys_ptr(${pa(p, off)}, ${l}).read_volatile());`);
    } else if (how === "atomic") {
      const a = g.rng.pick(["AtomicU32", "AtomicU8", "AtomicU16", "AtomicUsize"]);
      const asz = a === "AtomicU8" ? 1 : a === "AtomicU16" ? 2 : a === "AtomicU32" ? 4 : 8;
      g.rt(a);
      const aoff = asz * g.rng.int(4096 / asz);
      g.line(`console.log(phys_ptr(${pa(p, aoff)}, ${a}).as_ref().${g.rng.pick(["fetch_add(1, \"Relaxed\")", "load(\"Acquire\")", "swap(3, \"AcqRel\")", "compare_exchange(0, 1, \"SeqCst\", \"Relaxed\").ok"])});`);
    } else {
      // a copy of initialised bytes only: `p` is filled, or is filled first
      if (!p.init) {
        g.line(`memset_volatile(paddr_to_vaddr(${pa(p)}), 0, ${p.count} * PAGE_SIZE);`);
        p.init = true;
      }
      const q = m.page((x) => x !== p);
      m.mi("memcpy_volatile");
      g.line(`memcpy_volatile(paddr_to_vaddr(${pa(q)}), paddr_to_vaddr(${pa(p)}), ${g.rng.pick([1, 8, 100, 4096])});`);
    }
    return true;
  }),
  mf("mirch.page.retype", 2, (m) => {
    const g = m.g;
    const p = m.untyped((x) => x.maps.length === 0 && x.iova === null) ?? m.alloc(g.rng.pick([1, 2]), true);
    const type = g.rng.pick(["slab", "slab", "stack", "kernel"]);
    const slot = type === "slab" && g.rng.chance(0.6) ? g.rng.pick([64, 256, 1024, 4096]) : 0;
    m.mi("retype_pages");
    g.line(`retype_pages(${pa(p)}, ${p.count}, "${type}"${slot ? `, ${slot}` : ""});`);
    p.typed = true;
    p.slot = slot;
    return true;
  }),
  mf("mirch.page.typed", 4, (m) => {
    const g = m.g;
    const ps = m.st.pages.filter((x) => x.typed);
    if (!ps.length) return false;
    const p = g.rng.pick(ps);
    const unit = p.slot || p.count * 4096;
    const base = p.slot ? p.slot * g.rng.int((p.count * 4096) / p.slot) : 0;
    const off = base + 4 * g.rng.int(Math.min(unit, 64) / 4);
    const v = g.rng.int(1000);
    const x = g.fresh("t");
    m.mi("phys_ptr");
    g.rt("u32", "assert_eq");
    g.line(`const ${x} = phys_ptr(${pa(p, off)}, u32);`);
    if (g.rng.chance(0.5) && g.use("mirch.page.typed.ref")) {
      g.line(`const ${x}m = ${x}.as_mut();`);
      g.line(`${x}m.write(${v});`);
      g.line(`assert_eq(${x}m.read(), ${v});`);
    } else {
      g.line(`${x}.write(${v});`);
      g.line(`assert_eq(${x}.read(), ${v});`);
    }
    return true;
  }),
  mf("mirch.page.free", 2, (m) => {
    const xs = m.st.pages.filter((x) => x.maps.length === 0 && x.iova === null);
    if (!xs.length) return false;
    m.free(m.g.rng.pick(xs));
    return true;
  }),
  mf("mirch.page.state", 1, (m) => {
    const g = m.g;
    m.mi("page_state");
    const p = m.st.pages.length ? g.rng.pick(m.st.pages) : null;
    g.line(`console.log(page_state(${p ? pa(p) : g.rng.pick(["0", "RAM + 600 * PAGE_SIZE", "0xfe00_0000", "0x100_0000_0000"])}));`);
    return true;
  }),
  mf("mirch.pt.map", 3, (m) => {
    const p = m.page((x) => !x.typed);
    m.map(p);
    return true;
  }),
  mf("mirch.pt.access", 5, (m) => {
    const g = m.g;
    const xs = m.st.maps.filter((x) => !x.mmio);
    if (!xs.length) return false;
    const mp = g.rng.pick(xs);
    if (!mp.writable && !mp.page!.init) return false;
    const how = g.rng.weighted<string>([["write", mp.writable ? 3 : 0], ["read", mp.page!.init ? 3 : 0], ["fill", mp.writable ? 1 : 0]]);
    if (!g.use(`mirch.pt.access.${how}`)) return false;
    m.root();
    g.rt("ptr_from_exposed");
    const [l, size] = g.rng.pick(M_INTS);
    g.rt(l);
    const off = size * g.rng.int(4096 / size);
    if (how === "write") g.line(`ptr_from_exposed(${vaOf(mp.slot, off)}, ${l}).write_volatile(${l === "usize" ? 7 : 1});`);
    else if (how === "fill") {
      // the mapping covers the allocation's first page only
      g.line(`memset_volatile(${vaOf(mp.slot)}, ${g.rng.int(256)}, PAGE_SIZE);`);
      if (mp.page!.count === 1) mp.page!.init = true;
    }
    else g.line(`console.log(ptr_from_exposed(${vaOf(mp.slot, off)}, ${l}).read_volatile());`);
    mp.filled = true;
    return true;
  }),
  mf("mirch.pt.unmap", 2, (m) => {
    const g = m.g;
    if (!m.st.maps.length) return false;
    const mp = g.rng.pick(m.st.maps);
    m.root();
    m.unmap(mp);
    if (mp.page && mp.page.maps.length === 0 && mp.page.iova === null && g.rng.chance(0.5)) m.free(mp.page);
    return true;
  }),
  mf("mirch.pt.walk", 1, (m) => {
    const g = m.g;
    m.mi("page_walk", "current_page_table", "pte_flags", "boot_page_table");
    const mp = m.st.maps.length ? g.rng.pick(m.st.maps) : null;
    g.line(`console.log(page_walk(${mp ? vaOf(mp.slot, g.rng.int(4096)) : g.rng.pick(["VMALLOC_BASE + 777 * PAGE_SIZE", "paddr_to_vaddr(0x1000)", "0"])})?.paddr, current_page_table() === boot_page_table());`);
    if (g.rng.chance(0.3)) g.line(`console.log(pte_flags(pte_new(0x1000, PteFlags.VALID | PteFlags.DIRTY | PteFlags.ACCESSED)));`);
    return true;
  }),
  mf("mirch.pt.switch", 1, (m) => {
    const g = m.g;
    if (!m.st.root) return false;
    m.mi("activate_page_table", "boot_page_table");
    g.line(`activate_page_table(boot_page_table());`);
    m.st.onRoot = false;
    for (const x of m.st.maps) if (!x.global) x.filled = false;
    if (g.rng.chance(0.6)) m.root();
    return true;
  }),
  mf("mirch.irq", 3, (m) => {
    const g = m.g;
    const line = m.line();
    if (!m.st.lineUsed || g.rng.chance(0.5)) m.lockedUpdate();
    m.st.lineUsed = true;
    const n = g.rng.range(1, 3);
    for (let i = 0; i < n; i++) g.line(`${line}.raise();`);
    if (g.rng.chance(0.3)) m.lockedUpdate();
    return true;
  }),
  mf("mirch.ipi", 2, (m) => {
    const g = m.g;
    m.counter();
    m.mi("inter_processor_call", "current_cpu", "in_interrupt_context");
    const cpus = g.rng.weighted<string>([["", 2], ["[1]", 2], ["[2, 3]", 1], ["[0]", 1], ["[]", 1]]);
    const useLock = g.rng.chance(0.4) && g.use("mirch.ipi.lock");
    const lk = useLock ? m.lock() : null;
    g.line(`inter_processor_call(() => {`);
    g.line(`  MZ_EVENTS.as_ref().fetch_add(in_interrupt_context() ? 1 : 100, "Relaxed");`);
    if (lk) g.line(`  lock(${lk.name}.as_ref()${lk.cls ? `, ${lk.cls}` : ""}); bump(${lk.name}.as_ref(), 1n); unlock(${lk.name}.as_ref());`);
    g.line(`  if (current_cpu() > 8) console.log("never");`);
    g.line(`}${cpus ? `, ${cpus}` : ""});`);
    if (lk && g.rng.chance(0.6)) m.lockedUpdate();
    return true;
  }),
  mf("mirch.irqflags", 1, (m) => {
    const g = m.g;
    m.mi("irq_disable", "irq_enable", "irq_restore", "irqs_enabled");
    const w = g.fresh("was");
    g.line(`const ${w} = irq_disable();`);
    g.line(`console.log(irqs_enabled(), ${w});`);
    g.line(g.rng.chance(0.5) ? `irq_restore(${w});` : `irq_enable();`);
    return true;
  }),
  mf("mirch.cpulocal", 1, (m) => {
    const g = m.g;
    m.mi("cpu_local", "irq_disable", "irq_restore");
    g.rt("u32");
    if (!m.st.cl) {
      g.line(`const cl = cpu_local(u32, ${g.rng.int(10)});`);
      m.st.cl = true;
    }
    const w = g.fresh("was");
    g.line(`{`);
    g.line(`  const ${w} = irq_disable();`);
    g.line(`  const c = cl.as_ptr();`);
    g.line(`  c.write(c.read() + 1);`);
    g.line(`  irq_restore(${w});`);
    g.line(`}`);
    if (g.rng.chance(0.4)) g.line(`console.log(cl.on_cpu(${g.rng.int(4)}).read());`);
    return true;
  }),
  mf("mirch.dma", 4, (m) => {
    const g = m.g;
    const kind = g.rng.pick(["from", "to", "coherent"] as const);
    g.use(`mirch.dma.${kind}`);
    const p = m.page((x) => x.iova === null);
    m.dma(p, kind);
    return true;
  }),
  mf("mirch.mmio", 2, (m) => {
    const g = m.g;
    m.device();
    m.mi("phys_ptr");
    const [l, size] = g.rng.pick([["u8", 1], ["u16", 2], ["u32", 4], ["u64", 8]] as const);
    g.rt(l);
    const off = 0x40 + size * g.rng.int(8);
    const via = g.rng.chance(0.3) && g.use("mirch.mmio.vmalloc");
    if (via) {
      const mp = m.st.maps.find((x) => x.mmio) ?? m.map(null, { writable: true });
      g.rt("ptr_from_exposed");
      g.line(`ptr_from_exposed(${vaOf(mp.slot, off)}, ${l}).write_volatile(${l === "u64" ? "5n" : "5"});`);
      g.line(`console.log(ptr_from_exposed(${vaOf(mp.slot, off)}, ${l}).read_volatile());`);
      mp.filled = true;
    } else {
      g.line(`phys_ptr(dev.mmio!.paddr + ${off}, ${l}).write_volatile(${l === "u64" ? "9n" : "9"});`);
      g.line(`console.log(phys_ptr(dev.mmio!.paddr + ${off}, ${l}).read_volatile());`);
    }
    return true;
  }),
  mf("mirch.port", 2, (m) => {
    const g = m.g;
    m.console();
    m.mi("port_read", "port_write");
    g.line(`port_write(con.ports!.base, 1, ${g.rng.range(0x41, 0x5a)});`);
    if (g.rng.chance(0.5)) g.line(`console.log(port_read(con.ports!.base + 5, 1));`);
    if (g.rng.chance(0.2)) g.line(`console.log(port_read(con.ports!.base + ${g.rng.pick([0, 4])}, ${g.rng.pick([1, 2, 4])}));`);
    return true;
  }),
  mf("mirch.fallible", 1, (m) => {
    const g = m.g;
    m.mi("set_user_page_fault_handler", "memcpy_fallible", "memset_fallible", "atomic_load_fallible", "atomic_cmpxchg_fallible");
    if (!m.st.faultHandler) {
      g.line(`set_user_page_fault_handler((f) => ${g.rng.chance(0.5) ? "false" : "f.vaddr < 0"});`);
      m.st.faultHandler = true;
    }
    const p = m.page(() => true, true);
    const what = g.rng.int(4);
    if (what === 0) g.line(`console.log(memcpy_fallible(paddr_to_vaddr(${pa(p)}), ${g.rng.pick(["0x1000", "0x2000", "0x7ff000"])}, ${g.rng.pick([1, 16, 4096])}));`);
    else if (what === 1) g.line(`console.log(memcpy_fallible(0x1000, paddr_to_vaddr(${pa(p)}), 8));`);
    else if (what === 2) g.line(`console.log(memset_fallible(0x3000, 0, 64));`);
    else g.line(`console.log(atomic_load_fallible(0x4000), atomic_cmpxchg_fallible(0x4000, 0, 1));`);
    return true;
  }),
  mf("mirch.thread", 1, (m) => {
    const g = m.g;
    if (g.inThread || m.st.spawned >= 3) return false; // the Machine's 4 CPUs: main and 3 threads
    m.st.spawned++;
    const p = m.page(() => true, true);
    m.mi("current_cpu", "phys_ptr");
    g.rt("spawn", "AtomicU32");
    const h = g.fresh("cpu");
    g.line(`const ${h} = spawn(() => {`);
    g.line(`  unsafe: {`);
    g.line(`    phys_ptr(${pa(p, 4 * g.rng.int(8))}, AtomicU32).as_ref().fetch_add(1, "Relaxed");`);
    if (m.st.line && g.rng.chance(0.5)) g.line(`    ${m.st.line}.raise();`);
    g.line(`  }`);
    g.line(`  return current_cpu();`);
    g.line(`});`);
    g.line(`console.log("cpu", ${h}.join());`);
    return true;
  }),
];

const MIRCH_BUGS: MFeature[] = [
  mf("bug.mirch.stale-tlb", 3, (m) => {
    const g = m.g;
    const p = m.alloc(1, true);
    const mp = m.map(p, { writable: true, global: false });
    g.rt("ptr_from_exposed", "u8");
    g.line(`ptr_from_exposed(${vaOf(mp.slot)}, u8).write_volatile(1);`);
    m.unmap(mp, false);
    m.free(p);
    g.line(`console.log(ptr_from_exposed(${vaOf(mp.slot)}, u8).read_volatile()); // stale TLB entry`);
    return true;
  }),
  mf("bug.mirch.plain-untyped", 2, (m) => {
    const g = m.g;
    const p = m.page(() => true, true);
    m.mi("phys_ptr");
    g.rt("u32");
    g.line(`console.log(phys_ptr(${pa(p)}, u32).read()); // a plain read of untyped memory`);
    return true;
  }),
  mf("bug.mirch.freed-access", 2, (m) => {
    const g = m.g;
    const p = m.page((x) => x.maps.length === 0 && x.iova === null, true);
    m.free(p);
    m.mi("phys_ptr");
    g.rt("u8");
    g.line(`console.log(phys_ptr(${pa(p)}, u8).read_volatile()); // the page is free`);
    return true;
  }),
  mf("bug.mirch.double-alloc", 1, (m) => {
    const p = m.page();
    m.mi("alloc_pages");
    m.g.line(`alloc_pages(${pa(p)}, 1); // already allocated`);
    return true;
  }),
  mf("bug.mirch.uaf", 2, (m) => {
    const g = m.g;
    const p = m.alloc(1, true);
    m.mi("retype_pages", "phys_ptr");
    g.rt("u32");
    g.line(`retype_pages(${pa(p)}, 1, "slab");`);
    p.typed = true;
    const x = g.fresh("t");
    g.line(`const ${x} = phys_ptr(${pa(p)}, u32);`);
    g.line(`${x}.write(1);`);
    m.free(p);
    g.line(`console.log(${x}.read()); // used after the page was freed`);
    return true;
  }),
  mf("bug.mirch.retype-twice", 1, (m) => {
    const p = m.alloc(1, true);
    m.mi("retype_pages");
    m.g.line(`retype_pages(${pa(p)}, 1, "slab");`);
    m.g.line(`retype_pages(${pa(p)}, 1, "stack"); // already typed`);
    p.typed = true;
    return true;
  }),
  mf("bug.mirch.dma", 3, (m) => {
    const g = m.g;
    const bug = g.rng.pick(["no-sync-cpu", "no-sync-device", "unmapped"] as const);
    g.use(`bug.mirch.dma.${bug}`);
    const p = m.page((x) => x.iova === null);
    m.dma(p, bug === "no-sync-device" ? g.rng.pick(["from", "to"] as const) : bug === "unmapped" ? g.rng.pick(["from", "to", "coherent"] as const) : "from", bug);
    return true;
  }),
  mf("bug.mirch.free-dma-mapped", 1, (m) => {
    const g = m.g;
    const p = m.alloc(1, true);
    m.mi("iommu");
    g.line(`iommu.map(${IOVA_BASE + m.st.iovas++ * 0x1000}, ${pa(p)});`);
    m.free(p);
    return true;
  }),
  mf("bug.mirch.mmio", 3, (m) => {
    const g = m.g;
    const kind = g.rng.pick(["unclaimed", "unaligned", "plain", "hole", "size"]);
    g.use(`bug.mirch.mmio.${kind}`);
    m.device(kind !== "unclaimed" || m.st.devClaimed);
    m.mi("phys_ptr");
    g.rt("u32", "u8");
    if (kind === "unclaimed" && m.st.devClaimed) {
      m.mi("io_mem_release");
      g.line(`io_mem_release(dev.mmio!.paddr, dev.mmio!.len);`);
      m.st.devClaimed = false;
    }
    if (kind === "unaligned") g.line(`mz_reg(dev, 2).read_volatile();`);
    else if (kind === "plain") g.line(`console.log(mz_reg(dev, 4).read());`);
    else if (kind === "hole") g.line(`console.log(phys_ptr(0xfe00_0000 + 0x80_0000, u32).read_volatile());`);
    else if (kind === "size") g.line(`console.log(phys_ptr(dev.mmio!.paddr, array(u8, 3)).read_volatile());`), g.rt("array");
    else g.line(`mz_reg(dev, 0x40).write_volatile(1);`);
    return true;
  }),
  mf("bug.mirch.port-unclaimed", 1, (m) => {
    m.mi("attach_device", "console_device", "port_write");
    const c = m.g.fresh("uart");
    m.g.line(`const ${c} = attach_device(console_device(), { ports: 8 });`);
    m.g.line(`port_write(${c}.ports!.base, 1, 0x21); // never claimed`);
    return true;
  }),
  mf("bug.mirch.irq-lock", 2, (m) => {
    const g = m.g;
    const line = m.line();
    g.line(`${line}.raise();`);
    m.lockedUpdate(false);
    return true;
  }),
  mf("bug.mirch.irq-race", 1, (m) => {
    const g = m.g;
    m.mi("alloc_irq_line", "cpu_local");
    g.rt("u32");
    const x = g.fresh("stat");
    g.line(`const ${x} = cpu_local(u32, 0);`);
    g.line(`const ${x}l = alloc_irq_line();`);
    g.line(`${x}l.set_affinity(0);`);
    g.line(`${x}l.on_active(() => { const c = ${x}.as_ptr(); c.write(c.read() + 1); });`);
    g.line(`${x}l.raise();`);
    g.line(`{ const c = ${x}.as_ptr(); c.write(c.read() + 1); } // interrupts are on: races with the handler`);
    return true;
  }),
  mf("bug.mirch.page-table", 2, (m) => {
    const g = m.g;
    const kind = g.rng.pick(["unmapped", "not-a-table", "typed-user"]);
    g.use(`bug.mirch.page-table.${kind}`);
    g.rt("ptr_from_exposed", "u8");
    if (kind === "unmapped") {
      m.root();
      g.line(`console.log(ptr_from_exposed(VMALLOC_BASE + 4000 * PAGE_SIZE, u8).read_volatile());`);
    } else if (kind === "not-a-table") {
      const p = m.page();
      m.mi("activate_page_table");
      g.line(`activate_page_table(${pa(p)}); // an untyped page is no page table`);
      m.st.onRoot = false;
    } else {
      const p = m.alloc(1, true);
      m.mi("retype_pages");
      g.line(`retype_pages(${pa(p)}, 1, "slab");`);
      p.typed = true;
      m.root();
      m.mi("pte_new", "PteFlags");
      const slot = m.st.slots++;
      g.line(`mz_leaf(pt, root, ${vaOf(slot)}).store(pte_new(${pa(p)}, PteFlags.VALID | PteFlags.READABLE | PteFlags.WRITABLE), "Release");`);
      g.line(`console.log(ptr_from_exposed(${vaOf(slot)}, u8).read_volatile()); // a typed page behind a vmalloc mapping`);
    }
    return true;
  }),
];

/** Mirch calls with one argument replaced by a wrong value. `$PA` a live page, `$ROOT` a page table. */
const MIRCH_MISUSE_CALLS: [string, string, string[]][] = [
  ["alloc_pages", "alloc_pages($A0, $A1)", ["$FREE", "1"]],
  ["dealloc_pages", "dealloc_pages($A0, $A1)", ["$PA", "1"]],
  ["retype_pages", "retype_pages($A0, $A1, $A2, $A3)", ["$PA", "1", '"slab"', "64"]],
  ["page_state", "page_state($A0)", ["$PA"]],
  ["paddr_to_vaddr", "paddr_to_vaddr($A0)", ["$PA"]],
  ["phys_ptr", "phys_ptr($A0, $A1).read_volatile()", ["$PA", "u32"]],
  ["pte_new", "pte_new($A0, $A1)", ["$PA", "PteFlags.VALID"]],
  ["pte_paddr", "pte_paddr($A0)", ["0x1003"]],
  ["pte_flags", "pte_flags($A0)", ["0x1003"]],
  ["pte_index", "pte_index($A0, $A1)", ["VMALLOC_BASE", "1"]],
  ["activate_page_table", "activate_page_table($A0)", ["root"]],
  ["page_walk", "page_walk($A0)", ["VMALLOC_BASE"]],
  ["tlb_flush_addr", "tlb_flush_addr($A0)", ["VMALLOC_BASE"]],
  ["tlb_flush_addr_range", "tlb_flush_addr_range($A0, $A1)", ["VMALLOC_BASE", "VMALLOC_BASE + 2 * PAGE_SIZE"]],
  ["memcpy_volatile", "memcpy_volatile($A0, $A1, $A2)", ["paddr_to_vaddr($PA)", "paddr_to_vaddr($PA) + 64", "8"]],
  ["memset_volatile", "memset_volatile($A0, $A1, $A2)", ["paddr_to_vaddr($PA)", "0", "8"]],
  ["memcpy_fallible", "memcpy_fallible($A0, $A1, $A2)", ["paddr_to_vaddr($PA)", "0x1000", "8"]],
  ["memset_fallible", "memset_fallible($A0, $A1, $A2)", ["0x1000", "0", "8"]],
  ["atomic_load_fallible", "atomic_load_fallible($A0)", ["0x1000"]],
  ["atomic_cmpxchg_fallible", "atomic_cmpxchg_fallible($A0, $A1, $A2)", ["0x1000", "0", "1"]],
  ["set_user_page_fault_handler", "set_user_page_fault_handler($A0)", ["() => false"]],
  ["iommu.map", "iommu.map($A0, $A1, $A2)", ["0x20_0000", "$PA", "true"]],
  ["iommu.unmap", "iommu.unmap($A0)", ["0x20_0000"]],
  ["dma_stream_begin", "dma_stream_begin($A0, $A1, $A2)", ["$PA", "PAGE_SIZE", '"to-device"']],
  ["dma_stream_end", "dma_stream_end($A0, $A1)", ["$PA", "PAGE_SIZE"]],
  ["dma_sync_for_device", "dma_sync_for_device($A0, $A1)", ["$PA", "PAGE_SIZE"]],
  ["dma_sync_for_cpu", "dma_sync_for_cpu($A0, $A1)", ["$PA", "PAGE_SIZE"]],
  ["inter_processor_call", "inter_processor_call($A0, $A1)", ["() => {}", "[1]"]],
  ["irq_restore", "irq_restore($A0)", ["true"]],
  ["alloc_irq_line", "alloc_irq_line($A0)", ["40"]],
  ["IrqLine.set_affinity", "alloc_irq_line().set_affinity($A0)", ["1"]],
  ["IrqLine.on_active", "alloc_irq_line().on_active($A0)", ["() => {}"]],
  ["cpu_local", "cpu_local($A0, $A1)", ["u32", "0"]],
  ["CpuLocal.on_cpu", "cpu_local(u32, 0).on_cpu($A0).read()", ["1"]],
  ["io_mem_claim", "io_mem_claim($A0, $A1)", ["0xfe00_0000", "4096"]],
  ["io_mem_release", "io_mem_release($A0, $A1)", ["0xfe00_0000", "4096"]],
  ["port_read", "port_read($A0, $A1)", ["con.ports!.base", "1"]],
  ["port_write", "port_write($A0, $A1, $A2)", ["con.ports!.base", "1", "65"]],
  ["io_port_claim", "io_port_claim($A0, $A1)", ["0x3000", "8"]],
  ["io_port_release", "io_port_release($A0, $A1)", ["con.ports!.base", "8"]],
  ["attach_device", "attach_device($A0, $A1)", ['{ name: "d", port_read: () => 1 }', "{ ports: 8, mmio_len: 4096 }"]],
  ["virtio_device", "attach_device(virtio_device($A0))", ["{ queue_size: 8, capacity_sectors: 16 }"]],
];

/** Wrong values specific to Mirch arguments (besides BAD_VALUES). */
const MIRCH_BAD_VALUES: [string, string][] = [
  ["unaligned", "0x1001"],
  ["zero", "0"],
  ["beyond-ram", "2 ** 47"],
  ["mmio-hole", "0xfe00_0000"],
  ["address-width", "2 ** 48 + 4096"],
  ["port-range", "0x1_0000"],
  ["page-count", "2 ** 30"],
];

/** Device models and handlers that misbehave (`misuse.mirch.device.<key>`). */
const MIRCH_DEVICE_MISUSE: [string, string][] = [
  ["mmio-read-string", `mmio_read: () => "x" as any`],
  ["mmio-read-nan", `mmio_read: () => NaN`],
  ["mmio-read-negative", `mmio_read: () => -1`],
  ["mmio-read-huge", `mmio_read: () => 2 ** 60`],
  ["mmio-read-bigint-small", `mmio_read: () => 1n`],
  ["mmio-read-object", `mmio_read: () => ({}) as any`],
  ["mmio-read-undefined", `mmio_read: () => undefined as any`],
  ["mmio-read-throws", `mmio_read: () => { throw new Error("device"); }`],
  ["mmio-write-throws", `mmio_write: () => { throw new Error("device"); }`],
  ["run-throws", `mmio_write: () => {}, run: () => { throw new RangeError("run"); }`],
  ["run-throws-value", `mmio_write: () => {}, run: () => { throw 42; }`],
  ["dma-read-negative", `mmio_write: () => {}, run: (d) => { d.dma_read(-1, 4); }`],
  ["dma-read-huge", `mmio_write: () => {}, run: (d) => { d.dma_read(0, 2 ** 40); }`],
  ["dma-read-nan", `mmio_write: () => {}, run: (d) => { d.dma_read(NaN, 4); }`],
  ["dma-read-bigint", `mmio_write: () => {}, run: (d) => { d.dma_read(0n as any, 4); }`],
  ["dma-write-string", `mmio_write: () => {}, run: (d) => { d.dma_write(0, "abc" as any); }`],
  ["dma-write-array", `mmio_write: () => {}, run: (d) => { d.dma_write(0, [1, 2, 300] as any); }`],
  ["dma-write-beyond", `mmio_write: () => {}, run: (d) => { d.dma_write(2 ** 39 - 2, new Uint8Array(8)); }`],
  ["dma-u32-unaligned", `mmio_write: () => {}, run: (d) => { d.dma_write_u32(0x20_0001, 2 ** 33); }`],
  ["choose-bad", `mmio_read: (_o, _s, d) => d.choose(NaN, 7 as any, [1n as any])`],
  ["raise-no-irq", `mmio_write: () => {}, run: (d) => { d.raise_irq(); d.raise_irq(); }`],
  ["reentrant", `mmio_write: () => {}, run: () => { unsafe: { phys_ptr(0xfe00_0000, u32).write_volatile(1); } }`],
  ["port-read-string", `port_read: () => "1" as any`],
  ["port-read-huge", `port_read: () => 2 ** 40`],
  ["name-number", `name: 7 as any, port_read: () => 1`],
  ["getter-throws", `get mmio_read(): any { throw new Error("getter"); }`],
];

/** Handlers that misbehave (`misuse.mirch.handler.<key>`). */
const MIRCH_HANDLER_MISUSE: [string, string][] = [
  ["irq-throws", `{ const l = alloc_irq_line(); l.on_active(() => { throw new Error("irq"); }); l.raise(); }`],
  ["irq-panics", `{ const l = alloc_irq_line(); l.on_active(() => panic("irq")); l.raise(); }`],
  ["irq-raises-itself", `{ const l = alloc_irq_line(); l.set_affinity(0); let n = 0; l.on_active(() => { if (n++ < 50) l.raise(); }); l.raise(); }`],
  ["irq-activates-table", `{ const l = alloc_irq_line(); l.on_active(() => { unsafe: { activate_page_table(0x1000); } }); l.raise(); }`],
  ["ipi-throws", `inter_processor_call(() => { throw new TypeError("ipi"); }, [1]);`],
  ["ipi-returns-thenable", `inter_processor_call((() => ({ then() { throw new Error("then"); } })) as any, [1]);`],
  ["ipi-self", `inter_processor_call(() => {}, [0, 0, 0]);`],
  ["ipi-nested", `inter_processor_call(() => inter_processor_call(() => {}), [1]);`],
  ["fault-handler-throws", `{ set_user_page_fault_handler(() => { throw new Error("fault"); }); memset_fallible(0x1000, 0, 8); }`],
  ["fault-handler-string", `{ set_user_page_fault_handler((() => "yes") as any); memset_fallible(0x1000, 0, 8); }`],
  ["irq-restore-in-handler", `{ const l = alloc_irq_line(); l.on_active(() => { irq_enable(); irq_restore(true); }); l.raise(); irq_disable(); }`],
  ["alloc-all-lines", `for (let i = 0; i < 230; i++) alloc_irq_line();`],
  ["attach-many", `for (let i = 0; i < 300; i++) attach_device({ name: "d" + i, mmio_read: () => 0 }, { mmio_len: 2 ** 20, ports: 256 });`],
];

const MIRCH_MISUSE: MFeature[] = [
  mf("misuse.mirch.arg", 8, (m) => {
    const g = m.g;
    const calls = MIRCH_MISUSE_CALLS.filter(([name]) => g.enabled(`misuse.mirch.arg.${name}`));
    if (!calls.length) return false;
    const [name, template, slots] = g.rng.pick(calls);
    const bad = g.rng.int(slots.length);
    const key = `misuse.mirch.arg.${name}.${bad}`;
    const kinds = [...BAD_VALUES, ...MIRCH_BAD_VALUES].filter(([k]) => g.enabled(`${key}.${k}`));
    if (!kinds.length) return false;
    const [k, v] = g.rng.pick(kinds);
    g.use(`${key}.${k}`);
    const p = m.page();
    if (/\broot\b/.test(template + slots.join(" "))) m.root();
    if (/\bcon\b/.test(template + slots.join(" "))) m.console();
    const args = slots.map((s, i) => (i === bad ? `(${v} as any)` : s.replace(/\$PA/g, `(${pa(p)})`).replace("$FREE", `(RAM + ${m.st.next + 1} * PAGE_SIZE)`)));
    let call = template;
    args.forEach((a, i) => (call = call.replace(`$A${i}`, a)));
    for (const n of ["alloc_pages", "dealloc_pages", "retype_pages", "page_state", "paddr_to_vaddr", "phys_ptr", "pte_new", "pte_paddr", "pte_flags", "pte_index", "activate_page_table", "page_walk", "tlb_flush_addr", "tlb_flush_addr_range", "memcpy_volatile", "memset_volatile", "memcpy_fallible", "memset_fallible", "atomic_load_fallible", "atomic_cmpxchg_fallible", "set_user_page_fault_handler", "iommu", "dma_stream_begin", "dma_stream_end", "dma_sync_for_device", "dma_sync_for_cpu", "inter_processor_call", "irq_restore", "alloc_irq_line", "cpu_local", "io_mem_claim", "io_mem_release", "port_read", "port_write", "io_port_claim", "io_port_release", "attach_device", "virtio_device", "PteFlags"]) {
      if (new RegExp(`\\b${n}\\b`).test(call)) m.mi(n);
    }
    for (const n of ["u32", "u8", "array"]) if (new RegExp(`\\b${n}\\b`).test(call)) g.rt(n);
    if (/\barray\(/.test(v)) g.rt("array");
    if (/\bu32\b/.test(v)) g.rt("u32");
    g.line(g.rng.chance(0.5) ? `console.log(${call});` : `${call};`);
    return true;
  }),
  mf("misuse.mirch.device", 3, (m) => {
    const g = m.g;
    const cases = MIRCH_DEVICE_MISUSE.filter(([k]) => g.enabled(`misuse.mirch.device.${k}`));
    if (!cases.length) return false;
    const [k, body] = g.rng.pick(cases);
    g.use(`misuse.mirch.device.${k}`);
    m.mi("attach_device", "io_mem_claim", "phys_ptr", "io_port_claim", "port_read");
    g.rt("u32");
    const d = g.fresh("bad");
    const hostile = g.rng.chance(0.3);
    g.line(`const ${d} = attach_device({ name: "bad-${k}", ${body} } as DeviceModel, { ports: 4${hostile ? ", hostile: true" : ""}, irq: ${g.rng.chance(0.5)} });`);
    g.line(`io_mem_claim(${d}.mmio!.paddr, ${d}.mmio!.len);`);
    g.line(`io_port_claim(${d}.ports!.base, 4);`);
    if (k.startsWith("port")) g.line(`console.log(port_read(${d}.ports!.base, ${g.rng.pick([1, 2, 4])}));`);
    else {
      g.line(`phys_ptr(${d}.mmio!.paddr, u32).write_volatile(1);`);
      g.line(`console.log(phys_ptr(${d}.mmio!.paddr + 4, u32).read_volatile());`);
    }
    return true;
  }),
  mf("misuse.mirch.handler", 2, (m) => {
    const g = m.g;
    const cases = MIRCH_HANDLER_MISUSE.filter(([k]) => g.enabled(`misuse.mirch.handler.${k}`));
    if (!cases.length) return false;
    const [k, text] = g.rng.pick(cases);
    g.use(`misuse.mirch.handler.${k}`);
    m.mi("alloc_irq_line", "inter_processor_call", "activate_page_table", "set_user_page_fault_handler", "memset_fallible", "irq_enable", "irq_restore", "irq_disable", "attach_device");
    if (/\bpanic\(/.test(text)) g.rt("panic");
    g.line(text);
    return true;
  }),
];

/** Every misuse leaf of the Mirch family (for `--matrix` and `focus`). */
function mirchMisuseLeaves(): string[] {
  const out: string[] = [];
  for (const [name, , slots] of MIRCH_MISUSE_CALLS) {
    slots.forEach((_, i) => {
      for (const [k] of [...BAD_VALUES, ...MIRCH_BAD_VALUES]) out.push(`misuse.mirch.arg.${name}.${i}.${k}`);
    });
  }
  for (const [k] of MIRCH_DEVICE_MISUSE) out.push(`misuse.mirch.device.${k}`);
  for (const [k] of MIRCH_HANDLER_MISUSE) out.push(`misuse.mirch.handler.${k}`);
  return out;
}

function mirchStatement(m: MirchGen, pool: MFeature[]): boolean {
  const g = m.g;
  const candidates = pool.filter((f) => g.enabled(f.name));
  for (let attempt = 0; attempt < 12 && candidates.length; attempt++) {
    const f = g.rng.weighted(candidates.map((c) => [c, c.weight] as const));
    // a feature that does not apply returns false before it emits or changes the model
    const before = g.mark();
    const usedBefore = [...g.used];
    if (f.run(m)) {
      g.used.add(f.name);
      return true;
    }
    g.rewind(before);
    g.used.clear();
    for (const u of usedBefore) g.used.add(u);
  }
  return false;
}

/** A Mirch body (of `main` or a test): the page-table allocator, statements, one bug or misuse. */
function mirchBody(g: Gen, size: number, shouldPanic: boolean): void {
  const r = g.rng;
  const m = new MirchGen(g);
  g.line(`const RAM = mz_ram();`);
  g.line(`const pt = { next: RAM + 1024 * PAGE_SIZE };`);
  g.line(`unsafe: {`);
  g.indent++;
  const total = r.range(Math.max(3, size - 6), size + 4);
  const bugAt = g.intent === "valid" ? -1 : r.range(Math.floor(total / 3), total);
  let bugDone = false;
  const placeBug = () => {
    if (bugDone) return;
    bugDone = mirchStatement(m, g.intent === "ub" ? MIRCH_BUGS : MIRCH_MISUSE);
  };
  for (let i = 0; i < total; i++) {
    if (i === bugAt) placeBug();
    else mirchStatement(m, MIRCH_LIST);
  }
  if (bugAt >= total) placeBug();
  // give back what is left, most of the time (Mirch pages are not leak-checked)
  if (r.chance(0.7)) {
    for (const mp of [...m.st.maps]) if (mp.page) m.unmap(mp);
    if (m.st.maps.length === 0) for (const p of [...m.st.pages]) if (p.iova === null) m.free(p);
  }
  if (m.st.con && r.chance(0.5)) { m.mi("io_port_release"); g.line(`io_port_release(con.ports!.base, 8);`); }
  g.indent--;
  g.line(`}`);
  if (shouldPanic) {
    g.rt("panic");
    g.line(`if (${ALWAYS}) panic("boom");`);
  }
}

// ───────────────────────────── entry points ─────────────────────────────

/** The program for `seed` (deterministic: same seed and options, same text). */
export function generateProgram(seed: number, options: GenOptions = {}): GeneratedProgram {
  return new Gen(seed, options).program();
}

/**
 * Every leaf of the `misuse.arg` family (`misuse.arg.<api>.<argument>.<bad value kind>`), and the
 * keyed cases of the other misuse families: for {@link GenOptions.focus} (`scripts/fuzz.mjs
 * --matrix` runs one program per leaf).
 */
export function misuseLeaves(): string[] {
  const out: string[] = [];
  for (const [name, , slots] of MISUSE_CALLS) {
    slots.forEach((_, i) => {
      for (const [k] of BAD_VALUES) out.push(`misuse.arg.${name}.${i}.${k}`);
    });
  }
  const keyed: Record<string, string[]> = {
    "misuse.this": ["detached", "call-plain", "call-other", "forged", "forged-fields", "ref-detached", "box-detached"],
    "misuse.tamper": ["address", "provenance", "layout", "tag"],
    "misuse.spawn": ["undefined", "throws", "returns-function", "number-name", "empty-name", "join-detached", "join-in-map", "yield-extra-args"],
    "misuse.ordering": ["load", "store", "fence", "compiler_fence", "cas-failure"],
    "misuse.method": ["ref-fetch_add", "ref-load", "ref-get", "ref-field", "ptr-field", "ptr-index", "ref-index", "fetch_max", "fetch_nand", "fetch_update", "atomic-fetch_add"],
    "misuse.value": ["struct-missing", "getter", "proxy", "wrong-ptr", "number-for-big"],
    "misuse.layout": MISUSE_LAYOUT_KEYS,
  };
  for (const [fam, keys] of Object.entries(keyed)) for (const k of keys) out.push(`${fam}.${k}`);
  for (const [k] of BAD_VALUES) out.push(`misuse.value.bad.${k}`);
  for (const what of ["free", "write", "alloc", "spawn", "panic"]) {
    for (const via of ["add", "wrapping_add", "write_bytes", "copy", "with_addr", "byte_add"]) out.push(`misuse.reentrant.${what}.${via}`);
  }
  out.push("misuse.ktest");
  out.push(...mirchMisuseLeaves());
  return out;
}

/** Every feature name the generator knows (families; sub-features extend them after a `.`). */
export const FEATURE_FAMILIES: readonly string[] = [
  ...CORE_LIST.map((x) => x.name),
  ...BUG_LIST.map((x) => x.name),
  ...MISUSE_LIST.map((x) => x.name),
  "layout.enum", "layout.struct", "layout.packed", "layout.array-decl", "static", "ktest", "ktest.should_panic",
  "opt.preemption", "opt.pct", "opt.pct.yield-wait", "opt.borrow-none", "opt.strict-provenance", "opt.ignore-leaks",
  "opt.no-race-detector", "opt.tag-gc", "test.native-unbounded.spin", "test.native-unbounded.yield",
  "test.native-unbounded.stopped", "thread.message.yield", "thread.message.fence", "thread.name", "box.leak.kept",
  "lock.shared", "safe-body",
  "mirch", ...MIRCH_LIST.map((x) => x.name), ...MIRCH_BUGS.map((x) => x.name), ...MIRCH_MISUSE.map((x) => x.name),
];

// ───────────────────────────── the oracle's helpers (pure) ─────────────────────────────

/** Title of kmiri's internal errors (src/interp/machine.ts, `INTERNAL_ERROR_TITLE`). */
export const INTERNAL_ERROR_TITLE = "internal error in kmiri";

/** Fields that measure time: they differ between two runs of the same seed by design. */
const TIMING_KEYS = new Set(["ms", "nativeMs", "checkedMs"]);

/**
 * A result (RunResult or TestRunResult) as plain data without its timings, for comparing two runs
 * of one seed: findings (kinds, messages, locations, backtraces, help), panics, output, exit code,
 * schedule, the deterministic counters.
 */
export function comparableResult(r: unknown): unknown {
  const walk = (x: unknown): unknown => {
    if (x !== null && typeof x === "object") {
      try {
        if (Array.isArray(x)) return x.map(walk);
        const out: Record<string, unknown> = {};
        for (const k of Object.keys(x).sort()) if (!TIMING_KEYS.has(k)) out[k] = walk(dataOf(x, k));
        return out;
      } catch (e) {
        return `[an object that threw when read: ${String(e)}]`;
      }
    }
    if (typeof x === "bigint") return `${x}n`;
    if (typeof x === "function" || typeof x === "symbol") return `[${typeof x}]`;
    return x;
  };
  return walk(r);
}

/**
 * Property `k` of `x` without running program code: a getter (a program object that leaked into
 * a result) is not called.
 */
function dataOf(x: object, k: string): unknown {
  const d = Object.getOwnPropertyDescriptor(x, k);
  return d === undefined ? undefined : "value" in d ? d.value : "[getter]";
}

/**
 * Where a result holds something that is not plain data (a function, a symbol, an object of a
 * class, a Proxy's target...): the JSON contract has strings, numbers, booleans, arrays and plain
 * objects only. A program value that leaked into a report shows up here.
 */
export function nonDataPaths(r: unknown): string[] {
  const found: string[] = [];
  const walk = (x: unknown, path: string): void => {
    try {
      walk1(x, path);
    } catch (e) {
      found.push(`${path}: an object that threw when read (${String(e)})`);
    }
  };
  const walk1 = (x: unknown, path: string): void => {
    if (typeof x === "function" || typeof x === "symbol") found.push(`${path}: a ${typeof x}`);
    else if (Array.isArray(x)) x.forEach((y, i) => walk(y, `${path}[${i}]`));
    else if (x !== null && typeof x === "object") {
      const proto = Object.getPrototypeOf(x);
      if (proto !== Object.prototype && proto !== null) {
        found.push(`${path}: an object that is not plain data`);
        return;
      }
      for (const k of Object.keys(x)) {
        const d = Object.getOwnPropertyDescriptor(x, k);
        if (d !== undefined && !("value" in d)) found.push(`${path}.${k}: a getter`);
        else walk(d?.value, `${path}.${k}`);
      }
    }
  };
  walk(r, "$");
  return found;
}

/** The first place two comparable results differ (a path and both values), or null. */
export function firstDifference(a: unknown, b: unknown, path = "$"): string | null {
  if (Object.is(a, b)) return null;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") {
    return `${path}: ${JSON.stringify(a)?.slice(0, 300)} !== ${JSON.stringify(b)?.slice(0, 300)}`;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return `${path}: array vs object`;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  for (const k of new Set([...ka, ...kb])) {
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    if (d !== null) return d;
  }
  return null;
}

/**
 * kmiri's internal errors in a result: reports titled `internal error in kmiri`, and any text
 * (a panic message, output) that says "kmiri internal error" — an internal error that escaped as
 * the program's panic. Each as one line.
 */
export function internalErrors(r: unknown): string[] {
  const found: string[] = [];
  const walk = (x: unknown, path: string): void => {
    try {
      walk1(x, path);
    } catch {
      /* a program object in the result: nonDataPaths reports it */
    }
  };
  const walk1 = (x: unknown, path: string): void => {
    if (Array.isArray(x)) x.forEach((y, i) => walk(y, `${path}[${i}]`));
    else if (x !== null && typeof x === "object") {
      const o = x as Record<string, unknown>;
      if (Object.getPrototypeOf(o) !== Object.prototype && !Array.isArray(o)) return; // not kmiri's data
      if (dataOf(o, "title") === INTERNAL_ERROR_TITLE) {
        const loc = o.location as { file?: string; line?: number; column?: number } | undefined;
        found.push(`${path}: ${INTERNAL_ERROR_TITLE}: ${String(o.message)}${loc ? ` at ${loc.file}:${loc.line}:${loc.column}` : ""}`);
        return;
      }
      for (const k of Object.keys(o)) walk(dataOf(o, k), `${path}.${k}`);
    } else if (typeof x === "string" && /kmiri internal error|internal error in kmiri/i.test(x)) {
      found.push(`${path}: ${x.slice(0, 300)}`);
    }
  };
  walk(r, "$");
  return found;
}

/**
 * Whether a run (or a test of it) was stopped by its time limit (`timeoutMs`): such a run stops
 * wherever the wall clock says, so two runs of one seed may differ, by design.
 */
export function hitTimeLimit(r: unknown): boolean {
  const o = r as { ub?: { kind?: unknown; message?: unknown }[]; tests?: { ub?: { kind?: unknown; message?: unknown }[] }[] };
  const all = [...(o.ub ?? []), ...(o.tests ?? []).flatMap((t) => t.ub ?? [])];
  return all.some((u) => u.kind === "resource-exhaustion" && typeof u.message === "string" && /time limit/.test(u.message));
}

/**
 * One line saying what a result is (for statistics): `clean`, `ub:<kinds>`, `panic`, `fail`,
 * `internal`.
 */
export function outcomeOf(r: unknown): string {
  const o = r as { ub?: { kind: string; title?: string }[]; panic?: unknown; tests?: { status: string }[]; exitCode?: number };
  if (internalErrors(r).length) return "internal";
  const kinds = [...new Set((o.ub ?? []).map((u) => u.kind))].sort();
  if (kinds.length) return `ub:${kinds.join(",")}`;
  if (o.panic) return "panic";
  if (o.tests?.some((t) => t.status !== "pass")) return "fail";
  return "clean";
}
