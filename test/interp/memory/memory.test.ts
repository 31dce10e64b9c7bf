/**
 * The memory model and the memory shims, run against a fake Machine (a `ShimHost` that records
 * reports): every check reports the right kind with Miri's words, clean operations report nothing,
 * and the native twin computes the same values as the checked runtime.
 */
import { refPtr } from "../../../src/shims/checked/refs.js";
import { provenanceOf } from "../../../src/shims/checked/memory.js";
import { beforeEach, describe, expect, it } from "vitest";
import { UBStop, type UBKind } from "../../../src/interp/report.js";
import { setCurrent } from "../../../src/shims/checked/context.js";
import { Memory } from "../../../src/interp/memory/memory.js";
import { FakeHost, GENERIC_HELP, helps, type Recorded } from "../../fixtures/memory/fake-host.js";
import * as checked from "../../../src/shims/checked/memory.js";
import * as native from "../../../src/shims/native/memory.js";
import { bool, char, f32, f64, i16, i32, i64, i8, isize, u16, u32, u64, u8, unit, usize, type Layout } from "../../../src/interp/memory/layouts.js";

let host: FakeHost;
beforeEach(() => {
  host = new FakeHost();
  setCurrent(host);
});

/** Runs `f`, expects it to stop with one report of `kind` and `message`; returns the report. */
function expectUB(f: () => unknown, kind: UBKind, message: string): Recorded {
  expect(f).toThrow(UBStop);
  expect(host.reports).toHaveLength(1);
  const r = host.reports[0]!;
  expect({ kind: r.kind, message: r.message }).toEqual({ kind, message });
  return r;
}

describe("layouts", () => {
  it("have Rust's names, sizes and alignments", () => {
    const table = [u8, u16, u32, u64, usize, i8, i16, i32, i64, isize, f32, f64, bool, char, unit].map((l) => [
      l.name,
      l.size,
      l.align,
    ]);
    expect(table).toEqual([
      ["u8", 1, 1], ["u16", 2, 2], ["u32", 4, 4], ["u64", 8, 8], ["usize", 8, 8],
      ["i8", 1, 1], ["i16", 2, 2], ["i32", 4, 4], ["i64", 8, 8], ["isize", 8, 8],
      ["f32", 4, 4], ["f64", 8, 8], ["bool", 1, 1], ["char", 4, 4], ["()", 0, 1],
    ]);
  });

  it("round-trip values little-endian", () => {
    const view = new DataView(new ArrayBuffer(8));
    const roundTrip = <T>(l: Layout<T>, v: T): T => {
      l.encode(view, 0, v);
      return l.decode(view, 0);
    };
    expect(roundTrip(usize, 2 ** 53 - 1)).toBe(2 ** 53 - 1);
    expect(roundTrip(isize, -(2 ** 40) - 3)).toBe(-(2 ** 40) - 3);
    expect(roundTrip(isize, -1)).toBe(-1);
    expect(roundTrip(u64, 2n ** 64n - 1n)).toBe(2n ** 64n - 1n);
    expect(roundTrip(i64, -5n)).toBe(-5n);
    expect(roundTrip(i8, -128)).toBe(-128);
    expect(roundTrip(f32, 1.5)).toBe(1.5);
    expect(roundTrip(char, "🦀")).toBe("🦀");
    expect(roundTrip(bool, true)).toBe(true);
    u32.encode(view, 0, 0x11223344);
    expect(view.getUint8(0)).toBe(0x44);
    expect(bool.invalid!(new DataView(new Uint8Array([2]).buffer), 0)).toBe("encountered 0x02, but expected a boolean");
    expect(u32.invalid).toBeNull();
  });
});

describe("memory", () => {
  it("places allocations aligned, apart, and finds them by address", () => {
    const m = host.memory;
    const a = m.allocate(4, 4, "heap", 1);
    const b = m.allocate(8, 4096, "heap", 1);
    const c = m.allocate(0, 1, "heap", 1);
    expect([a.name, b.name, c.name]).toEqual(["alloc1", "alloc2", "alloc3"]);
    expect(b.base % 4096).toBe(0);
    expect(b.base).toBeGreaterThanOrEqual(a.base + a.size + 16);
    expect(c.base).toBeGreaterThan(b.base + b.size);
    expect(m.findByAddress(b.base + 3)).toBe(b);
    expect(m.findByAddress(a.base + 4)).toBe(a);
    expect(m.findByAddress(a.base + 5)).toBeUndefined();
    expect(m.get(2)).toBe(b);
  });

  it("reports leaks of live heap blocks only", () => {
    const m = host.memory;
    const kept = checked.Box.new(u32, 1);
    checked.Box.new(u32, 2).drop();
    // As in Miri, Box::leak exempts nothing: only reachability from a static does.
    const leaked = checked.Box.leak(checked.Box.new(u32, 3));
    m.allocate(4, 4, "static", 1);
    expect(m.leaks().map((a) => a.name)).toEqual([provenanceOf(kept.raw)!.name, provenanceOf(refPtr(leaked))!.name]);
    expect(m.inUse).toBe(12);
  });

  it("forgets freed allocations in batches, keeping lookups of live ones", () => {
    const m = host.memory;
    const keep = checked.Box.new(u32, 42);
    for (let i = 0; i < 5000; i++) checked.Box.new(u64, BigInt(i)).drop();
    const last = checked.Box.new(u32, 43);
    expect(m.count).toBe(5002);
    expect(m.live().map((a) => a.id)).toEqual([1, 5002]);
    expect(m.get(1)).toBe(provenanceOf(keep.raw));
    expect(m.get(5002)).toBe(provenanceOf(last.raw));
    expect(m.get(17)).toBeUndefined();
    expect(m.findByAddress(last.raw.addr() + 2)).toBe(provenanceOf(last.raw));
    expect(keep.read() + last.read()).toBe(85);
  });

  it("can report through a host of its own (as a library)", () => {
    const m = new Memory({
      limit: 4,
      host: {
        currentSite: () => -1,
        siteLocation: () => ({ file: "x", line: 0, column: 0 }),
        report: (kind, message) => {
          throw new Error(`${kind}: ${message}`);
        },
      },
    });
    expect(() => m.allocate(8, 8, "heap", -1)).toThrow("resource-exhaustion: tried to allocate 8 bytes");
  });

  it("stops at the memory limit with resource exhaustion", () => {
    host = new FakeHost({ limit: 16 });
    setCurrent(host);
    checked.alloc(u64);
    checked.alloc(u64);
    const r = expectUB(
      () => checked.alloc(u64),
      "resource-exhaustion",
      "tried to allocate 8 bytes, but only 0 of the memory limit of 16 bytes are free",
    );
    expect(r.options.title).toBe("resource exhaustion");
  });
});

describe("clean operations", () => {
  it("read, write, replace, arithmetic and Box report nothing", () => {
    const p = checked.alloc(u64).cast(u32);
    p.write(1);
    p.add(1).write(2);
    expect(p.read() + p.add(1).read()).toBe(3);
    expect(p.add(2).offset_from(p)).toBe(2); // one past the end is a valid pointer
    expect(p.replace(7)).toBe(1);
    expect(p.byte_add(1).read_unaligned()).toBe(0x02000000);
    expect(p.cast(u64).read()).toBe(7n + (2n << 32n));
    const z = checked.alloc_zeroed(f64);
    expect(z.read()).toBe(0);
    const b = checked.Box.new(u16, 0xbeef);
    b.write(b.read() + 1);
    expect(b.read()).toBe(0xbef0);
    b.drop();
    checked.dealloc(p.cast(u64), u64);
    expect(checked.null_mut(u32).add(0).is_null()).toBe(true);
    expect(checked.null_mut(unit).read()).toBeUndefined(); // zero-sized: any pointer will do
    expect(host.reports).toEqual([]);
    expect(host.memory.leaks()).toEqual([provenanceOf(z)]);
  });

  it("safe operations need no unsafe region", () => {
    host.unsafe = false;
    const b = checked.Box.new(i32, -3);
    b.write(b.read() * 2);
    const r = b.as_mut();
    r.write(r.read() + 1);
    const p = checked.Box.into_raw(b);
    expect(p.wrapping_add(100).wrapping_sub(100).addr()).toBe(p.addr());
    expect(p.is_aligned()).toBe(true);
    expect(checked.Box.leak(checked.Box.new(bool, true)).read()).toBe(true);
    expect(r.read()).toBe(-5);
    expect(host.reports).toEqual([]);
  });

  it("exposed provenance can be recovered, unexposed cannot", () => {
    const p = checked.Box.into_raw(checked.Box.new(u32, 9));
    const q = checked.Box.into_raw(checked.Box.new(u32, 10));
    const addr = p.expose_provenance();
    expect(checked.ptr_from_exposed(addr, u32).read()).toBe(9);
    expectUB(
      () => checked.ptr_from_exposed(q.addr(), u32).read(),
      "no-provenance",
      `memory access failed: attempting to access 4 bytes, but got 0x${q.addr().toString(16)}[noalloc] which is a dangling pointer (it has no provenance)`,
    );
  });
});

describe("use after free", () => {
  it("reports a read through a dangling pointer, with where it was allocated and freed", () => {
    host.site = 10;
    const b = checked.Box.new(u32, 5);
    const p = checked.Box.into_raw(checked.Box.from_raw(b.raw));
    host.site = 20;
    b.drop();
    host.site = 30;
    const r = expectUB(() => p.read(), "use-after-free", "memory access failed: alloc1 has been freed, so this pointer is dangling");
    expect(helps(r)).toEqual([...GENERIC_HELP, "alloc1 was allocated here:", "alloc1 was deallocated here:"]);
    expect(r.options.help!.slice(2).map((h) => h.location?.line)).toEqual([10, 20]);
  });

  it("reports arithmetic on a freed pointer", () => {
    const p = checked.alloc_zeroed(u32);
    checked.dealloc(p, u32);
    expectUB(() => p.add(1), "use-after-free", "in-bounds pointer arithmetic failed: alloc1 has been freed, so this pointer is dangling");
  });

  it("reports a write through a reference to a freed box", () => {
    const b = checked.Box.new(u8, 1);
    const r = b.as_mut();
    b.drop();
    expectUB(() => r.write(2), "use-after-free", "memory access failed: alloc1 has been freed, so this pointer is dangling");
  });
});

describe("out of bounds", () => {
  it("reports an access at the end of the allocation", () => {
    const p = checked.alloc_zeroed(u64).cast(u32);
    const r = expectUB(
      () => p.add(2).read(),
      "out-of-bounds",
      "memory access failed: attempting to access 4 bytes, but got alloc1+0x8 which is at or beyond the end of the allocation of size 8 bytes",
    );
    expect(helps(r)).toContain("alloc1 was allocated here:");
  });

  it("reports an access straddling the end", () => {
    const p = checked.alloc_zeroed(u64).cast(u32);
    expectUB(
      () => p.byte_add(6).write_unaligned(1),
      "out-of-bounds",
      "memory access failed: attempting to access 4 bytes, but got alloc1+0x6 which is only 2 bytes from the end of the allocation",
    );
  });

  it("reports an access before the beginning", () => {
    const p = checked.alloc_zeroed(u32);
    expectUB(
      () => p.wrapping_sub(1).read(),
      "out-of-bounds",
      "memory access failed: attempting to access 4 bytes, but got alloc1-0x4 which points to before the beginning of the allocation",
    );
  });

  it("reports in-bounds pointer arithmetic leaving the allocation, forwards and backwards", () => {
    const p = checked.alloc_zeroed(u32);
    expectUB(
      () => p.add(2),
      "out-of-bounds",
      "in-bounds pointer arithmetic failed: attempting to offset pointer by 8 bytes, but got alloc1 which is only 4 bytes from the end of the allocation",
    );
    host.reports.length = 0;
    expectUB(
      () => p.sub(1),
      "out-of-bounds",
      "in-bounds pointer arithmetic failed: attempting to offset pointer by -4 bytes, but got alloc1 which is at the beginning of the allocation",
    );
    host.reports.length = 0;
    expectUB(
      () => p.byte_add(4).byte_add(1),
      "out-of-bounds",
      "in-bounds pointer arithmetic failed: attempting to offset pointer by 1 byte, but got alloc1+0x4 which is at or beyond the end of the allocation of size 4 bytes",
    );
  });

  it("reports offset_from across allocations", () => {
    const p = checked.alloc_zeroed(u32);
    const q = checked.alloc_zeroed(u32);
    expectUB(
      () => q.offset_from(p),
      "out-of-bounds",
      "`ptr_offset_from` called on two different pointers that are not both derived from the same allocation",
    );
  });
});

describe("null and provenance-less pointers", () => {
  it("reports a null dereference", () => {
    expectUB(
      () => checked.null_mut(u32).read(),
      "null-pointer",
      "memory access failed: attempting to access 4 bytes, but got null pointer",
    );
  });

  it("reports arithmetic on null", () => {
    expectUB(
      () => checked.null_mut(u32).add(1),
      "null-pointer",
      "in-bounds pointer arithmetic failed: attempting to offset pointer by 4 bytes, but got null pointer",
    );
  });

  it("reports an access through a pointer without provenance", () => {
    const r = expectUB(
      () => checked.without_provenance(0x2c, u32).write(1),
      "no-provenance",
      "memory access failed: attempting to access 4 bytes, but got 0x2c[noalloc] which is a dangling pointer (it has no provenance)",
    );
    expect(helps(r)).toEqual(GENERIC_HELP);
  });

  it("reports an access through an integer that happens to be a valid address", () => {
    const p = checked.alloc_zeroed(u32);
    expectUB(
      () => checked.without_provenance(p.addr(), u32).read(),
      "no-provenance",
      `memory access failed: attempting to access 4 bytes, but got 0x${p.addr().toString(16)}[noalloc] which is a dangling pointer (it has no provenance)`,
    );
  });

  it("reports references that may not be made", () => {
    expectUB(
      () => checked.null_mut(u32).as_ref(),
      "invalid-value",
      "constructing invalid value of type &u32: encountered a null reference",
    );
    host.reports.length = 0;
    const b = checked.Box.new(u32, 1);
    b.drop();
    expectUB(
      () => b.raw.as_mut(),
      "use-after-free",
      "constructing invalid value of type &mut u32: encountered a dangling reference (use-after-free)",
    );
  });
});

describe("alignment", () => {
  it("reports a misaligned read and allows read_unaligned", () => {
    const p = checked.alloc_zeroed(u64).cast(u32).byte_add(2);
    expect(p.read_unaligned()).toBe(0);
    expect(p.is_aligned()).toBe(false);
    expectUB(() => p.read(), "misaligned", "accessing memory with alignment 2, but alignment 4 is required");
  });

  it("reports a misaligned write and volatile access", () => {
    const p = checked.alloc_zeroed(u64).byte_add(1).cast(u16);
    expectUB(() => p.write_volatile(1), "misaligned", "accessing memory with alignment 1, but alignment 2 is required");
  });
});

describe("uninitialised memory", () => {
  it("reports reading fresh `alloc` memory, with a dump", () => {
    const p = checked.alloc(u32);
    const r = expectUB(
      () => p.read(),
      "uninit",
      "reading memory at alloc1[0x0..0x4], but memory is uninitialized at [0x0..0x4], and this operation requires initialized memory",
    );
    expect(r.options.notes?.[0]).toBe("Uninitialized memory occurred at alloc1[0x0..0x4], in this allocation:");
    expect(r.options.notes?.[1]).toBe("alloc1 (Rust heap, size: 4, align: 4) {");
    expect(r.options.notes?.[2]).toContain("__ __ __ __");
  });

  it("reports the uninitialised part of a partly written value", () => {
    const p = checked.alloc(u64);
    p.cast(u16).write(1);
    expectUB(
      () => p.cast(u32).read(),
      "uninit",
      "reading memory at alloc1[0x0..0x4], but memory is uninitialized at [0x2..0x4], and this operation requires initialized memory",
    );
  });

  it("tracks init through copies and realloc; drops the mask once full", () => {
    const p = checked.alloc(u32);
    p.write(0x01020304);
    expect(provenanceOf(p)!.init).toBeNull();
    const q = checked.realloc(p, u32, 8);
    expect(q.read()).toBe(0x01020304);
    expectUB(() => q.add(1).read(), "uninit", "reading memory at alloc2[0x4..0x8], but memory is uninitialized at [0x4..0x8], and this operation requires initialized memory");
    host.reports.length = 0;
    expectUB(() => p.read(), "use-after-free", "memory access failed: alloc1 has been freed, so this pointer is dangling");
  });
});

describe("invalid values", () => {
  it("reports a bool that is neither 0 nor 1", () => {
    const p = checked.alloc(u8);
    p.write(2);
    expectUB(() => p.cast(bool).read(), "invalid-value", "constructing invalid value of type bool: encountered 0x02, but expected a boolean");
  });

  it("reports a char that is a surrogate", () => {
    const p = checked.alloc(u32);
    p.write(0xd800);
    expectUB(
      () => p.cast(char).read(),
      "invalid-value",
      "constructing invalid value of type char: encountered 0x0000d800, but expected a valid unicode scalar value (in `0..=0x10FFFF` but not in `0xD800..=0xDFFF`)",
    );
  });
});

describe("deallocation", () => {
  it("reports a double free", () => {
    const p = checked.alloc(u32);
    checked.dealloc(p, u32);
    const r = expectUB(() => checked.dealloc(p, u32), "double-free", "memory access failed: alloc1 has been freed, so this pointer is dangling");
    expect(helps(r)).toContain("alloc1 was deallocated here:");
  });

  it("reports dropping a box twice", () => {
    const b = checked.Box.new(u64, 1n);
    b.drop();
    expectUB(() => b.drop(), "double-free", "memory access failed: alloc1 has been freed, so this pointer is dangling");
  });

  it("reports a deallocation with the wrong layout", () => {
    const p = checked.alloc(u32);
    expectUB(
      () => checked.dealloc(p.cast(u64), u64),
      "bad-dealloc",
      "incorrect layout on deallocation: alloc1 has size 4 and alignment 4, but gave size 8 and alignment 8",
    );
  });

  it("reports a deallocation not at the start of the block", () => {
    const p = checked.alloc(u64).cast(u32);
    expectUB(
      () => checked.dealloc(p.add(1), u32),
      "bad-dealloc",
      "deallocating alloc1+0x4 which does not point to the beginning of an object",
    );
  });

  it("reports freeing memory that is not heap", () => {
    const a = host.memory.allocate(4, 4, "stack", 1);
    const p = checked.without_provenance(0, u32).with_addr(a.base);
    expectUB(() => checked.dealloc(p, u32), "no-provenance", `pointer not dereferenceable: pointer must point to some allocation, but got 0x${a.base.toString(16)}[noalloc] which is a dangling pointer (it has no provenance)`);
    host.reports.length = 0;
    const q = new checked.Ptr(a.base, a, u32);
    expectUB(
      () => checked.dealloc(q, u32),
      "bad-dealloc",
      "deallocating alloc1, which is stack variable memory, using Rust heap deallocation operation",
    );
  });

  it("reports freeing null", () => {
    expectUB(
      () => checked.dealloc(checked.null_mut(u32), u32),
      "null-pointer",
      "pointer not dereferenceable: pointer must point to some allocation, but got null pointer",
    );
  });
});

describe("bulk operations", () => {
  it("copy, copy_nonoverlapping and write_bytes move bytes and init state", () => {
    const src = checked.alloc(u64).cast(u16);
    src.write(0xabcd);
    const dst = checked.alloc(u64).cast(u16);
    checked.copy_nonoverlapping(src, dst, 2); // the second u16 is uninitialised, and so stays
    expect(dst.read()).toBe(0xabcd);
    checked.write_bytes(dst.add(2), 0xff, 2);
    expect(dst.cast(u32).add(1).read()).toBe(0xffffffff);
    checked.copy(dst, dst.add(1), 3); // overlapping is fine for copy
    expect(dst.add(1).read()).toBe(0xabcd);
    expect(host.reports).toEqual([]);
    expectUB(() => dst.add(2).read(), "uninit", "reading memory at alloc2[0x4..0x6], but memory is uninitialized at [0x4..0x6], and this operation requires initialized memory");
  });

  it("reports overlapping copy_nonoverlapping", () => {
    const p = checked.alloc_zeroed(u64).cast(u16);
    expectUB(() => checked.copy_nonoverlapping(p, p.add(1), 2), "overlapping-copy", "`copy_nonoverlapping` called on overlapping ranges");
  });

  it("transmutes scalars and checks the result", () => {
    expect(checked.transmute(1.0, f32, u32)).toBe(0x3f800000);
    expectUB(() => checked.transmute(3, u8, bool), "invalid-value", "constructing invalid value of type bool: encountered 0x03, but expected a boolean");
  });
});

describe("read-only memory", () => {
  it("reports a write to it", () => {
    const a = host.memory.allocate(4, 4, "static", 1, true);
    a.writable = false;
    const p = new checked.Ptr(a.base, a, u32);
    expect(p.read()).toBe(0);
    expectUB(() => p.write(1), "read-only", "writing to alloc1 which is read-only");
  });
});

describe("unsafe outside unsafe", () => {
  it("reports unsafe calls outside an unsafe region, as rustc's E0133", () => {
    const p = checked.Box.into_raw(checked.Box.new(u32, 1));
    host.unsafe = false;
    const r = expectUB(() => p.read(), "unsafe-outside-unsafe", "call to unsafe function `Ptr::read` is unsafe and requires unsafe block");
    expect(r.options.title).toBe("error[E0133]");
    expect(helps(r)).toEqual(['wrap the call in an `unsafe: { ... }` block, or mark the enclosing function `"unsafe";`']);
  });

  it("covers every UNSAFE call of the memory API", () => {
    const p = checked.Box.into_raw(checked.Box.new(u32, 1));
    const calls: [string, () => unknown][] = [
      ["Ptr::add", () => p.add(0)],
      ["Ptr::sub", () => p.sub(0)],
      ["Ptr::offset", () => p.offset(0)],
      ["Ptr::byte_add", () => p.byte_add(0)],
      ["Ptr::byte_sub", () => p.byte_sub(0)],
      ["Ptr::offset_from", () => p.offset_from(p)],
      ["Ptr::field", () => p.field("x")],
      ["Ptr::index", () => p.index(0)],
      ["Ptr::write", () => p.write(1)],
      ["Ptr::read_unaligned", () => p.read_unaligned()],
      ["Ptr::write_unaligned", () => p.write_unaligned(1)],
      ["Ptr::read_volatile", () => p.read_volatile()],
      ["Ptr::write_volatile", () => p.write_volatile(1)],
      ["Ptr::replace", () => p.replace(1)],
      ["Ptr::as_ref", () => p.as_ref()],
      ["Ptr::as_mut", () => p.as_mut()],
      ["alloc", () => checked.alloc(u32)],
      ["alloc_zeroed", () => checked.alloc_zeroed(u32)],
      ["dealloc", () => checked.dealloc(p, u32)],
      ["realloc", () => checked.realloc(p, u32, 8)],
      ["copy", () => checked.copy(p, p, 0)],
      ["copy_nonoverlapping", () => checked.copy_nonoverlapping(p, p, 0)],
      ["write_bytes", () => checked.write_bytes(p, 0, 0)],
      ["transmute", () => checked.transmute(1, u32, f32)],
      ["Box::from_raw", () => checked.Box.from_raw(p)],
    ];
    host.unsafe = false;
    for (const [name, call] of calls) {
      host.reports.length = 0;
      expectUB(call, "unsafe-outside-unsafe", `call to unsafe function \`${name}\` is unsafe and requires unsafe block`);
    }
  });
});

describe("native twin", () => {
  /** The memory API both runtimes share, as a program sees it. */
  type Rt = typeof checked | typeof native;

  /** A program that logs what it computes: the same log is expected from both runtimes. */
  function program(rt: Rt): unknown[] {
    const log: unknown[] = [];
    const b = rt.Box.new(u64, 0x1122334455667788n);
    const p = rt.Box.into_raw(b).cast(u32);
    log.push(p.addr(), p.read().toString(16), p.add(1).read().toString(16));
    p.add(1).write(0xdeadbeef);
    log.push(p.cast(u64).read().toString(16), p.byte_add(1).cast(u8).read(), p.cast(i8).read());
    const q = rt.alloc_zeroed(usize);
    q.write(2 ** 52 + 7);
    log.push(q.addr(), q.read(), q.cast(isize).read(), q.replace(5), q.read());
    const r = rt.realloc(q, usize, 16);
    r.add(1).write(9);
    log.push(r.addr(), r.read(), r.add(1).read(), r.add(2).offset_from(r));
    const c = rt.alloc(char);
    c.write("é");
    log.push(c.read(), c.cast(u32).read());
    rt.copy_nonoverlapping(r.cast(u8), c.cast(u8), 4);
    log.push(c.cast(u32).read());
    rt.write_bytes(r.cast(u16), 0xab, 3);
    log.push(r.cast(u64).read().toString(16), rt.transmute(-1, i32, u32), rt.transmute(1, f32, u32));
    const f = rt.Box.new(f64, Math.PI);
    log.push(f.read(), f.as_ref().read(), rt.Box.leak(f).read());
    const e = rt.ptr_from_exposed(p.expose_provenance(), u32);
    log.push(e.read(), e.is_aligned(), e.byte_add(2).is_aligned(), rt.null_mut(u8).is_null());
    rt.dealloc(p.cast(u64), u64);
    // `r` (16 bytes) stays: freeing it needs an `array` layout, which comes with the next issue.
    for (let i = 0; i < 1000; i++) rt.Box.new(u16, i).drop(); // bump addresses alike
    log.push(rt.Box.new(bool, true).raw.addr());
    return log;
  }

  it("computes the same values, at the same addresses", () => {
    native.resetNativeMemory();
    const fromNative = program(native);
    const fromChecked = program(checked);
    expect(host.reports).toEqual([]);
    expect(fromNative).toEqual(fromChecked);
  });
});
