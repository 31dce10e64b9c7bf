/**
 * The checks of the memory model on structs, enums, `maybe_uninit`, projections and transmutes,
 * each with Miri's words: `uninit` (partial, padding, a struct field), `invalid-value` (an enum
 * tag, a field), `read-only` on every write path, `misaligned` on every aligned path, zero-sized
 * allocations, projections, and the type errors rustc would have caught.
 */
import { provenanceOf } from "../../../src/shims/checked/memory.js";
import { beforeEach, describe, expect, it } from "vitest";
import * as checked from "../../../src/shims/checked/memory.js";
import { array, bool, enum_, maybe_uninit, ptr, struct, u16, u32, u64, u8, unit } from "../../../src/interp/memory/layouts.js";
import { GENERIC_HELP, expectUB, freshHost, helps, type FakeHost } from "../../fixtures/memory/fake-host.js";

let host: FakeHost;
beforeEach(() => {
  host = freshHost();
});

const Desc = struct("Desc", { flags: u8, len: u32 });
const PageState = enum_("PageState", u8, { Free: 0, Allocated: 1, Reserved: 2 });

describe("uninit", () => {
  it("names the uninitialised part of a partly initialised value, with a dump", () => {
    const p = checked.alloc(u64);
    p.cast(u32).write(0x11223344);
    const r = expectUB(
      host,
      () => p.read(),
      "uninit",
      "reading memory at alloc1[0x0..0x8], but memory is uninitialized at [0x4..0x8], and this operation requires initialized memory",
    );
    expect(helps(r)).toEqual(GENERIC_HELP);
    expect(r.options.notes![0]).toBe("Uninitialized memory occurred at alloc1[0x4..0x8], in this allocation:");
    expect(r.options.notes![1]).toBe("alloc1 (Rust heap, size: 8, align: 8) {");
    expect(r.options.notes![3]).toBe("}");
    expect(r.options.notes![2]).toMatch(/^ {4}44 33 22 11 __ __ __ __ +│ /);
  });

  it("leaves a struct's padding uninitialised when the struct is written", () => {
    const d = checked.alloc(Desc);
    d.write({ flags: 1, len: 512 });
    expect(d.read()).toEqual({ flags: 1, len: 512 });
    expectUB(
      host,
      () => d.cast(u32).read(),
      "uninit",
      "reading memory at alloc1[0x0..0x4], but memory is uninitialized at [0x1..0x4], and this operation requires initialized memory",
    );
  });

  it("makes padding uninitialised again when a struct is written over initialised bytes", () => {
    const d = checked.alloc_zeroed(Desc);
    expect(d.cast(u32).read()).toBe(0);
    d.write({ flags: 1, len: 2 });
    expectUB(
      host,
      () => d.cast(u32).read(),
      "uninit",
      "reading memory at alloc1[0x0..0x4], but memory is uninitialized at [0x1..0x4], and this operation requires initialized memory",
    );
  });

  it("names the field of a struct read that is uninitialised (Miri's validity wording)", () => {
    const d = checked.alloc(Desc);
    d.field("flags").write(1);
    expectUB(
      host,
      () => d.read(),
      "uninit",
      "constructing invalid value of type Desc: at .len, encountered uninitialized memory, but expected an integer",
    );
    const arr = checked.alloc(array(bool, 3));
    arr.index(0).write(true);
    expectUB(
      host,
      () => arr.read(),
      "uninit",
      "constructing invalid value of type [bool; 3]: at [1], encountered uninitialized memory, but expected a boolean",
    );
    const Slot = struct("Slot", { p: ptr(u8), state: PageState });
    const s = checked.alloc(Slot);
    s.field("p").write(checked.null_mut(u8));
    expectUB(
      host,
      () => s.read(),
      "uninit",
      "constructing invalid value of type Slot: at .state.<enum-tag>, encountered uninitialized memory, but expected a valid enum tag",
    );
  });

  it("maybe_uninit: may stay uninitialised inside a struct, is checked when read as itself", () => {
    const Slot = struct("Slot", { ready: bool, payload: maybe_uninit(u32) });
    const s = checked.alloc(Slot);
    s.write({ ready: false, payload: undefined });
    expect(s.read().ready).toBe(false);
    expectUB(
      host,
      () => s.field("payload").read(),
      "uninit",
      "reading memory at alloc1[0x4..0x8], but memory is uninitialized at [0x4..0x8], and this operation requires initialized memory",
    );
    s.field("payload").write(5);
    expect(s.read()).toEqual({ ready: false, payload: 5 });
    s.field("payload").write(undefined); // MaybeUninit::uninit()
    expect(provenanceOf(s)!.isInit(4, 4)).toBe(false);
  });

  it("maybe_uninit of a struct: assume_init_read names the missing field of the inner type", () => {
    const DmaDesc = struct("DmaDesc", { addr: u64, len: u32, flags: u16 });
    const slot = checked.alloc(maybe_uninit(DmaDesc));
    const p = slot.cast(DmaDesc);
    p.field("addr").write(0x8000n);
    p.field("len").write(4096);
    expectUB(
      host,
      () => slot.read(),
      "uninit",
      "constructing invalid value of type DmaDesc: at .flags, encountered uninitialized memory, but expected an integer",
    );
    p.field("flags").write(1);
    expect(slot.read()).toEqual({ addr: 0x8000n, len: 4096, flags: 1 });
    const b = checked.alloc_zeroed(maybe_uninit(bool));
    b.cast(u8).write(3);
    expectUB(host, () => b.read(), "invalid-value", "constructing invalid value of type bool: encountered 0x03, but expected a boolean");
  });

  it("reports a transmute that reads padding", () => {
    const Pad = struct("Pad", { a: u8, b: u32 });
    expectUB(
      host,
      () => checked.transmute({ a: 1, b: 2 }, Pad, u64),
      "uninit",
      "constructing invalid value of type u64: encountered uninitialized memory, but expected an integer",
    );
    expectUB(
      host,
      () => checked.transmute({ a: 1, b: 2 }, Pad, array(u8, 8)),
      "uninit",
      "constructing invalid value of type [u8; 8]: at [1], encountered uninitialized memory, but expected an integer",
    );
  });
});

describe("invalid-value", () => {
  it("reports an enum discriminant that is no variant's, at any depth", () => {
    const t = checked.alloc_zeroed(array(PageState, 4));
    t.index(1).write("Allocated");
    t.cast(u8).add(2).write(7);
    expect(t.index(1).read()).toBe("Allocated");
    expectUB(
      host,
      () => t.index(2).read(),
      "invalid-value",
      "constructing invalid value of type PageState: at .<enum-tag>, encountered 0x07, but expected a valid enum tag",
    );
    expectUB(
      host,
      () => t.read(),
      "invalid-value",
      "constructing invalid value of type [PageState; 4]: at [2].<enum-tag>, encountered 0x07, but expected a valid enum tag",
    );
  });

  it("reports an invalid bool field of a struct", () => {
    const Flags = struct("Flags", { dirty: bool, n: u16 });
    const f = checked.alloc_zeroed(Flags);
    f.cast(u8).write(2);
    expectUB(
      host,
      () => f.read(),
      "invalid-value",
      "constructing invalid value of type Flags: at .dirty, encountered 0x02, but expected a boolean",
    );
  });

  it("reports a transmute to an invalid enum; a null raw pointer is valid", () => {
    expectUB(
      host,
      () => checked.transmute(9, u8, PageState),
      "invalid-value",
      "constructing invalid value of type PageState: at .<enum-tag>, encountered 0x09, but expected a valid enum tag",
    );
    expect(checked.transmute(2, u8, PageState)).toBe("Reserved");
    const p = checked.alloc_zeroed(ptr(u32));
    expect(p.read().is_null()).toBe(true);
  });
});

describe("read-only", () => {
  /** A read-only static of 8 bytes, zeroed, as a pointer. */
  function readOnly(): checked.Ptr<bigint> {
    const a = host.memory.allocate(8, 8, "static", 1, true);
    a.writable = false;
    return new checked.Ptr(a.base, a, u64);
  }

  it("is reported by every write path, and reads still work", () => {
    const ro = readOnly();
    const msg = "writing to alloc1 which is read-only";
    const src = checked.alloc_zeroed(u64);
    expect(ro.read()).toBe(0n);
    expectUB(host, () => ro.write(1n), "read-only", msg);
    expectUB(host, () => ro.write_unaligned(1n), "read-only", msg);
    expectUB(host, () => ro.write_volatile(1n), "read-only", msg);
    expectUB(host, () => ro.replace(1n), "read-only", msg);
    expectUB(host, () => ro.cast(Desc).write({ flags: 1, len: 1 }), "read-only", msg);
    expectUB(host, () => checked.copy(src, ro, 1), "read-only", msg);
    expectUB(host, () => checked.copy_nonoverlapping(src, ro, 1), "read-only", msg);
    expectUB(host, () => checked.write_bytes(ro, 0, 1), "read-only", msg);
    checked.copy(ro, src, 1); // reading from it is fine
    expect(provenanceOf(ro)!.isInit(0, 8)).toBe(true);
  });
});

describe("misaligned", () => {
  it("is reported for a packed field read as aligned, not unaligned", () => {
    const Hdr = struct("Hdr", { tag: u8, len: u32 }, { repr: "packed" });
    const h = checked.alloc_zeroed(array(u64, 1)).cast(Hdr);
    h.write({ tag: 1, len: 77 });
    expect(h.read()).toEqual({ tag: 1, len: 77 });
    expect(h.field("len").read_unaligned()).toBe(77);
    expectUB(host, () => h.field("len").read(), "misaligned", "accessing memory with alignment 1, but alignment 4 is required");
  });

  it("is reported for struct writes, copies and write_bytes", () => {
    const buf = checked.alloc_zeroed(array(u64, 4));
    const odd = buf.cast(u8).add(2);
    const msg = "accessing memory with alignment 2, but alignment 4 is required";
    expectUB(host, () => odd.cast(Desc).write({ flags: 0, len: 0 }), "misaligned", msg);
    expectUB(host, () => checked.copy(buf.cast(u32), odd.cast(u32), 1), "misaligned", msg);
    expectUB(host, () => checked.copy_nonoverlapping(odd.cast(u32), buf.cast(u32), 1), "misaligned", msg);
    expectUB(host, () => checked.write_bytes(odd.cast(u32), 0, 1), "misaligned", msg);
  });
});

describe("zero-sized allocations", () => {
  it("alloc, alloc_zeroed and realloc of 0 bytes are UB; Box of a ZST is fine", () => {
    const msg = "creating allocation with size 0";
    expectUB(host, () => checked.alloc(unit), "bad-dealloc", msg);
    expectUB(host, () => checked.alloc_zeroed(struct("Empty", {})), "bad-dealloc", msg);
    const p = checked.alloc(u32);
    expectUB(host, () => checked.realloc(p, u32, 0), "bad-dealloc", msg);
    host.reports.length = 0;
    const b = checked.Box.new(unit, undefined);
    expect(b.read()).toBeUndefined();
    b.drop();
    expect(host.reports).toEqual([]);
  });
});

describe("projections", () => {
  it("field and index are in-bounds offsets (no access)", () => {
    const Big = struct("Big", { a: u32, b: u32, c: u64 });
    const small = checked.alloc(u32).cast(Big);
    expect(small.field("b").addr()).toBe(small.addr() + 4); // one past the end: fine
    expectUB(
      host,
      () => small.field("c"),
      "out-of-bounds",
      "in-bounds pointer arithmetic failed: attempting to offset pointer by 8 bytes, but got alloc1 which is only 4 bytes from the end of the allocation",
    );
    const freed = checked.alloc(Big);
    checked.dealloc(freed, Big);
    expectUB(
      host,
      () => freed.field("b"),
      "use-after-free",
      "in-bounds pointer arithmetic failed: alloc2 has been freed, so this pointer is dangling",
    );
    expect(checked.null_mut(Big).field("a").is_null()).toBe(true); // offset 0: no check
    const arr = checked.alloc_zeroed(array(u16, 4));
    expect(arr.index(3).addr()).toBe(arr.addr() + 6);
    expect(arr.index(3).layout).toBe(u16);
  });

  it("reports fields and indexes the type does not have, as rustc would", () => {
    const d = checked.alloc(Desc);
    const r = expectUB(host, () => d.field("nope" as "len"), "unsupported", "no field `nope` on type `Desc`");
    expect(r.options.title).toBe("error[E0609]");
    expectUB(host, () => d.cast(u32).field("x" as never), "unsupported", "no field `x` on type `u32`");
    expectUB(host, () => (d as unknown as checked.Ptr<number[]>).index(0), "unsupported", "cannot index into a value of type `Desc`");
  });

  it("reports values that do not fit their layout", () => {
    const d = checked.alloc(Desc);
    const r = expectUB(host, () => d.write({ flags: 1 } as never), "unsupported", "missing field `len` in initializer of `Desc`");
    expect(r.options.title).toBe("error[E0063]");
    const s = checked.alloc(PageState);
    expectUB(host, () => s.write("Gone" as "Free"), "unsupported", "no variant named `Gone` found for enum `PageState`");
    const a = checked.alloc(array(u8, 2));
    expectUB(host, () => a.write([1]), "unsupported", "mismatched types: expected an array `[u8; 2]` with 2 elements, found one with 1 elements");
    const p = checked.alloc(ptr(u8));
    expectUB(host, () => p.write(5 as never), "unsupported", "mismatched types: expected a raw pointer, found number");
  });
});
