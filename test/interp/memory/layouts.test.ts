/**
 * The composite layouts: C struct rules (offsets, padding, nesting, packed), arrays, enums,
 * pointers (recursive through a thunk), cells and atomics (interior-mutable ranges),
 * `maybe_uninit`, and the queries (`size_of`, `align_of`, `offset_of`, `cellRanges`, `locate`).
 */
import { describe, expect, it } from "vitest";
import {
  AtomicBool,
  AtomicPtr,
  AtomicU16,
  AtomicU32,
  AtomicU64,
  AtomicU8,
  AtomicUsize,
  LayoutImpl,
  align_of,
  array,
  bool,
  cell,
  cellRanges,
  char,
  enum_,
  f64,
  i8,
  maybe_uninit,
  offset_of,
  ptr,
  size_of,
  struct,
  u16,
  u32,
  u64,
  u8,
  unit,
  usize,
  type Layout,
} from "../../../src/interp/memory/layouts.js";
import { locate } from "../../../src/interp/memory/value-paths.js";

/** `[offset, size]` of every field of a struct layout. */
function offsets(l: Layout<unknown>): Record<string, number> {
  return Object.fromEntries(l.fields!.map((f) => [f.name, f.offset]));
}

describe("struct (repr C)", () => {
  const A = struct("A", { a: u8, b: u32, c: u16 });

  it("aligns each field, rounds the size up to the alignment", () => {
    expect(offsets(A)).toEqual({ a: 0, b: 4, c: 8 });
    expect([size_of(A), align_of(A), A.name, A.kind]).toEqual([12, 4, "A", "struct"]);
    expect(offset_of(A, "c")).toBe(8);
  });

  it("knows its padding and the bytes a read needs", () => {
    expect(A.padding).toEqual([1, 4, 10, 12]);
    expect(A.initRanges).toEqual([0, 1, 4, 10]);
    expect(u32.padding).toBeNull();
    expect(u32.initRanges).toBeNull();
  });

  it("nests: an inner struct is aligned as a whole and brings its padding", () => {
    const B = struct("B", { x: u8, inner: A, y: u8, z: u64 });
    expect(offsets(B)).toEqual({ x: 0, inner: 4, y: 16, z: 24 });
    expect([B.size, B.align]).toEqual([32, 8]);
    expect(B.padding).toEqual([1, 4, 5, 8, 14, 16, 17, 24]);
  });

  it("has no padding when the fields fit", () => {
    const P = struct("Pair", { lo: u32, hi: u32 });
    expect([P.size, P.padding, P.initRanges]).toEqual([8, null, null]);
  });

  it("is zero-sized with no fields, and orders fields as declared", () => {
    const E = struct("Empty", {});
    expect([E.size, E.align]).toEqual([0, 1]);
    const Rev = struct("Rev", { z: u64, a: u8 });
    expect(offsets(Rev)).toEqual({ z: 0, a: 8 });
    expect(Rev.size).toBe(16);
  });

  it("packed: alignment 1, no padding, fields back to back", () => {
    const P = struct("Hdr", { tag: u8, len: u32, seq: u64 }, { repr: "packed" });
    expect(offsets(P)).toEqual({ tag: 0, len: 1, seq: 5 });
    expect([P.size, P.align, P.padding]).toEqual([13, 1, null]);
    expect(struct("C", { tag: u8, len: u32 }, { repr: "C" }).size).toBe(8);
    expect(() => struct("X", { a: u8 }, { repr: "transparent" as "C" })).toThrow(TypeError);
  });

  it("reads as a plain object and writes its fields (round trip)", () => {
    const view = new DataView(new ArrayBuffer(12));
    A.encode(view, 0, { a: 7, b: 0xdeadbeef, c: 513 });
    expect(A.decode(view, 0)).toEqual({ a: 7, b: 0xdeadbeef, c: 513 });
    expect(view.getUint16(8, true)).toBe(513);
  });

  it("names the path to a byte, for diagnostics", () => {
    const B = struct("B", { x: u8, inner: A, arr: array(A, 2) });
    expect(locate(B, 8)).toEqual({ path: ".inner.b", leaf: u32 });
    expect(locate(B, 1)).toEqual({ path: "", leaf: null });
    expect(locate(B, 16 + 12 + 8)).toEqual({ path: ".arr[1].c", leaf: u16 });
  });
});

describe("arrays", () => {
  it("repeat the element's padding and needs", () => {
    const S = struct("S", { a: u16, b: u8 });
    const arr = array(S, 3);
    expect([arr.size, arr.align, arr.name, arr.len, arr.elem]).toEqual([12, 2, "[S; 3]", 3, S]);
    expect(arr.padding).toEqual([3, 4, 7, 8, 11, 12]);
    expect(arr.initRanges).toEqual([0, 3, 4, 7, 8, 11]);
    expect(array(u32, 4).initRanges).toBeNull();
  });

  it("report invalid elements at their index", () => {
    const view = new DataView(new Uint8Array([1, 0, 2]).buffer);
    expect(array(bool, 3).invalid!(view, 0)).toBe("at [2], encountered 0x02, but expected a boolean");
  });
});

describe("enum_", () => {
  const PageState = enum_("PageState", u8, { Free: 0, Allocated: 1, Reserved: 2 });

  it("has its repr's size and reads as the variant's name", () => {
    expect([PageState.size, PageState.align, PageState.kind, PageState.name]).toEqual([1, 1, "enum", "PageState"]);
    const view = new DataView(new ArrayBuffer(4));
    PageState.encode(view, 1, "Reserved");
    expect(view.getUint8(1)).toBe(2);
    expect(PageState.decode(view, 1)).toBe("Reserved");
    expect(PageState.variants).toEqual({ Free: 0, Allocated: 1, Reserved: 2 });
  });

  it("calls an unknown discriminant an invalid enum tag, at any depth", () => {
    const view = new DataView(new Uint8Array([5, 0, 0, 0]).buffer);
    expect(PageState.invalid!(view, 0)).toBe("at .<enum-tag>, encountered 0x05, but expected a valid enum tag");
    const Wide = enum_("Wide", u32, { A: 1 });
    expect(Wide.invalid!(view, 0)).toBe("at .<enum-tag>, encountered 0x00000005, but expected a valid enum tag");
    const Frame = struct("Frame", { state: PageState, refs: u8 });
    expect(Frame.invalid!(view, 0)).toBe("at .state.<enum-tag>, encountered 0x05, but expected a valid enum tag");
    expect(array(Frame, 2).invalid!(new DataView(new Uint8Array([0, 0, 9, 0]).buffer), 0)).toBe(
      "at [1].state.<enum-tag>, encountered 0x09, but expected a valid enum tag",
    );
  });

  it("supports signed and 64-bit reprs", () => {
    const S = enum_("Signed", i8, { Neg: -1, Pos: 1 });
    const view = new DataView(new ArrayBuffer(8));
    S.encode(view, 0, "Neg");
    expect([view.getUint8(0), S.decode(view, 0)]).toEqual([0xff, "Neg"]);
    view.setUint8(0, 0xfe);
    expect(S.invalid!(view, 0)).toBe("at .<enum-tag>, encountered 0xfe, but expected a valid enum tag");
    const W = enum_("W", u64 as unknown as Layout<number>, { Big: 2 ** 40 });
    W.encode(view, 0, "Big");
    expect(W.decode(view, 0)).toBe("Big");
  });

  it("rejects a non-integer repr and duplicate discriminants", () => {
    expect(() => enum_("E", f64, { A: 0 })).toThrow(TypeError);
    expect(() => enum_("E", u8, { A: 0, B: 0 })).toThrow(/assigned twice/);
  });
});

describe("ptr", () => {
  it("is 8 bytes, aligned 8, named after its pointee", () => {
    const p = ptr(u32);
    expect([p.size, p.align, p.kind, p.name, p.invalid]).toEqual([8, 8, "ptr", "*mut u32", null]);
  });

  it("builds recursive types through a thunk", () => {
    type NodeV = { next: unknown; v: number };
    const Node: Layout<NodeV> = struct("Node", { next: ptr(() => Node), v: u32 });
    expect([Node.size, Node.align, offset_of(Node, "v")]).toEqual([16, 8, 8]);
    expect(Node.padding).toEqual([12, 16]);
    // The thunk resolves (and the pointer is named) once used.
    const next = Node.fields![0]!.layout;
    expect(next.name).toBe("*mut _");
    expect((next as LayoutImpl<unknown>).pointee).toBeTypeOf("function");
  });
});

describe("cells and atomics", () => {
  it("cell(T) has T's bytes, marked interior-mutable", () => {
    const c = cell(u32);
    expect([c.size, c.align, c.kind, c.name, c.inner]).toEqual([4, 4, "cell", "UnsafeCell<u32>", u32]);
    expect(cellRanges(c)).toEqual([[0, 4]]);
  });

  it("enumerates the interior-mutable byte ranges of any layout", () => {
    const Lock = struct("Lock", { locked: AtomicBool, owner: u32, data: cell(array(u8, 3)), stats: u64, count: AtomicU32 });
    expect(offsets(Lock)).toEqual({ locked: 0, owner: 4, data: 8, stats: 16, count: 24 });
    expect(cellRanges(Lock)).toEqual([[0, 1], [8, 11], [24, 28]]);
    expect(cellRanges(array(Lock, 2)).length).toBe(6);
    expect(cellRanges(struct("Plain", { a: u32 }))).toEqual([]);
  });

  it("atomics have their integer's size and alignment", () => {
    const table = [AtomicU8, AtomicU16, AtomicU32, AtomicU64, AtomicUsize, AtomicBool, AtomicPtr(u16)].map((l) => [
      l.name,
      l.size,
      l.align,
      l.kind,
    ]);
    expect(table).toEqual([
      ["AtomicU8", 1, 1, "atomic"],
      ["AtomicU16", 2, 2, "atomic"],
      ["AtomicU32", 4, 4, "atomic"],
      ["AtomicU64", 8, 8, "atomic"],
      ["AtomicUsize", 8, 8, "atomic"],
      ["AtomicBool", 1, 1, "atomic"],
      ["AtomicPtr<u16>", 8, 8, "atomic"],
    ]);
    expect(AtomicBool.invalid!(new DataView(new Uint8Array([3]).buffer), 0)).toBe("encountered 0x03, but expected a boolean");
  });
});

describe("maybe_uninit", () => {
  it("checks as T when read itself, but not inside a struct", () => {
    const Desc = struct("Desc", { addr: u64, len: u32, flags: u16 });
    const m = maybe_uninit(Desc);
    expect([m.size, m.align, m.name, m.initRanges]).toEqual([16, 8, "MaybeUninit<Desc>", [0, 14]]);
    const Slot = struct("Slot", { ready: bool, payload: maybe_uninit(u32) });
    expect(Slot.initRanges).toEqual([0, 1]);
    expect(Slot.padding).toEqual([1, 4]);
    expect(maybe_uninit(bool).invalid).toBe(bool.invalid);
    expect(struct("S", { b: maybe_uninit(bool) }).invalid).toBeNull();
  });

  it("reads an invalid part of a composite as undefined", () => {
    const S = struct("S", { c: maybe_uninit(char), n: u32 });
    const view = new DataView(new ArrayBuffer(8));
    view.setUint32(0, 0xd800, true);
    view.setUint32(4, 3, true);
    expect(S.decode(view, 0)).toEqual({ c: undefined, n: 3 });
  });
});

describe("every layout", () => {
  it("is a LayoutImpl with its properties in one order (one hidden class)", () => {
    const all: Layout<unknown>[] = [
      u8, usize, bool, char, unit, ptr(u8), array(u8, 2), struct("S", { a: u8 }), cell(u8),
      enum_("E", u8, { A: 0 }), AtomicU32, AtomicPtr(u8), maybe_uninit(u32),
    ];
    const keys = Object.keys(u8);
    for (const l of all) {
      expect(l).toBeInstanceOf(LayoutImpl);
      expect(Object.keys(l)).toEqual(keys);
    }
  });
});
