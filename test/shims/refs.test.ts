/**
 * References on a fake Machine: every way of making one checks the new reference's validity with
 * Miri's words and kinds; reads, writes, reborrows and projections work and are shown to the
 * borrow tracker with the right tags; atomics work on atomic layouts; the native twin computes the same.
 */
import { slotOfStatic } from "../../src/shims/checked/statics.js";
import { slotOfLocal } from "../../src/shims/checked/locals.js";
import { refTag } from "../../src/shims/checked/refs.js";
import { provenanceOf, tagOf } from "../../src/shims/checked/memory.js";
import { beforeEach, describe, expect, it } from "vitest";
import * as checked from "../../src/shims/checked/index.js";
import * as native from "../../src/shims/native/index.js";
import { resetNativeMemory } from "../../src/shims/native/memory.js";
import { AtomicU32, array, cell, struct, u16, u32, u64, u8 } from "../../src/interp/memory/layouts.js";
import { expectPanic, expectUB, freshHost, RecordingTracker, type FakeHost } from "./refs-host.js";

let host: FakeHost;
beforeEach(() => {
  host = freshHost();
});

const Pair = struct("Pair", { a: u32, b: u64 });
const Packed = struct("Packed", { tag: u8, value: u32 }, { repr: "packed" });

describe("validity of a new reference", () => {
  it("reports a null reference", () => {
    expectUB(host, () => checked.null_mut(u32).as_ref(), "invalid-value", "constructing invalid value of type &u32: encountered a null reference");
  });

  it("reports an unaligned reference, with the alignment found", () => {
    const p = checked.alloc_zeroed(u64);
    expectUB(
      host,
      () => p.cast(u32).byte_add(2).as_mut(),
      "misaligned",
      "constructing invalid value of type &mut u32: encountered an unaligned reference (required 4 byte alignment but found 2)",
    );
  });

  it("reports a dangling reference to freed memory, with the allocation's sites", () => {
    host.site = 3;
    const b = checked.Box.new(u32, 1);
    const p = checked.Box.into_raw(b);
    host.site = 4;
    checked.dealloc(p, u32);
    host.site = 5;
    const r = expectUB(host, () => p.as_ref(), "use-after-free", "constructing invalid value of type &u32: encountered a dangling reference (use-after-free)");
    const at = r.options.help!.filter((h) => h.location).map((h) => [h.message.replace(/\d+/, "N"), h.location!.line]);
    expect(at).toEqual([
      ["allocN was allocated here:", 3],
      ["allocN was deallocated here:", 4],
    ]);
  });

  it("reports a reference reaching beyond its allocation", () => {
    const p = checked.alloc_zeroed(u16);
    expectUB(
      host,
      () => p.cast(u32).as_ref(),
      "out-of-bounds",
      "constructing invalid value of type &u32: encountered a dangling reference (going beyond the bounds of its allocation)",
    );
  });

  it("reports a reference without provenance", () => {
    expectUB(
      host,
      () => checked.without_provenance(0x10, u32).as_ref(),
      "no-provenance",
      "constructing invalid value of type &u32: encountered a dangling reference (0x10[noalloc] has no provenance)",
    );
  });

  it("reports a mutable reference to read-only memory", () => {
    const s = checked.static_(u32, 7);
    expectUB(
      host,
      () => s.as_ptr().as_mut(),
      "read-only",
      "constructing invalid value of type &mut u32: encountered mutable reference pointing to read-only memory",
    );
    // A shared one is fine.
    expect(s.as_ptr().as_ref().read()).toBe(7);
  });

  it("checks a reborrow again: a reference kept past a free reborrows as dangling", () => {
    const b = checked.Box.new(u32, 1);
    const r = b.as_mut();
    b.drop();
    expectUB(host, () => r.reborrow_mut(), "use-after-free", "constructing invalid value of type &mut u32: encountered a dangling reference (use-after-free)");
    expectUB(host, () => r.reborrow(), "use-after-free", "constructing invalid value of type &u32: encountered a dangling reference (use-after-free)");
    expectUB(host, () => r.read(), "use-after-free", /.*/);
  });

  it("allows a zero-sized reference anywhere aligned, even without provenance", () => {
    const unit = checked.unit;
    expect(checked.without_provenance(0x10, unit).as_ref().read()).toBeUndefined();
  });

  it("reports a reference to a field of a packed struct that is not aligned (Miri's reference_to_packed)", () => {
    const p = checked.alloc_zeroed(Packed);
    const r = p.as_ref();
    expect(r.field("tag").read()).toBe(0);
    expectUB(
      host,
      () => r.field("value"),
      "misaligned",
      "constructing invalid value of type &u32: encountered an unaligned reference (required 4 byte alignment but found 1)",
    );
  });
});

describe("using references", () => {
  it("reads and writes through references without an unsafe region", () => {
    const b = checked.Box.new(u32, 1);
    host.unsafe = false;
    const m = b.as_mut();
    m.write(m.read() + 41);
    expect(b.as_ref().read()).toBe(42);
    expect(m.reborrow().read()).toBe(42);
    m.reborrow_mut().write(5);
    expect(b.read()).toBe(5);
    b.drop();
  });

  it("reborrow of a RefMut is shared; as_ptr and as_mut_ptr keep address and provenance", () => {
    const b = checked.Box.new(u32, 3);
    const m = b.as_mut();
    const s = m.reborrow();
    expect(s).toBeInstanceOf(checked.Ref);
    expect(s).not.toBeInstanceOf(checked.RefMut);
    const p = m.as_mut_ptr();
    expect(p.addr()).toBe(b.raw.addr());
    expect(provenanceOf(p)).toBe(provenanceOf(b.raw));
    expect(s.as_ptr().read()).toBe(3);
    b.drop();
  });

  it("projects struct fields (shared and unique) at their offsets", () => {
    const b = checked.Box.new(Pair, { a: 1, b: 2n });
    const r = b.as_mut();
    expect(r.field("a").read()).toBe(1);
    r.field_mut("b").write(40n);
    expect(r.read()).toEqual({ a: 1, b: 40n });
    expect(r.field("b").as_ptr().addr()).toBe(b.raw.addr() + 8);
    expectUB(host, () => r.field("c" as "a"), "unsupported", "no field `c` on type `Pair` (its fields: `a`, `b`)");
    expectUB(host, () => checked.Box.new(u32, 1).as_ref().field("x" as never), "unsupported", '`field("x")` on a reference to `u32`, which is not a struct');
    b.drop();
  });

  it("indexes arrays and panics out of bounds, as Rust's indexing does", () => {
    const A = array(u16, 3);
    const b = checked.Box.new(A, [1, 2, 3]);
    const r = b.as_mut();
    expect(r.index(2).read()).toBe(3);
    r.index_mut(0).write(9);
    expect(r.read()).toEqual([9, 2, 3]);
    expect(expectPanic(() => r.index(3))).toBe("index out of bounds: the len is 3 but the index is 3");
    expect(expectPanic(() => r.index_mut(-1))).toBe("index out of bounds: the len is 3 but the index is -1");
    b.drop();
  });

  it("get() on a cell gives a raw pointer to the contents; on anything else it is unsupported", () => {
    const C = cell(u32);
    const b = checked.Box.new(C, 5);
    const p = b.as_ref().get();
    expect(p.layout).toBe(u32);
    p.write(6);
    expect(b.read()).toBe(6);
    expectUB(
      host,
      () => checked.Box.new(u32, 1).as_ref().get(),
      "unsupported",
      "`get` is `UnsafeCell::get`, but this reference is to `u32`, not to a `cell(...)`; use `as_ptr()` for a raw pointer to any referent",
    );
    b.drop();
  });

  it("runs atomic operations on references to atomic layouts; on other layouts they are rustc's E0599", () => {
    const b = checked.Box.new(AtomicU32, 0);
    expect(b.as_ref().fetch_add(1, "SeqCst")).toBe(0);
    expect(b.as_ref().load("Relaxed")).toBe(1);
    const plain = checked.Box.new(u32, 0);
    const r2 = expectUB(host, () => plain.as_ref().load("Relaxed"), "unsupported", /.*/);
    expect(r2.message).toMatch(/^no method named `load` found for reference `&u32`/);
    b.drop();
    plain.drop();
  });

  it("Box.leak gives a &mut to memory that is no leak once a static reaches it", () => {
    const r = checked.Box.leak(checked.Box.new(u32, 8));
    r.write(r.read() + 1);
    expect(r.read()).toBe(9);
    checked.static_(checked.ptr(u32), r.as_mut_ptr());
    expect(host.memory.leaks()).toEqual([]);
  });

  it("Box.as_ref of a dropped box is a dangling reference", () => {
    const b = checked.Box.new(u32, 1);
    b.drop();
    expectUB(host, () => b.as_ref(), "use-after-free", "constructing invalid value of type &u32: encountered a dangling reference (use-after-free)");
  });

  it("Ptr.as_ref and Ptr.as_mut stay unsafe", () => {
    const p = checked.alloc_zeroed(u32);
    host.unsafe = false;
    expectUB(host, () => p.as_ref(), "unsafe-outside-unsafe", "call to unsafe function `Ptr::as_ref` is unsafe and requires unsafe block");
  });
});

describe("borrow-tracker hooks", () => {
  let tracker: RecordingTracker;
  beforeEach(() => {
    tracker = new RecordingTracker();
    host.borrowTracker = tracker;
  });

  it("retags on every creation and reborrow, deriving from the parent's tag", () => {
    const p = checked.alloc_zeroed(Pair); // the allocation's root tag (1) goes on the pointer
    expect(tagOf(p)).toBe(1);
    const m = p.as_mut(); // unique from the raw pointer's tag
    const f = m.field_mut("b"); // unique, from m
    const s = f.reborrow(); // shared, from f
    const raw = s.as_ptr(); // raw *const, from s
    expect(raw.addr()).toBe(p.addr() + 8);
    expect(tracker.events.map((e) => (e.hook === "retag" ? [e.kind, e.mutable, e.parent, e.offset, e.size, e.tag] : e.hook))).toEqual([
      "newAllocation",
      ["unique", true, 1, 0, 16, 2],
      ["unique", true, 2, 8, 8, 3],
      ["shared", false, 3, 8, 8, 4],
      ["raw", false, 4, 8, 8, 5],
    ]);
    expect([refTag(m), refTag(f), refTag(s), tagOf(raw)]).toEqual([2, 3, 4, 5]);
  });

  it("shows every access through a reference with its tag, after the basic checks", () => {
    const p = checked.alloc_zeroed(Pair);
    const m = p.as_mut();
    tracker.events.length = 0;
    m.field_mut("a").write(3);
    expect(m.field("a").read()).toBe(3);
    expect(tracker.events.filter((e) => e.hook === "access")).toEqual([
      { hook: "access", kind: "write", alloc: provenanceOf(p)!.id, tag: 3, offset: 0, size: 4 },
      { hook: "access", kind: "read", alloc: provenanceOf(p)!.id, tag: 4, offset: 0, size: 4 },
    ]);
  });

  it("resolves a wildcard pointer (from ptr_from_exposed) to the exposed allocation before retagging", () => {
    const p = checked.alloc_zeroed(Pair);
    const addr = p.expose_provenance() + 8;
    const r = checked.ptr_from_exposed(addr, u64).as_mut();
    r.write(5n);
    expect(p.read().b).toBe(5n);
    // The wildcard pointer carries no tag (0): the retag derives from a wildcard.
    expect(tracker.events.filter((e) => e.hook !== "access")).toEqual([
      { hook: "newAllocation", alloc: provenanceOf(p)!.id, tag: 1 },
      { hook: "retag", kind: "unique", mutable: true, parent: 0, offset: 8, size: 8, interior: null, tag: 2 },
    ]);
    expect(tracker.events.filter((e) => e.hook === "access")).toEqual([
      { hook: "access", kind: "write", alloc: provenanceOf(p)!.id, tag: 2, offset: 8, size: 8 }, // r.write
      { hook: "access", kind: "read", alloc: provenanceOf(p)!.id, tag: 1, offset: 0, size: 16 }, // p.read()
    ]);
  });

  it("passes the interior-mutable bytes of the pointee (a freeze-sensitive shared retag)", () => {
    const Lock = struct("Lock", { locked: cell(u8), owner: u32 });
    const b = checked.Box.new(Lock, { locked: 0, owner: 0 });
    b.as_ref();
    const e = tracker.events.at(-1)!;
    expect(e).toMatchObject({ hook: "retag", kind: "shared", interior: [0, 1] });
  });

  it("gives statics and locals a root tag and reports a local's death", () => {
    host.site = 9;
    const s = checked.static_(u32, 1);
    expect(tracker.events[0]).toEqual({ hook: "newAllocation", alloc: provenanceOf(slotOfStatic(s))!.id, tag: 1 });
    let id = 0;
    host.call(12, () => {
      const x = checked.local(u32, 1);
      id = provenanceOf(slotOfLocal(x))!.id;
      x.write(2);
    });
    expect(tracker.events.slice(1)).toEqual([
      { hook: "newAllocation", alloc: id, tag: 2 },
      { hook: "access", kind: "write", alloc: id, tag: 2, offset: 0, size: 4 },
      { hook: "deallocate", alloc: id, tag: 2, site: 12 },
    ]);
  });
});

describe("the native twin", () => {
  it("computes the same values through references, projections and statics", () => {
    const run = (rt: typeof checked | typeof native) => {
      const log: unknown[] = [];
      const b = rt.Box.new(Pair, { a: 1, b: 2n });
      const r = b.as_mut();
      r.field_mut("a").write(r.field("a").read() + 10);
      log.push(r.read(), r.reborrow().field("b").read());
      const arr = rt.Box.new(array(u16, 3), [1, 2, 3]);
      const ar = arr.as_mut();
      ar.index_mut(1).write(ar.index(2).read() * 10);
      log.push(ar.read(), ar.as_mut_ptr().addr() === arr.raw.addr());
      const c = rt.Box.new(cell(u32), 4);
      c.as_ref().get().write(5);
      log.push(c.read());
      const s = rt.static_(u32, 3, { mut: true });
      s.as_mut().write(s.as_ref().read() + 1);
      log.push(s.read(), rt.Box.leak(rt.Box.new(u32, 6)).read());
      b.drop();
      arr.drop();
      c.drop();
      return log;
    };
    resetNativeMemory();
    expect(run(native)).toEqual(run(checked));
  });

  it("panics with the same message on an index out of bounds", () => {
    resetNativeMemory();
    const b = native.Box.new(array(u8, 2), [0, 0]);
    expect(() => b.as_ref().index(2)).toThrow("index out of bounds: the len is 2 but the index is 2");
  });
});
