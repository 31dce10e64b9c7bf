/**
 * Provenance in memory: a pointer stored keeps its provenance, reading it as integers drops it, a
 * partial overwrite destroys it, copies carry it; wildcard pointers from `ptr_from_exposed`
 * resolve at each access to an exposed live allocation (one warning per run; `unsupported` under
 * strict provenance); memory reachable from a static through stored pointers is no leak.
 */
import { refPtr } from "../../../src/shims/checked/refs.js";
import { provenanceOf } from "../../../src/shims/checked/memory.js";
import { beforeEach, describe, expect, it } from "vitest";
import { WILDCARD } from "../../../src/interp/memory/allocation.js";
import * as checked from "../../../src/shims/checked/memory.js";
import { array, ptr, struct, u32, u64, u8, usize, type Layout } from "../../../src/interp/memory/layouts.js";
import { expectUB, freshHost, helps, type FakeHost } from "../../fixtures/memory/fake-host.js";

let host: FakeHost;
beforeEach(() => {
  host = freshHost();
});

/** `0x…` of an address. */
const hex = (n: number) => `0x${n.toString(16)}`;

/** Miri's message for an access through a pointer without provenance. */
const noProvenance = (addr: number, bytes = 4) =>
  `memory access failed: attempting to access ${bytes} bytes, but got ${hex(addr)}[noalloc] which is a dangling pointer (it has no provenance)`;

/** A boxed `u32` holding `v`, as a raw pointer. */
function boxed(v: number): checked.Ptr<number> {
  return checked.Box.into_raw(checked.Box.new(u32, v));
}

describe("pointers stored in memory", () => {
  it("read back as pointers with their provenance", () => {
    const target = boxed(7);
    const slot = checked.alloc(ptr(u32));
    slot.write(target);
    const back = slot.read();
    expect(back).toBeInstanceOf(checked.Ptr);
    expect(provenanceOf(back)).toBe(provenanceOf(target));
    expect([back.addr(), back.layout]).toEqual([target.addr(), u32]);
    expect(back.read()).toBe(7);
    expect(provenanceOf(slot)!.ptrs!.size).toBe(1);
  });

  it("cost nothing where no pointer was ever stored", () => {
    const p = checked.alloc(u64);
    p.write(5n);
    expect(provenanceOf(p)!.ptrs).toBeNull();
  });

  it("read as integers give the address, without provenance", () => {
    const target = boxed(7);
    const slot = checked.alloc(ptr(u32));
    slot.write(target);
    expect(slot.cast(usize).read()).toBe(target.addr());
    expect(slot.cast(u32).read()).toBe(target.addr() % 2 ** 32);
    const forged = checked.without_provenance(slot.cast(usize).read(), u32);
    expectUB(host, () => forged.read(), "no-provenance", noProvenance(target.addr()));
    // Reading the integer did not destroy the stored pointer.
    expect(slot.read().read()).toBe(7);
  });

  it("lose their provenance when partly overwritten (all 8 bytes)", () => {
    const target = boxed(7);
    const slot = checked.alloc(ptr(u32));
    slot.write(target);
    slot.cast(u8).add(7).write(0); // the address does not change
    const p = slot.read();
    expect(p.addr()).toBe(target.addr());
    expect(provenanceOf(p)).toBeNull();
    expectUB(host, () => p.read(), "no-provenance", noProvenance(target.addr()));
  });

  it("lose their provenance when overwritten by an integer, even the same address", () => {
    const target = boxed(7);
    const slot = checked.alloc(ptr(u32));
    slot.write(target);
    slot.cast(usize).write(target.addr());
    expectUB(host, () => slot.read().read(), "no-provenance", noProvenance(target.addr()));
  });

  it("keep their provenance when the bytes next to them are written", () => {
    const Node = struct("Node", { next: ptr(u32), v: u32 });
    const n = checked.alloc(Node);
    const target = boxed(9);
    n.write({ next: target, v: 1 });
    n.field("v").write(2);
    expect(n.read().next.read()).toBe(9);
    expect(n.read().v).toBe(2);
  });

  it("are carried by copy, copy_nonoverlapping and realloc", () => {
    const target = boxed(3);
    const a = checked.alloc(array(ptr(u32), 2));
    a.index(1).write(target);
    a.index(0).write(checked.null_mut(u32));
    const b = checked.alloc(array(ptr(u32), 2));
    checked.copy_nonoverlapping(a.cast(u8), b.cast(u8), 16);
    expect(b.index(1).read().read()).toBe(3);
    expect(b.index(0).read().is_null()).toBe(true);
    checked.copy(b.index(1), b.index(0), 1); // within one allocation
    expect(b.index(0).read().read()).toBe(3);
    const c = checked.realloc(b, array(ptr(u32), 2), 32).cast(array(ptr(u32), 4));
    expect(c.index(0).read().read()).toBe(3);
    expect(provenanceOf(c.index(1).read())).toBe(provenanceOf(target));
  });

  it("are tracked one by one in a large table of pointers", () => {
    const N = 64;
    const targets = Array.from({ length: N }, (_, i) => boxed(i));
    const table = checked.alloc(array(ptr(u32), N));
    for (let i = 0; i < N; i++) table.index(i).write(targets[i]!);
    checked.copy(table.index(10), table.index(11), 1);
    table.index(20).cast(u32).add(1).write(0); // half of entry 20
    checked.copy_nonoverlapping(table.index(30).cast(u8).add(4), table.index(40).cast(u8).add(4), 8); // straddles 30|31 → 40|41
    const read = (i: number) => table.index(i).read();
    expect([read(10).read(), read(11).read(), read(12).read()]).toEqual([10, 10, 12]);
    expect(provenanceOf(read(20))).toBeNull();
    expect([read(19).read(), read(21).read()]).toEqual([19, 21]);
    expect([provenanceOf(read(40)), provenanceOf(read(41))]).toEqual([null, null]);
    expect(provenanceOf(table)!.ptrs!.size).toBe(N - 3);
    const copy = checked.alloc(array(ptr(u32), N));
    checked.copy_nonoverlapping(table, copy, 1);
    expect(copy.index(63).read().read()).toBe(63);
  });

  it("are lost by a copy byte by byte through integers (a typed u8 loop), as in Miri", () => {
    const target = boxed(3);
    const a = checked.alloc(ptr(u32));
    a.write(target);
    const c = checked.alloc(ptr(u32));
    for (let i = 0; i < 8; i++) c.cast(u8).add(i).write(a.cast(u8).add(i).read());
    expect(c.read().addr()).toBe(target.addr());
    expect(provenanceOf(c)!.ptrs).toBeNull();
    expectUB(host, () => c.read().read(), "no-provenance", noProvenance(target.addr()));
  });
  it("are destroyed by write_bytes", () => {
    const slot = checked.alloc(ptr(u32));
    slot.write(boxed(1));
    checked.write_bytes(slot.cast(u8), 0, 8);
    expect(slot.read().is_null()).toBe(true);
    expect(provenanceOf(slot)!.ptrs!.size).toBe(0);
  });

  it("keep their provenance through a transmute to a layout with a pointer at the same offset", () => {
    const target = boxed(4);
    const A = struct("A", { p: ptr(u32), n: u32 });
    const B = struct("B", { q: ptr(u32), m: u32 });
    const v = checked.transmute({ p: target, n: 1 }, A, B);
    expect(v.q.read()).toBe(4);
    const addr = checked.transmute(target, ptr(u32), usize);
    expect(addr).toBe(target.addr());
    const back = checked.transmute(addr, usize, ptr(u32));
    expectUB(host, () => back.read(), "no-provenance", noProvenance(target.addr()));
  });

  it("may be stored unaligned (write_unaligned) and read back", () => {
    const target = boxed(8);
    const buf = checked.alloc_zeroed(array(u8, 16));
    const slot = buf.cast(u8).add(3).cast(ptr(u32));
    slot.write_unaligned(target);
    expect(slot.read_unaligned().read()).toBe(8);
    buf.cast(u8).add(10).write(1); // overlaps the stored pointer (bytes 3..11)
    expect(provenanceOf(slot.read_unaligned())).toBeNull();
  });
});

describe("pointer fragments (per-byte provenance)", () => {
  /** A slot holding a fresh boxed `u32` `v`, and the box. */
  function slotWith(v: number): [checked.Ptr<checked.Ptr<number>>, checked.Ptr<number>] {
    const target = boxed(v);
    const slot = checked.alloc(ptr(u32));
    slot.write(target);
    return [slot, target];
  }

  it("are carried by copies of parts of a pointer: two halves, or 8 one-byte copies", () => {
    const [a, target] = slotWith(3);
    const b = checked.alloc_zeroed(ptr(u32));
    checked.copy_nonoverlapping(a.cast(u32), b.cast(u32), 1);
    expect(provenanceOf(b.read())).toBeNull(); // half a pointer is no pointer
    expect(provenanceOf(b)!.frags!.size).toBe(4);
    checked.copy_nonoverlapping(a.cast(u32).add(1), b.cast(u32).add(1), 1);
    expect(provenanceOf(b.read())).toBe(provenanceOf(target));
    expect(b.read().read()).toBe(3);
    expect(provenanceOf(b)!.frags).toBeNull(); // made whole again
    const c = checked.alloc(ptr(u32));
    for (let i = 7; i >= 0; i--) checked.copy(a.cast(u8).add(i), c.cast(u8).add(i), 1);
    expect(c.read().read()).toBe(3);
  });

  it("survive a partial overwrite: copying the lost byte back restores the pointer", () => {
    const [slot, target] = slotWith(7);
    const saved = checked.alloc(ptr(u32));
    checked.copy_nonoverlapping(slot, saved, 1);
    slot.cast(u8).add(7).write(0);
    expect(provenanceOf(slot.read())).toBeNull();
    expect(provenanceOf(slot)!.frags!.size).toBe(7);
    checked.copy_nonoverlapping(saved.cast(u8).add(7), slot.cast(u8).add(7), 1);
    expect(provenanceOf(slot.read())).toBe(provenanceOf(target));
    expect(slot.read().read()).toBe(7);
  });

  it("give no pointer out of order, even of one provenance (Miri's mix-ptrs1)", () => {
    const [, target] = slotWith(5);
    const arr = checked.alloc(array(ptr(u32), 2));
    arr.index(0).write(target);
    arr.index(1).write(target);
    const shifted = checked.alloc_zeroed(array(ptr(u32), 3));
    checked.copy_nonoverlapping(arr.cast(u8), shifted.cast(u8).add(4), 16);
    // Slot 1 holds bytes 4..7 of the first pointer, then bytes 0..3 of the second.
    const strange = shifted.index(1).read();
    expect(provenanceOf(strange)).toBeNull();
    expectUB(host, () => checked.without_provenance(target.addr(), u32).read(), "no-provenance", noProvenance(target.addr()));
    // The copy shifted back lines the fragments up again.
    const back = checked.alloc_zeroed(array(ptr(u32), 2));
    checked.copy_nonoverlapping(shifted.cast(u8).add(4), back.cast(u8), 16);
    expect([back.index(0).read().read(), back.index(1).read().read()]).toEqual([5, 5]);
  });

  it("give no pointer when the bytes of two pointers are mixed", () => {
    const [a, t1] = slotWith(1);
    const [b] = slotWith(2);
    const c = checked.alloc(ptr(u32));
    checked.copy_nonoverlapping(a.cast(u8), c.cast(u8), 4);
    checked.copy_nonoverlapping(b.cast(u8).add(4), c.cast(u8).add(4), 4);
    // The two boxes lie in the same region: the upper halves of their addresses agree.
    expect(c.read().addr()).toBe(t1.addr());
    expectUB(host, () => c.read().read(), "no-provenance", noProvenance(t1.addr()));
  });

  it("read as integers give the bytes alone, and are dropped by integer writes and write_bytes", () => {
    const [a, target] = slotWith(4);
    const b = checked.alloc_zeroed(ptr(u32));
    checked.copy_nonoverlapping(a.cast(u8), b.cast(u8), 4);
    expect(b.cast(u8).read()).toBe(target.addr() & 0xff);
    b.cast(u8).add(1).write(b.cast(u8).add(1).read()); // same value, but an integer: no fragment
    checked.copy_nonoverlapping(a.cast(u8).add(4), b.cast(u8).add(4), 4);
    expect(provenanceOf(b.read())).toBeNull();
    checked.write_bytes(b.cast(u8), 0, 8);
    expect(provenanceOf(b)!.frags).toBeNull();
  });

  it("keep their allocation reachable for the leak check", () => {
    const [a, target] = slotWith(6);
    const s = host.memory.allocate(8, 8, "static", 1, false);
    const sp = new checked.Ptr(s.base, s, u8);
    checked.copy_nonoverlapping(a.cast(u8), sp, 4);
    a.write(checked.null_mut(u32));
    expect(host.memory.leaks()).not.toContain(provenanceOf(target));
  });
});

describe("wildcard pointers (ptr_from_exposed)", () => {
  it("resolve at each access to the exposed allocation holding the address", () => {
    const p = boxed(9);
    const q = boxed(10);
    const w = checked.ptr_from_exposed(p.expose_provenance(), u32);
    expect(provenanceOf(w)).toBe(WILDCARD);
    expect(w.read()).toBe(9);
    w.write(11);
    expect(p.read()).toBe(11);
    // Arithmetic keeps the wildcard; the allocation is found again at the next access.
    const wq = w.wrapping_add((q.addr() - p.addr()) / 4);
    expectUB(host, () => wq.read(), "no-provenance", noProvenance(q.addr()));
    q.expose_provenance();
    expect(wq.read()).toBe(10);
  });

  it("warn once per run, with Miri's help lines", () => {
    const p = boxed(1);
    checked.ptr_from_exposed(p.expose_provenance(), u32);
    checked.ptr_from_exposed(p.addr(), u32);
    expect(host.warnings).toHaveLength(1);
    const w = host.warnings[0]!;
    expect(w.message).toBe("integer-to-pointer cast");
    expect(w.options.label).toBe("integer-to-pointer cast");
    expect((w.options.help ?? []).map((h) => h.message)).toEqual([
      "this program is using integer-to-pointer casts or (equivalently) `ptr_from_exposed`, which means that kmiri might miss pointer bugs in this program",
      "see https://doc.rust-lang.org/nightly/std/ptr/fn.with_exposed_provenance.html for more details on that operation",
      "to ensure that kmiri does not miss bugs in your program, use Strict Provenance APIs (`with_addr`, `without_provenance`; https://doc.rust-lang.org/nightly/std/ptr/index.html#strict-provenance) instead",
      "you can then set `--strict-provenance` to ensure you are not relying on `ptr_from_exposed` semantics",
    ]);
    expect(host.reports).toEqual([]);
  });

  it("are unsupported under strict provenance", () => {
    host.checks.strictProvenance = true;
    const p = boxed(1);
    const r = expectUB(
      host,
      () => checked.ptr_from_exposed(p.expose_provenance(), u32),
      "unsupported",
      "integer-to-pointer casts and `ptr_from_exposed` are not supported with `--strict-provenance`",
    );
    expect(r.options.title).toBe("unsupported operation");
    expect(helps(r)).toEqual([
      "use Strict Provenance APIs (`with_addr`, `without_provenance`; https://doc.rust-lang.org/nightly/std/ptr/index.html#strict-provenance) instead",
    ]);
  });

  it("have no provenance for a freed allocation, one past the end, or null", () => {
    const b = checked.Box.new(u32, 1);
    const addr = b.raw.expose_provenance();
    b.drop();
    expectUB(host, () => checked.ptr_from_exposed(addr, u32).read(), "no-provenance", noProvenance(addr));
    const p = boxed(2);
    const end = p.expose_provenance() + 4;
    expectUB(host, () => checked.ptr_from_exposed(end, u32).read(), "no-provenance", noProvenance(end));
    expectUB(
      host,
      () => checked.ptr_from_exposed(0, u32).read(),
      "null-pointer",
      "memory access failed: attempting to access 4 bytes, but got null pointer",
    );
  });

  it("are checked against the allocation they resolve to", () => {
    const p = checked.alloc_zeroed(u64);
    const w = checked.ptr_from_exposed(p.expose_provenance(), u32);
    expect(w.add(1).read()).toBe(0);
    expectUB(
      host,
      () => w.add(3),
      "out-of-bounds",
      "in-bounds pointer arithmetic failed: attempting to offset pointer by 12 bytes, but got alloc1 which is only 8 bytes from the end of the allocation",
    );
    expectUB(
      host,
      () => w.byte_add(6).read_unaligned(),
      "out-of-bounds",
      "memory access failed: attempting to access 4 bytes, but got alloc1+0x6 which is only 2 bytes from the end of the allocation",
    );
    expectUB(host, () => w.byte_add(2).read(), "misaligned", "accessing memory with alignment 2, but alignment 4 is required");
    const ro = host.memory.allocate(4, 4, "static", 1, true);
    ro.writable = false;
    const r = new checked.Ptr(ro.base, ro, u32);
    const wr = checked.ptr_from_exposed(r.expose_provenance(), u32);
    expect(wr.read()).toBe(0);
    expectUB(host, () => wr.write(1), "read-only", `writing to ${ro.name} which is read-only`);
    expectUB(host, () => checked.write_bytes(wr, 1, 1), "read-only", `writing to ${ro.name} which is read-only`);
  });

  it("work with copies, dealloc, offset_from and references", () => {
    const p = checked.alloc_zeroed(array(u32, 4));
    const addr = p.expose_provenance();
    const w = checked.ptr_from_exposed(addr, u32);
    w.add(1).write(5);
    checked.copy(w.add(1), w.add(2), 1);
    expect(p.cast(u32).add(2).read()).toBe(5);
    expect(w.add(3).offset_from(p.cast(u32))).toBe(3);
    const r = w.add(2).as_ref();
    expect(provenanceOf(refPtr(r))).toBe(provenanceOf(p));
    expect(r.read()).toBe(5);
    checked.dealloc(checked.ptr_from_exposed(addr, array(u32, 4)), array(u32, 4));
    expect(provenanceOf(p)!.live).toBe(false);
  });

  it("round-trip through memory as wildcards", () => {
    const p = boxed(6);
    const slot = checked.alloc(ptr(u32));
    slot.write(checked.ptr_from_exposed(p.expose_provenance(), u32));
    const back = slot.read();
    expect(provenanceOf(back)).toBe(WILDCARD);
    expect(back.read()).toBe(6);
  });

  it("expose nothing themselves; without_provenance never dereferences", () => {
    const p = boxed(6);
    const w = checked.ptr_from_exposed(p.addr(), u32);
    w.expose_provenance();
    expect(WILDCARD.exposed).toBe(false);
    expect(provenanceOf(p)!.exposed).toBe(false);
    p.expose_provenance();
    expectUB(host, () => checked.without_provenance(p.addr(), u32).read(), "no-provenance", noProvenance(p.addr()));
  });
});

describe("leaks and statics", () => {
  /** A static slot holding pointer `p`. */
  function staticHolding<T>(layout: Layout<checked.Ptr<T>>, p: checked.Ptr<T>): void {
    const a = host.memory.allocate(8, 8, "static", 1, false);
    new checked.Ptr(a.base, a, layout).write(p);
  }

  it("memory reachable from a static through stored pointers is no leak", () => {
    type NodeV = { next: checked.Ptr<NodeV>; v: number };
    const Node: Layout<NodeV> = struct("Node", { next: ptr(() => Node), v: u32 });
    let head = checked.null_mut(Node);
    for (let i = 0; i < 3; i++) {
      const n = checked.Box.into_raw(checked.Box.new(Node, { next: head, v: i }));
      head = n;
    }
    staticHolding(ptr(Node), head);
    const lost = boxed(5);
    expect(host.memory.leaks().map((a) => a.id)).toEqual([provenanceOf(lost)!.id]);
  });

  it("an unreachable cycle leaks, and so does a Box::leak no static reaches", () => {
    type NodeV = { next: checked.Ptr<NodeV>; v: number };
    const Node: Layout<NodeV> = struct("Node", { next: ptr(() => Node), v: u32 });
    const a = checked.alloc(Node);
    const b = checked.alloc(Node);
    a.write({ next: b, v: 1 });
    b.write({ next: a, v: 2 });
    const leaked = checked.Box.leak(checked.Box.new(u32, 3));
    expect(host.memory.leaks().map((x) => x.id)).toEqual([provenanceOf(a)!.id, provenanceOf(b)!.id, provenanceOf(refPtr(leaked))!.id]);
  });

  it("a pointer overwritten in the static no longer keeps its target alive", () => {
    const target = boxed(1);
    const a = host.memory.allocate(8, 8, "static", 1, false);
    const slot = new checked.Ptr(a.base, a, ptr(u32));
    slot.write(target);
    expect(host.memory.leaks()).toEqual([]);
    // One byte overwritten: the other 7 are fragments of the pointer, which still reach it (Miri's
    // leak check follows fragments too); all 8 overwritten, nothing does.
    slot.cast(u8).write(0);
    expect(host.memory.leaks()).toEqual([]);
    slot.cast(usize).write(0);
    expect(host.memory.leaks()).toEqual([provenanceOf(target)]);
  });
});
